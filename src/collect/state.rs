//! What one collection has gathered so far: the snapshot being written, the manifest's
//! scopes, and the progress reported (shared by the concurrent requests behind one lock held
//! only to record).

use crate::collect::http::Client;
use crate::collect::manifest::{Asked, FORMAT, Identity, Manifest, PartError, Requests, Scope};
use crate::collect::snapshot::Snapshot;
use crate::collect::{CollectError, Collected, Progress};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The shared state of a collection.
pub struct State {
    inner: Mutex<Inner>,
    progress: Box<dyn Fn(&Progress) + Send + Sync>,
    cancel: Arc<AtomicBool>,
}

struct Inner {
    snapshot: Snapshot,
    scopes: BTreeMap<String, Scope>,
    write_error: Option<String>,
    progress: Progress,
}

/// What a finished collection hands back.
pub struct Gathered {
    /// The snapshot, to finish.
    pub snapshot: Snapshot,
    /// The manifest's scopes.
    pub scopes: BTreeMap<String, Scope>,
    /// The first file that could not be written.
    pub write_error: Option<String>,
}

impl State {
    /// A collection into `snapshot`.
    pub fn new(snapshot: Snapshot, progress: Box<dyn Fn(&Progress) + Send + Sync>, cancel: Arc<AtomicBool>) -> State {
        State {
            inner: Mutex::new(Inner {
                snapshot,
                scopes: BTreeMap::new(),
                write_error: None,
                progress: Progress::default(),
            }),
            progress,
            cancel,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while recording cannot leave the counts half-updated in a way that matters.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the run was cancelled (or a file could not be written: going on is pointless).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.lock().write_error.is_some()
    }

    fn report(&self, inner: &Inner) {
        (self.progress)(&inner.progress);
    }

    /// Make sure `id` is a scope of the manifest, with its name.
    pub fn scope(&self, id: &str, name: Option<String>) {
        let mut g = self.lock();
        let s = g.scopes.entry(id.to_string()).or_default();
        if name.is_some() {
            s.name = name;
        }
    }

    /// Scopes (subscriptions, accounts, projects) to go through.
    pub fn set_total(&self, total: u64) {
        let mut g = self.lock();
        g.progress.scopes_total = total;
        self.report(&g);
    }

    /// One more scope fully collected.
    pub fn scope_done(&self) {
        let mut g = self.lock();
        g.progress.scopes_done += 1;
        self.report(&g);
    }

    /// The data set now being asked for.
    pub fn in_flight(&self, dataset: &str) {
        let mut g = self.lock();
        if g.progress.dataset != dataset {
            g.progress.dataset = dataset.to_string();
            self.report(&g);
        }
    }

    /// `n` more rows or objects fetched.
    pub fn add_rows(&self, n: u64) {
        let mut g = self.lock();
        g.progress.rows += n;
        self.report(&g);
    }

    /// One row of `dataset` in `scope`.
    pub fn count_row(&self, scope: &str, dataset: &str) {
        self.lock().scopes.entry(scope.to_string()).or_default().dataset(dataset).rows += 1;
    }

    /// `n` objects of `dataset` in `scope`, and the pages they came in.
    pub fn count(&self, scope: &str, dataset: &str, rows: u64, pages: u64) {
        let mut g = self.lock();
        let d = g.scopes.entry(scope.to_string()).or_default().dataset(dataset);
        d.rows += rows;
        d.pages += pages;
    }

    /// One page of `dataset` read for each of `scopes` (a query over a batch).
    pub fn count_page(&self, scopes: &[String], dataset: &str) {
        let mut g = self.lock();
        for s in scopes {
            g.scopes.entry(s.clone()).or_default().dataset(dataset).pages += 1;
        }
    }

    /// `dataset` failed in `scope`.
    pub fn fail(&self, scope: &str, dataset: &str, error: PartError, permission: Option<String>) {
        self.lock().scopes.entry(scope.to_string()).or_default().dataset(dataset).fail(error, permission);
    }

    /// `dataset` failed for a batch of subscriptions (or the whole scope when `None`).
    pub fn fail_batch(&self, dataset: &str, batch: Option<&[String]>, error: PartError, permission: Option<String>) {
        match batch {
            Some(subs) => {
                for s in subs {
                    self.fail(s, dataset, error.clone(), permission.clone());
                }
            }
            None => self.fail("tenant", dataset, error, permission),
        }
    }

    /// Write a file of the snapshot; the first failure stops the collection.
    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let mut g = self.lock();
        if g.write_error.is_some() {
            return;
        }
        if let Err(e) = g.snapshot.write(rel, bytes) {
            g.write_error = Some(e);
        }
    }

    /// What was gathered.
    pub fn into_gathered(self) -> Gathered {
        let inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        Gathered { snapshot: inner.snapshot, scopes: inner.scopes, write_error: inner.write_error }
    }
}

/// What a manifest says beside the scopes gathered.
pub struct Summary {
    /// `azure`, `aws`, `gcp`.
    pub cloud: &'static str,
    /// When collection began.
    pub started: chrono::DateTime<chrono::Utc>,
    /// What was asked.
    pub asked: Asked,
    /// Who asked.
    pub identity: Identity,
}

/// Write the manifest of what `state` gathered (with `client`'s request counts) and move the
/// snapshot into place.
pub fn finish(state: Arc<State>, client: &Client, summary: Summary) -> Result<Collected, CollectError> {
    let Ok(state) = Arc::try_unwrap(state) else {
        return Err(CollectError::Write("a request outlived the collection".into()));
    };
    let gathered = state.into_gathered();
    if let Some(e) = gathered.write_error {
        return Err(CollectError::Write(e));
    }
    let c = &client.counters;
    let mut manifest = Manifest {
        format: FORMAT.into(),
        cloud: summary.cloud.into(),
        started_at: summary.started.to_rfc3339(),
        finished_at: chrono::Utc::now().to_rfc3339(),
        status: Default::default(),
        asked: summary.asked,
        identity: summary.identity,
        scopes: gathered.scopes,
        files: gathered.snapshot.files(),
        requests: Requests {
            sent: c.sent.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            quota_pauses: c.quota_pauses.load(Ordering::Relaxed),
        },
    };
    manifest.settle();
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| CollectError::Write(e.to_string()))?;
    let path = gathered.snapshot.finish(&bytes).map_err(CollectError::Write)?;
    Ok(Collected { path, manifest })
}
