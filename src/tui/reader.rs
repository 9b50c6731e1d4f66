//! The console's only connection to the cache: a thread that answers the UI's requests, so
//! drawing and key handling never wait for SQLite. Requests are tagged with a generation;
//! when several of one kind queue up, only the latest is answered (latest wins), and the UI
//! drops an answer older than its latest request of that kind.

use crate::catalog::Catalog;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};

mod messages;
mod scoped;
mod serve;
pub use messages::*;
use serve::Serve;

/// Findings of one resource read for its detail.
const RESOURCE_FINDINGS: u64 = 500;

/// Called after each answer is sent (wakes the event loop).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A pause of the reader (tests): while the gate is shut, nothing is served.
#[derive(Default)]
struct Gate {
    shut: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait_open(&self) {
        let mut shut = self.shut.lock().unwrap_or_else(|p| p.into_inner());
        while *shut {
            shut = self.opened.wait(shut).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn set(&self, closed: bool) {
        *self.shut.lock().unwrap_or_else(|p| p.into_inner()) = closed;
        self.opened.notify_all();
    }
}

/// The UI's end of the reader.
pub struct Reader {
    requests: Sender<(u64, Request)>,
    answers: Receiver<Tagged>,
    /// Latest generation sent, per kind.
    latest: [u64; Kind::ALL.len()],
    /// Latest generation answered, per kind.
    answered: [u64; Kind::ALL.len()],
    /// Requests sent, per kind (what tests count).
    sent: [u64; Kind::ALL.len()],
    generation: u64,
    path: PathBuf,
    gate: Arc<Gate>,
    /// Generation of the latest count sent: a count being served stops when it is newer.
    latest_count: Arc<AtomicU64>,
}

/// While alive, the reader serves nothing (tests: what the UI shows before an answer).
pub struct Hold(Arc<Gate>);

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl Reader {
    /// Start the reader thread on `store` (its connection from now on).
    pub fn spawn(store: Store, catalog: Arc<Catalog>, waker: Option<Waker>) -> Reader {
        let (rtx, rrx) = channel::<(u64, Request)>();
        let (atx, arx) = channel::<Tagged>();
        let path = store.path().to_path_buf();
        let gate = Arc::new(Gate::default());
        let thread_gate = Arc::clone(&gate);
        let latest_count = Arc::new(AtomicU64::new(0));
        let counts = Arc::clone(&latest_count);
        let spawned = std::thread::Builder::new().name("posture-reader".into()).spawn(move || {
            let mut serve = Serve { store, catalog, latest_count: counts };
            while let Ok(first) = rrx.recv() {
                thread_gate.wait_open();
                let mut batch = vec![first];
                batch.extend(rrx.try_iter());
                for (generation, request) in latest_of_each(batch) {
                    // A count stopped by a newer one has no answer: the newer one's comes.
                    let Some(answer) = serve.answer(generation, request) else {
                        continue;
                    };
                    if atx.send(Tagged { generation, answer }).is_err() {
                        return;
                    }
                    if let Some(w) = &waker {
                        w();
                    }
                }
            }
        });
        // When the thread cannot start, its receiver is gone with it: every `send` then
        // fails, and the UI says the cache cannot be read.
        drop(spawned);
        Reader {
            requests: rtx,
            answers: arx,
            latest: [0; Kind::ALL.len()],
            answered: [0; Kind::ALL.len()],
            sent: [0; Kind::ALL.len()],
            generation: 0,
            path,
            gate,
            latest_count,
        }
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send a request; false when the reader has stopped.
    pub fn send(&mut self, request: Request) -> bool {
        self.generation += 1;
        let k = request.kind().index();
        self.latest[k] = self.generation;
        self.sent[k] += 1;
        if request.kind() == Kind::Count {
            self.latest_count.store(self.generation, Ordering::Relaxed);
        }
        self.requests.send((self.generation, request)).is_ok()
    }

    /// Whether a request of `kind` awaits its answer.
    pub fn pending(&self, kind: Kind) -> bool {
        self.answered[kind.index()] < self.latest[kind.index()]
    }

    /// Whether any request awaits its answer.
    pub fn busy(&self) -> bool {
        Kind::ALL.iter().any(|k| self.pending(*k))
    }

    /// Requests of `kind` sent so far.
    pub fn sent(&self, kind: Kind) -> u64 {
        self.sent[kind.index()]
    }

    /// The next current answer already there, dropping stale ones.
    pub fn try_next(&mut self) -> Option<Answer> {
        while let Ok(t) = self.answers.try_recv() {
            if let Some(a) = self.accept(t) {
                return Some(a);
            }
        }
        None
    }

    /// Wait for the next current answer; None when nothing is pending or the reader stopped.
    pub fn next_blocking(&mut self) -> Option<Answer> {
        while self.busy() {
            let t = self.answers.recv().ok()?;
            if let Some(a) = self.accept(t) {
                return Some(a);
            }
        }
        None
    }

    /// Pause serving until the returned guard is dropped (tests).
    pub fn hold(&self) -> Hold {
        self.gate.set(true);
        Hold(Arc::clone(&self.gate))
    }

    fn accept(&mut self, t: Tagged) -> Option<Answer> {
        let kind = t.answer.kind();
        let k = kind.index();
        // An answer settles every request of its kind before it: the reader drops superseded
        // requests without answering them.
        self.answered[k] = self.answered[k].max(t.generation);
        // One served before a newer request came is stale (a save never is).
        let stale = kind.latest_wins() && t.generation < self.latest[k];
        (!stale).then_some(t.answer)
    }
}

/// Keep the latest request of each superseding kind and every save and catalog, in serving
/// order.
fn latest_of_each(batch: Vec<(u64, Request)>) -> Vec<(u64, Request)> {
    let mut keep: Vec<(u64, Request)> = Vec::new();
    for (g, r) in batch {
        let k = r.kind();
        if k.latest_wins()
            && let Some(slot) = keep.iter_mut().find(|(_, x)| x.kind() == k)
        {
            *slot = (g, r);
            continue;
        }
        keep.push((g, r));
    }
    keep.sort_by_key(|(g, r)| (r.kind().index(), *g));
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(run: i64) -> Request {
        Request::Load { run: Some(run) }
    }

    #[test]
    fn a_batch_keeps_the_latest_of_each_kind_and_every_save() {
        let catalog = Arc::new(Catalog::default());
        let batch = vec![
            (1, load(1)),
            (2, Request::Trends { up_to: 1 }),
            (3, load(2)),
            (4, Request::Catalog(Arc::clone(&catalog))),
            (5, load(3)),
            (6, Request::Catalog(catalog)),
        ];
        let kept: Vec<(u64, Kind)> = latest_of_each(batch).into_iter().map(|(g, r)| (g, r.kind())).collect();
        assert_eq!(kept, vec![(4, Kind::Catalog), (6, Kind::Catalog), (5, Kind::Load), (2, Kind::Trends)]);
    }

    #[test]
    fn stale_answers_are_dropped_and_settle_the_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let mut r = Reader::spawn(store, Arc::new(Catalog::default()), None);
        let hold = r.hold();
        for up_to in [1, 2, 3] {
            r.send(Request::Trends { up_to });
        }
        assert!(r.pending(Kind::Trends) && r.try_next().is_none());
        drop(hold);
        let mut seen = Vec::new();
        while let Some(a) = r.next_blocking() {
            if let Answer::Trends(t) = a {
                seen.push(t.map(|t| t.runs.len()));
            }
        }
        // Only the latest is shown, however many the reader served.
        assert_eq!(seen, vec![Ok(0)]);
        assert!(!r.busy());
        assert_eq!(r.sent(Kind::Trends), 3);
    }
}
