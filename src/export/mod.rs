//! Continuous export and workflow triggers: after every completed run, the run summary and its
//! events go to the `[[export]]` destinations, and the events a `[[trigger]]` asks for to its
//! webhook or command. Every delivery is spooled in the cache first, so a failing destination
//! never fails the run and never loses an event: it is retried at the next run.

pub mod config;
pub mod deliver;
pub mod events;
pub mod payload;

use crate::catalog::Catalog;
use crate::store::{Store, StoreError};
use config::{DEFAULT_WITHIN, Destination, Target};
use deliver::Which;
use events::{CatalogIndex, Event};
use payload::Payload;
use std::sync::Arc;
use std::time::Duration;

/// Where delivery errors are told (stderr for the CLI, the console's error log for the worker).
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// How the run's caller waits for deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The CLI: files are written before returning; webhooks and commands are given at most
    /// twice their delivery budget (two minutes at most), then left in the spool.
    Bounded,
    /// The console's worker: the run's events are spooled, then every delivery happens on a
    /// thread of its own.
    Background,
}

/// The configured destinations, ready to receive runs.
#[derive(Clone)]
pub struct Exporter {
    plan: Arc<Vec<Destination>>,
    mode: Mode,
    log: Log,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").field("plan", &self.plan).field("mode", &self.mode).finish()
    }
}

/// Longest the CLI waits for webhooks and commands after a run.
const MAX_WAIT: Duration = Duration::from_secs(120);

impl Exporter {
    /// The exporter of `cfg`, or None when it configures no export or trigger.
    pub fn new(cfg: &crate::config::Config, mode: Mode, log: Log) -> Result<Option<Exporter>, String> {
        let plan = config::plan(&cfg.export, &cfg.trigger, std::path::Path::new("config"), None)?;
        Ok((!plan.is_empty()).then(|| Exporter { plan: Arc::new(plan), mode, log }))
    }

    /// The destinations.
    pub fn destinations(&self) -> &[Destination] {
        &self.plan
    }

    /// Export run `run_id` (just stored in `store`) and retry what is spooled. Never fails:
    /// errors go to the log and the deliveries stay in the spool.
    pub fn after_run(&self, store: &mut Store, catalog: &Catalog, run_id: i64, selected: &[String]) {
        let idx = CatalogIndex::new(catalog, selected);
        let log = Arc::clone(&self.log);
        let plan = Arc::clone(&self.plan);
        let db = store.path().to_path_buf();
        // Spooled here, before the caller hears the run is done: an exit right after cannot
        // lose the run's events. This is database work only (the diff of the two runs).
        spool_run(store, &plan, &idx, run_id, &*log);
        match self.mode {
            Mode::Background => {
                let spawned =
                    std::thread::Builder::new().name("posture-export".into()).spawn(move || match Store::open(&db) {
                        Ok(mut s) => deliver::deliver_pending(&mut s, &plan, Which::All, &*log),
                        Err(e) => log(format!("opening the cache for exports: {e}")),
                    });
                if let Err(e) = spawned {
                    self.log.as_ref()(format!("cannot start the export thread: {e}"));
                }
            }
            Mode::Bounded => {
                deliver::deliver_pending(store, &plan, Which::Local, &*log);
                let budget = plan.iter().filter(|d| !d.is_local()).map(|d| d.delivery.budget()).max();
                let Some(budget) = budget else { return };
                let (tx, rx) = std::sync::mpsc::channel();
                let thread_log = Arc::clone(&log);
                let spawned = std::thread::Builder::new().name("posture-export".into()).spawn(move || {
                    match Store::open(&db) {
                        Ok(mut s) => deliver::deliver_pending(&mut s, &plan, Which::Remote, &*thread_log),
                        Err(e) => thread_log(format!("opening the cache for exports: {e}")),
                    }
                    let _ = tx.send(());
                });
                let wait = budget.saturating_mul(2).min(MAX_WAIT);
                if spawned.is_err() || rx.recv_timeout(wait).is_err() {
                    log(format!(
                        "deliveries not finished within {}; they stay in the spool for the next run",
                        humantime::format_duration(wait)
                    ));
                }
            }
        }
    }
}

/// Compute the events of `run_id` and spool one delivery per destination that receives any.
fn spool_run(store: &mut Store, plan: &[Destination], idx: &CatalogIndex, run_id: i64, log: &dyn Fn(String)) {
    if let Err(e) = try_spool_run(store, plan, idx, run_id) {
        log(format!("run {run_id} could not be exported: {e}"));
    }
}

fn try_spool_run(store: &mut Store, plan: &[Destination], idx: &CatalogIndex, run_id: i64) -> Result<(), StoreError> {
    let run = store.run(run_id)?;
    if !matches!(run.status, crate::assess::RunStatus::Complete | crate::assess::RunStatus::Partial) {
        return Ok(());
    }
    let previous = store.previous_run(run_id)?;
    let mut events = match previous {
        Some(p) => events::from_diff(&store.diff(p, run_id)?, idx),
        None => Vec::new(),
    };
    let window = plan.iter().filter_map(|d| d.filter.as_ref().map(|f| f.within)).fold(DEFAULT_WITHIN, Duration::max);
    let today = chrono::DateTime::parse_from_rfc3339(run.finished_at.as_deref().unwrap_or(&run.started_at))
        .map(|d| d.date_naive())
        .unwrap_or_else(|_| chrono::Utc::now().date_naive());
    let days = (window.as_secs() / 86400) as i64;
    events.extend(events::expiring((previous, run_id), &store.attestations()?, &store.exemptions()?, today, days, idx));
    let summary = payload::summary(store, &run, previous)?;
    let pending = store.spool(true)?;
    for d in plan {
        let chosen: Vec<Event> = match &d.filter {
            Some(f) => events.iter().filter(|e| f.matches(e)).cloned().collect(),
            None => events
                .iter()
                .filter(|e| e.days_left.is_none_or(|l| l <= DEFAULT_WITHIN.as_secs() as i64 / 86400))
                .cloned()
                .collect(),
        };
        let wanted = match &d.target {
            // A trigger with nothing to say stays silent; an export always gets the summary.
            _ if d.filter.is_some() => !chosen.is_empty(),
            Target::Snapshot { dir, every } => {
                payload::snapshot_due(dir, *every, today) && !pending.iter().any(|p| p.destination == d.key)
            }
            _ => true,
        };
        if !wanted {
            continue;
        }
        let ids: Vec<String> = chosen.iter().map(|e| e.id.clone()).collect();
        let p = Payload { schema: payload::SCHEMA.into(), run: summary.clone(), events: chosen };
        let text = serde_json::to_string(&p).map_err(|e| StoreError::Corrupt(format!("export payload: {e}")))?;
        store.spool_add(&d.key, run_id, &ids, &text)?;
    }
    Ok(())
}
