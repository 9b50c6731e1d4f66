//! The background assessment worker: one tokio task owns assessment. Commands in, events out;
//! the console only sends commands and reads events and the store.

use crate::assess::Progress;
use crate::catalog::Catalog;
use crate::pipeline::run_and_store;
use crate::sources::{SourceError, SourceSpec};
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// What the worker can be asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Assess now: every standard (empty) or these.
    AssessNow {
        /// Standards to assess (empty: all).
        standards: Vec<String>,
    },
    /// Stop the current run; the previous results stay.
    Cancel,
    /// Reload standards and checks from disk.
    ReloadCatalog,
    /// Finish and exit.
    Shutdown,
}

/// A short summary of a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Run id.
    pub run_id: i64,
    /// complete | partial.
    pub status: String,
    /// Resources assessed.
    pub resources: u64,
    /// Compliance score percentage.
    pub compliance_pct: f64,
    /// Secure score percentage.
    pub secure_pct: f64,
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A run began.
    Started {
        /// Its id.
        run_id: i64,
        /// Files to read.
        files_total: u64,
    },
    /// A run advanced.
    Progress(Progress),
    /// A file could not be read.
    SourceError(SourceError),
    /// A run was stored.
    Finished(RunSummary),
    /// A run failed (cache error); previous results stay.
    Failed(String),
    /// A run was cancelled; previous results stay.
    Cancelled,
    /// The catalog was reloaded; these are its load errors.
    CatalogReloaded(Vec<String>),
}

/// How the worker is set up.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Cache file.
    pub db: PathBuf,
    /// Sources to assess.
    pub sources: Vec<SourceSpec>,
    /// Extra standards directories.
    pub standards_dirs: Vec<PathBuf>,
    /// Re-assess this often; also at start when the last complete run is older.
    pub interval: Duration,
    /// History retention.
    pub retention_days: u32,
}

/// Handles to a running worker.
pub struct Worker {
    /// Send commands here.
    pub commands: UnboundedSender<Command>,
    /// Read events here (`try_recv` from a UI loop).
    pub events: UnboundedReceiver<Event>,
    /// The task.
    pub handle: JoinHandle<()>,
}

/// Start the worker on the current tokio runtime.
pub fn spawn(cfg: WorkerConfig) -> Worker {
    let (ctx, crx) = unbounded_channel();
    let (etx, erx) = unbounded_channel();
    let handle = tokio::spawn(run(cfg, crx, etx));
    Worker { commands: ctx, events: erx, handle }
}

struct Job {
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

fn due_at_start(cfg: &WorkerConfig) -> bool {
    let Ok(store) = Store::open(&cfg.db) else {
        return true;
    };
    match store.latest_run() {
        Ok(Some(run)) if run.status == "complete" => {
            let at = chrono::DateTime::parse_from_rfc3339(run.finished_at.as_deref().unwrap_or(&run.started_at));
            match at {
                Ok(t) => {
                    chrono::Utc::now().signed_duration_since(t).to_std().map(|age| age >= cfg.interval).unwrap_or(false)
                }
                Err(_) => true,
            }
        }
        _ => true,
    }
}

async fn run(cfg: WorkerConfig, mut commands: UnboundedReceiver<Command>, events: UnboundedSender<Event>) {
    let mut catalog = Arc::new(Catalog::load_with_dirs(&cfg.standards_dirs));
    let mut job: Option<Job> = None;
    // A request during a run becomes one follow-up run (the latest request's standards).
    let mut pending: Option<Vec<String>> = if due_at_start(&cfg) { Some(Vec::new()) } else { None };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + cfg.interval, cfg.interval);
    let (done_tx, mut done_rx) = unbounded_channel::<()>();
    loop {
        if job.is_none()
            && let Some(standards) = pending.take()
        {
            job = Some(start(&cfg, Arc::clone(&catalog), standards, events.clone(), done_tx.clone()));
        }
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(Command::AssessNow { standards }) => pending = Some(standards),
                Some(Command::Cancel) => {
                    pending = None;
                    if let Some(j) = &job {
                        j.cancel.store(true, Ordering::Relaxed);
                    }
                }
                Some(Command::ReloadCatalog) => {
                    let dirs = cfg.standards_dirs.clone();
                    let loaded = tokio::task::spawn_blocking(move || Catalog::load_with_dirs(&dirs)).await;
                    if let Ok(c) = loaded {
                        let errors = c.errors.iter().map(|e| e.to_string()).collect();
                        catalog = Arc::new(c);
                        let _ = events.send(Event::CatalogReloaded(errors));
                    }
                }
                Some(Command::Shutdown) | None => {
                    if let Some(j) = job.take() {
                        j.cancel.store(true, Ordering::Relaxed);
                        let _ = j.handle.await;
                    }
                    return;
                }
            },
            _ = done_rx.recv() => {
                if let Some(j) = job.take() {
                    let _ = j.handle.await;
                }
            }
            _ = ticker.tick() => {
                if pending.is_none() {
                    pending = Some(Vec::new());
                }
            }
        }
    }
}

fn start(
    cfg: &WorkerConfig,
    catalog: Arc<Catalog>,
    standards: Vec<String>,
    events: UnboundedSender<Event>,
    done: UnboundedSender<()>,
) -> Job {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let cfg = cfg.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let send = |e: Event| {
            let _ = events.send(e);
        };
        let mut store = match Store::open(&cfg.db) {
            Ok(s) => s,
            Err(e) => {
                send(Event::Failed(e.to_string()));
                let _ = done.send(());
                return;
            }
        };
        let mut progress = |p: Progress| {
            if p.phase == "started" {
                send(Event::Started { run_id: p.run_id, files_total: p.files_total });
            } else {
                send(Event::Progress(p));
            }
        };
        match run_and_store(&mut store, &catalog, &cfg.sources, &standards, cfg.retention_days, &flag, &mut progress) {
            Ok(outcome) => {
                for report in &outcome.result.sources {
                    for e in &report.errors {
                        send(Event::SourceError(e.clone()));
                    }
                }
                if flag.load(Ordering::Relaxed) {
                    send(Event::Cancelled);
                } else {
                    send(Event::Finished(RunSummary {
                        run_id: outcome.run_id,
                        status: outcome.result.status.as_str().to_string(),
                        resources: outcome.result.resources_assessed,
                        compliance_pct: outcome.rollup.compliance.percentage,
                        secure_pct: outcome.rollup.secure.percentage,
                    }));
                }
            }
            Err(e) => send(Event::Failed(e.to_string())),
        }
        let _ = done.send(());
    });
    Job { cancel, handle }
}
