//! Delivering spooled payloads: files appended or written, webhooks POSTed (signed, with a
//! timeout and retries with backoff), commands run with a timeout. Whatever does not arrive
//! stays in the spool with its error, for the next run.

use super::config::{Delivery, Destination, Target, Webhook};
use super::payload::{self, Payload};
use crate::collect::http::{Client, HttpSettings, Request};
use crate::sanitize::clean;
use crate::store::{SpoolEntry, SpoolState, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The header carrying the body's signature: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-posture-signature";

/// After this many failed attempts (one per run) a delivery is marked failed and kept.
pub const MAX_ATTEMPTS: u32 = 20;

/// Most bytes of a command's stderr kept in an error message.
const MAX_STDERR: usize = 2000;

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Which spooled deliveries to attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Files only (jsonl, snapshots).
    Local,
    /// Webhooks and commands only.
    Remote,
    /// Everything.
    All,
}

/// Attempt every pending delivery of `which` kind; `log` hears of each failure. Deliveries to a
/// destination no longer configured are marked failed (and kept).
pub fn deliver_pending(store: &mut Store, plan: &[Destination], which: Which, log: &dyn Fn(String)) {
    let pending = match store.spool(true) {
        Ok(p) => p,
        Err(e) => return log(format!("reading the export spool: {e}")),
    };
    // A destination that failed once in this pass is not tried again until the next run: its
    // later deliveries keep their order and a dead host costs one timeout, not one per run spooled.
    let mut down: Vec<&str> = Vec::new();
    for entry in pending {
        let Some(dest) = plan.iter().find(|d| d.key == entry.destination) else {
            if which != Which::Remote {
                record(store, &entry, Err(GONE.into()), log);
            }
            continue;
        };
        let selected = match which {
            Which::Local => dest.is_local(),
            Which::Remote => !dest.is_local(),
            Which::All => true,
        };
        if selected && !down.contains(&dest.key.as_str()) {
            let result = attempt(store, dest, &entry);
            if result.is_err() {
                down.push(&dest.key);
            }
            record(store, &entry, result, log);
        }
    }
}

/// Why a delivery whose destination left the config is given up on.
const GONE: &str = "its destination is no longer configured";

fn record(store: &mut Store, entry: &SpoolEntry, result: Result<(), String>, log: &dyn Fn(String)) {
    let updated = match result {
        Ok(()) => store.spool_delivered(entry.id),
        Err(e) => {
            let e = clean(&e).into_owned();
            let gone = e == GONE;
            let state =
                if gone || entry.attempts + 1 >= MAX_ATTEMPTS { SpoolState::Failed } else { SpoolState::Pending };
            let next = match state {
                SpoolState::Pending => "kept in the spool for the next run",
                SpoolState::Failed => "marked failed (see `posture exports status`)",
            };
            log(format!("{} (run {}): {e}; {next}", entry.destination, entry.run_id));
            store.spool_failed(entry.id, &e, state)
        }
    };
    if let Err(e) = updated {
        log(format!("updating the export spool: {e}"));
    }
}

fn attempt(store: &Store, dest: &Destination, entry: &SpoolEntry) -> Result<(), String> {
    let parsed = || serde_json::from_str::<Payload>(&entry.payload).map_err(|e| format!("spooled payload: {e}"));
    match &dest.target {
        Target::Jsonl(path) => payload::append_synced(path, &parsed()?.jsonl()).map_err(|e| e.to_string()),
        Target::Snapshot { dir, .. } => payload::write_snapshot(store, dir, &parsed()?).map(|_| ()),
        Target::Webhook(w) => post(w, dest.delivery, &entry.payload),
        Target::Command(argv) => run_command(argv, entry.payload.as_bytes(), dest.delivery.timeout),
        Target::CommandPerEvent(argv) => {
            for e in parsed()?.events {
                let json = serde_json::to_string(&e).map_err(|e| e.to_string())?;
                run_command(argv, json.as_bytes(), dest.delivery.timeout)
                    .map_err(|m| format!("event {}: {m}", e.id))?;
            }
            Ok(())
        }
    }
}

/// POST `body` (JSON text) to the webhook, signed when it has a secret.
fn post(w: &Webhook, d: Delivery, body: &str) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("spooled payload: {e}"))?;
    let settings = HttpSettings {
        timeout: d.timeout,
        max_retries: d.max_retries,
        retry_base: d.retry_base,
        retry_max: d.retry_base.saturating_mul(1 << d.max_retries.min(16)).min(Duration::from_secs(60)),
        max_in_flight: 1,
        ..HttpSettings::default()
    };
    let client = Client::new(settings)?;
    // Error messages name the URL: tokens some receivers put in its query or credentials stay out.
    for part in [w.url.query(), w.url.password()].into_iter().flatten() {
        client.add_secret(part);
    }
    let mut req = Request::post_json(w.url.clone(), value);
    if let Some(name) = &w.secret_env {
        let secret = std::env::var(name).map_err(|_| format!("environment variable {name} (secret_env) is not set"))?;
        client.add_secret(&secret);
        // The client sends `value.to_string()`: the same bytes are signed here.
        let sent = req.json.as_ref().map(|v| v.to_string()).unwrap_or_default();
        req.headers.push((SIGNATURE_HEADER, signature(secret.as_bytes(), sent.as_bytes())));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the HTTP runtime: {e}"))?;
    runtime.block_on(client.send(&req)).map(|_| ()).map_err(|e| client.redact(&e.to_string()))
}

/// Run `argv` with `input` on stdin; a non-zero exit, a timeout or a failure to start is an
/// error carrying the status and the start of stderr.
pub fn run_command(argv: &[String], input: &[u8], timeout: Duration) -> Result<(), String> {
    let name = argv.first().map(String::as_str).unwrap_or_default();
    let mut child = Command::new(name)
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    // Written and read on their own threads: a child that does not read its stdin, or fills
    // its stderr, cannot block posture past the timeout.
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(MAX_STDERR as u64).read_to_end(&mut kept);
            let _ = std::io::copy(s, &mut std::io::sink());
        }
        kept
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // Not joined: a grandchild may still hold the pipes open.
                return Err(format!("{name}: no exit within {}", humantime::format_duration(timeout)));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("{name}: {e}")),
        }
    };
    let _ = writer.join();
    let err = String::from_utf8_lossy(&reader.join().unwrap_or_default()).trim().to_string();
    let status = status?;
    if status.success() {
        return Ok(());
    }
    let code = status.code().map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
    Err(format!("{name} exited with {code}{}", if err.is_empty() { String::new() } else { format!(": {err}") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_dead_destination_is_tried_once_per_pass_and_a_removed_one_is_marked_failed() {
        use crate::export::config::{Delivery, Destination, Target, Webhook};
        let mut store = Store::open_in_memory().unwrap();
        // Port 1 on loopback refuses at once; the token in the query must not reach an error.
        let url = url::Url::parse("http://127.0.0.1:1/hook?token=tok-abcdefgh-123").unwrap();
        let dest = Destination {
            key: "export webhook http://127.0.0.1:1/hook".into(),
            target: Target::Webhook(Webhook { url, secret_env: None }),
            filter: None,
            delivery: Delivery {
                timeout: Duration::from_secs(5),
                max_retries: 0,
                retry_base: Duration::from_millis(1),
            },
        };
        let body = r#"{"schema":"posture.export/1","run":{"id":1},"events":[]}"#;
        store.spool_add(&dest.key, 1, &[], body).unwrap();
        store.spool_add(&dest.key, 2, &[], body).unwrap();
        store.spool_add("export jsonl /gone", 2, &[], body).unwrap();
        let logged = std::sync::Mutex::new(Vec::new());
        deliver_pending(&mut store, std::slice::from_ref(&dest), Which::All, &|m| logged.lock().unwrap().push(m));
        let rows = store.spool(false).unwrap();
        let attempts: Vec<(u32, SpoolState)> = rows.iter().map(|r| (r.attempts, r.state)).collect();
        assert_eq!(
            attempts,
            vec![(1, SpoolState::Pending), (0, SpoolState::Pending), (1, SpoolState::Failed)],
            "run 2 waits behind run 1"
        );
        let logged = logged.into_inner().unwrap().join("\n");
        assert!(logged.contains("cannot connect") && !logged.contains("tok-abcdefgh-123"), "{logged}");
        assert!(!rows[0].last_error.contains("tok-abcdefgh-123"), "{}", rows[0].last_error);
    }

    #[cfg(unix)]
    #[test]
    fn a_command_failure_carries_its_status_and_stderr() {
        let sh = |s: &str| vec!["/bin/sh".to_string(), "-c".to_string(), s.to_string()];
        assert!(run_command(&sh("cat >/dev/null"), b"{}", Duration::from_secs(30)).is_ok());
        let e = run_command(&sh("echo nope >&2; exit 3"), b"{}", Duration::from_secs(30)).unwrap_err();
        assert!(e.contains("status 3") && e.contains("nope"), "{e}");
        let e = run_command(&sh("exec sleep 30"), b"", Duration::from_millis(50)).unwrap_err();
        assert!(e.contains("no exit within"), "{e}");
        assert!(run_command(&["/definitely/not/here".to_string()], b"", Duration::from_secs(1)).is_err());
    }
}
