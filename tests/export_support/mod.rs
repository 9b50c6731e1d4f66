//! A tiny HTTP receiver on 127.0.0.1 for the export tests: it records every request and
//! answers with the statuses it is given (then 200), optionally holding each answer until
//! released.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Lowercase header names.
    pub headers: BTreeMap<String, String>,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// The receiver's handle.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    hold: Arc<(Mutex<bool>, Condvar)>,
}

impl Receiver {
    /// Answer the next requests with `statuses`, then 200.
    pub fn start(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let r = Receiver {
            url,
            got: Arc::default(),
            statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())),
            hold: Arc::new((Mutex::new(false), Condvar::new())),
        };
        let (got, statuses, hold) = (Arc::clone(&r.got), Arc::clone(&r.statuses), Arc::clone(&r.hold));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                got.lock().unwrap().push(Received { headers, body });
                let (lock, cv) = &*hold;
                let mut held = lock.lock().unwrap();
                while *held {
                    held = cv.wait(held).unwrap();
                }
                drop(held);
                let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        r
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Hold (true) or release (false) the answers.
    pub fn hold(&self, on: bool) {
        let (lock, cv) = &*self.hold;
        *lock.lock().unwrap() = on;
        cv.notify_all();
    }

    /// From now on answer with `status`, every time.
    pub fn always(&self, status: u16) {
        let mut s = self.statuses.lock().unwrap();
        s.clear();
        s.extend(std::iter::repeat_n(status, 1000));
    }
}

/// An Azure export of one storage account, with or without secure transfer.
pub fn estate(dir: &Path, https: bool) -> PathBuf {
    let p = dir.join("estate.json");
    let doc = serde_json::json!([{
        "id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stexport",
        "name": "stexport",
        "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope",
        "subscriptionId": "00000000-0000-0000-0000-000000000001",
        "resourceGroup": "rg",
        "kind": "StorageV2",
        "properties": { "supportsHttpsTrafficOnly": https, "minimumTlsVersion": "TLS1_2" }
    }]);
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}
