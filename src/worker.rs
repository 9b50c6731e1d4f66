//! The background assessment worker: one tokio task owns assessment. Commands in, events out;
//! the console only sends commands and reads events and the store.

use crate::assess::Progress;
use crate::catalog::Catalog;
use crate::pipeline::{Outcome, Run, run_and_store_with};
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
    /// Complete or partial (a failed or cancelled run is no summary).
    pub status: crate::assess::RunStatus,
    /// Resources assessed.
    pub resources: u64,
    /// Compliance score percentage.
    pub compliance_pct: f64,
    /// Secure score percentage.
    pub secure_pct: f64,
}

/// The catalog the worker assesses with, shared with the console (one load, one CEL
/// compilation). Two are equal when they are the same catalog.
#[derive(Debug, Clone)]
pub struct SharedCatalog(pub Arc<Catalog>);

impl PartialEq for SharedCatalog {
    fn eq(&self, other: &SharedCatalog) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
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
    /// A live source's collection advanced (before the run reads its snapshot).
    Collecting(crate::collect::Progress),
    /// Files that could not be read, grouped by kind (one event per run with any).
    SourceErrors(Vec<crate::sources::notices::NoticeGroup>),
    /// A run was stored.
    Finished(RunSummary),
    /// A run failed (cache error); previous results stay.
    Failed(String),
    /// A run was cancelled; previous results stay.
    Cancelled,
    /// The catalog was reloaded: the next runs use it.
    CatalogReloaded {
        /// The new catalog.
        catalog: SharedCatalog,
        /// Its load errors.
        errors: Vec<String>,
    },
    /// An export or trigger could not deliver (the delivery stays in the spool).
    ExportError(String),
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
    /// Caps on one string and one record of the sources.
    pub limits: crate::sources::Limits,
    /// The budget of each condition's evaluation.
    pub budget: crate::policy::Budget,
    /// Live sources, collected before each run (none: files only).
    pub live: crate::pipeline::LiveSettings,
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

/// Start the worker on the current tokio runtime, with the catalog of its standards dirs.
pub fn spawn(cfg: WorkerConfig) -> Worker {
    let catalog = Arc::new(Catalog::load_with_dirs(&cfg.standards_dirs));
    spawn_sharing(cfg, catalog)
}

/// Start the worker assessing with `catalog` (the console's own: loaded and compiled once)
/// until it is told to reload it.
pub fn spawn_sharing(cfg: WorkerConfig, catalog: Arc<Catalog>) -> Worker {
    spawn_with(cfg, catalog, assess_and_store)
}

/// What one run does: collect the live sources, assess, store the run (a seam for tests).
type Runner = fn(&WorkerConfig, &Catalog, &[String], &Arc<AtomicBool>, &Reporter) -> Result<Outcome, String>;

/// Where a run's progress goes.
struct Reporter {
    events: UnboundedSender<Event>,
}

impl Reporter {
    fn send(&self, e: Event) {
        let _ = self.events.send(e);
    }
}

fn assess_and_store(
    cfg: &WorkerConfig,
    catalog: &Catalog,
    standards: &[String],
    cancel: &Arc<AtomicBool>,
    reporter: &Reporter,
) -> Result<Outcome, String> {
    let mut store = Store::open(&cfg.db).map_err(|e| e.to_string())?;
    let events = reporter.events.clone();
    let log: crate::export::Log = Arc::new(move |m: String| {
        let _ = events.send(Event::ExportError(crate::sanitize::clean(&m).into_owned()));
    });
    let exporter = crate::export::Exporter::new(&cfg.live.config, crate::export::Mode::Background, log)?;
    let run = Run {
        specs: &cfg.sources,
        standards,
        retention_days: cfg.retention_days,
        limits: cfg.limits,
        budget: cfg.budget,
        exports: exporter.as_ref(),
    };
    let mut progress = |p: Progress| {
        if p.phase == crate::assess::Phase::Started {
            reporter.send(Event::Started { run_id: p.run_id, files_total: p.files_total });
        } else {
            reporter.send(Event::Progress(p));
        }
    };
    if cfg.live.sources.is_empty() {
        return run_and_store_with(&mut store, catalog, &run, cancel, &mut progress).map_err(|e| e.to_string());
    }
    let events = reporter.events.clone();
    let collecting: crate::pipeline::CollectProgress = Arc::new(move |p: &crate::collect::Progress| {
        let _ = events.send(Event::Collecting(p.clone()));
    });
    crate::pipeline::collect_and_store(&mut store, catalog, &run, &cfg.live, cancel, &collecting, &mut progress)
        .map_err(|e| e.to_string())
}

fn spawn_with(cfg: WorkerConfig, catalog: Arc<Catalog>, runner: Runner) -> Worker {
    let (ctx, crx) = unbounded_channel();
    let (etx, erx) = unbounded_channel();
    let handle = tokio::spawn(run(cfg, catalog, runner, crx, etx));
    Worker { commands: ctx, events: erx, handle }
}

struct Job {
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Tells the worker loop a job ended, however it ended: dropped on return and while a panic
/// unwinds, so a panicked run never leaves the job flagged as running.
struct DoneOnDrop(UnboundedSender<()>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// The text of a panic payload.
fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into()),
        Err(e) => e.to_string(),
    }
}

fn due_at_start(cfg: &WorkerConfig) -> bool {
    let Ok(store) = Store::open(&cfg.db) else {
        return true;
    };
    match store.latest_run() {
        Ok(Some(run)) if run.status == crate::assess::RunStatus::Complete => {
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

async fn run(
    cfg: WorkerConfig,
    mut catalog: Arc<Catalog>,
    runner: Runner,
    mut commands: UnboundedReceiver<Command>,
    events: UnboundedSender<Event>,
) {
    let mut job: Option<Job> = None;
    // A request during a run becomes one follow-up run (the latest request's standards).
    let mut pending: Option<Vec<String>> = if due_at_start(&cfg) { Some(Vec::new()) } else { None };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + cfg.interval, cfg.interval);
    let (done_tx, mut done_rx) = unbounded_channel::<()>();
    loop {
        if job.is_none()
            && let Some(standards) = pending.take()
        {
            job = Some(start(&cfg, runner, Arc::clone(&catalog), standards, events.clone(), done_tx.clone()));
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
                    let snapshot = crate::catalog::snapshot_path(&cfg.db);
                    let loaded = tokio::task::spawn_blocking(move || Catalog::load_with_snapshot(&dirs, &snapshot)).await;
                    if let Ok(c) = loaded {
                        let errors = c.errors.iter().map(|e| e.to_string()).collect();
                        catalog = Arc::new(c);
                        let shared = SharedCatalog(Arc::clone(&catalog));
                        let _ = events.send(Event::CatalogReloaded { catalog: shared, errors });
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
                if let Some(j) = job.take()
                    && let Err(e) = j.handle.await
                {
                    // The previous results stay; the worker goes on and takes the next request.
                    let _ = events.send(Event::Failed(format!("the run stopped on an internal error: {}", panic_text(e))));
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
    runner: Runner,
    catalog: Arc<Catalog>,
    standards: Vec<String>,
    events: UnboundedSender<Event>,
    done: UnboundedSender<()>,
) -> Job {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let cfg = cfg.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let _done = DoneOnDrop(done);
        let reporter = Reporter { events };
        let send = |e: Event| reporter.send(e);
        match runner(&cfg, &catalog, &standards, &flag, &reporter) {
            Ok(outcome) => {
                let errors: Vec<SourceError> =
                    outcome.result.sources.iter().flat_map(|r| r.errors.iter().cloned()).collect();
                if !errors.is_empty() {
                    send(Event::SourceErrors(crate::sources::notices::group(&errors)));
                }
                if flag.load(Ordering::Relaxed) {
                    send(Event::Cancelled);
                } else if outcome.result.status == crate::assess::RunStatus::Failed {
                    // Nothing was stored: the last good results stay on screen.
                    let sources: Vec<&str> = outcome.result.sources.iter().map(|r| r.source.as_str()).collect();
                    send(Event::Failed(format!(
                        "nothing could be read from {}; no run was stored",
                        sources.join(", ")
                    )));
                } else {
                    send(Event::Finished(RunSummary {
                        run_id: outcome.run_id,
                        status: outcome.result.status,
                        resources: outcome.result.resources_assessed,
                        compliance_pct: outcome.rollup.compliance.percentage,
                        secure_pct: outcome.rollup.secure.percentage,
                    }));
                }
            }
            Err(e) => send(Event::Failed(e)),
        }
    });
    Job { cancel, handle }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    /// Panics on its first call, fails cleanly on the next.
    fn flaky(
        _: &WorkerConfig,
        _: &Catalog,
        _: &[String],
        _: &Arc<AtomicBool>,
        _: &Reporter,
    ) -> Result<Outcome, String> {
        if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("boom in a source");
        }
        Err("second run reached".into())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicked_run_is_reported_and_the_worker_takes_the_next_request() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = WorkerConfig {
            db: dir.path().join("c.db"),
            sources: vec![SourceSpec::Demo],
            standards_dirs: vec![],
            interval: Duration::from_secs(3600),
            retention_days: 90,
            limits: Default::default(),
            budget: Default::default(),
            live: Default::default(),
        };
        let mut w = spawn_with(cfg, Arc::new(Catalog::default()), flaky);
        let next = async |w: &mut Worker| {
            loop {
                match tokio::time::timeout(Duration::from_secs(60), w.events.recv()).await {
                    Ok(Some(Event::Failed(m))) => return m,
                    Ok(Some(_)) => {}
                    other => panic!("no failure event: {other:?}"),
                }
            }
        };
        // The run at start (empty cache) panics: a failure, not a job flagged forever.
        let first = next(&mut w).await;
        assert!(first.contains("internal error") && first.contains("boom in a source"), "{first}");
        w.commands.send(Command::AssessNow { standards: vec![] }).expect("worker alive");
        assert_eq!(next(&mut w).await, "second run reached");
        w.commands.send(Command::Shutdown).expect("worker alive");
        w.handle.await.expect("worker ends");
    }
}
