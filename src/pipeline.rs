//! One assessment from sources to the store, shared by `posture assess` and the worker; and
//! the live rollup of a stored run with the attestations on record now.

use crate::assess::{Assessor, Phase, Progress, Rollup, RollupInput, RunResult, RunStatus, rollup};
use crate::catalog::Catalog;
use crate::policy::Budget;
use crate::sources::{Limits, SourceSpec};
use crate::store::{RunInfo, Store, StoreError};
use chrono::Utc;
use std::sync::atomic::{AtomicBool, Ordering};

mod live;
pub use live::{CollectProgress, LiveRunError, LiveSettings, collect_all, collect_and_store, remove_unreferenced};

/// A stored run and what it produced.
#[derive(Debug)]
pub struct Outcome {
    /// The run id in the cache.
    pub run_id: i64,
    /// Counts and source reports (findings are in the store, not here).
    pub result: RunResult,
    /// The rollup stored with it.
    pub rollup: Rollup,
}

/// Assess `specs` against `standards` (empty: all) and store the run atomically, reading
/// within the default [`Limits`]. A cancelled run, or one where every source failed (status
/// `Failed`), leaves the cache as it was.
pub fn run_and_store(
    store: &mut Store,
    catalog: &Catalog,
    specs: &[SourceSpec],
    standards: &[String],
    retention_days: u32,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, StoreError> {
    run_and_store_with(store, catalog, &Run::new(specs, standards, retention_days), cancel, progress)
}

/// What to assess, and how.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The sources.
    pub specs: &'a [SourceSpec],
    /// Selected standards (empty: all).
    pub standards: &'a [String],
    /// Days of runs kept.
    pub retention_days: u32,
    /// Caps on one string and one record of the sources.
    pub limits: Limits,
    /// The budget of each condition's evaluation.
    pub budget: Budget,
    /// Where the stored run is exported (None: nowhere); never fails or blocks the run.
    pub exports: Option<&'a crate::export::Exporter>,
}

impl<'a> Run<'a> {
    /// `specs` against `standards` (empty: all), keeping `retention_days` of runs, with the
    /// default limits and budget and no exports.
    pub fn new(specs: &'a [SourceSpec], standards: &'a [String], retention_days: u32) -> Run<'a> {
        Run { specs, standards, retention_days, limits: Limits::default(), budget: Budget::default(), exports: None }
    }
}

/// [`run_and_store`] with every setting given.
pub fn run_and_store_with(
    store: &mut Store,
    catalog: &Catalog,
    run: &Run,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, StoreError> {
    run_and_store_in(store, catalog, run, None, Utc::now(), cancel, progress)
}

/// [`run_and_store_with`] as if the clock said `now`: checks that read dates (`daysSince`)
/// judge a fixed estate the same whatever day it is assessed (the console's snapshot tests).
pub fn run_and_store_at(
    store: &mut Store,
    catalog: &Catalog,
    run: &Run,
    now: chrono::DateTime<Utc>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, StoreError> {
    run_and_store_in(store, catalog, run, None, now, cancel, progress)
}

/// Batches waiting between evaluation and the store.
const WRITE_QUEUE: usize = 2;

/// Write each batch to the unpublished run as it arrives, on the writer's own thread; on an
/// error, set `stop` (the engine then stops) and return it. A written batch goes `back` to the
/// reading thread, which allocated its documents and frees them; once reading is over, it is
/// freed on a thread of its own: the writer is the run's slowest stage, and freeing a batch's
/// parsed documents took a fifth of its time (perf, 100k).
fn write_batches(
    store: &mut Store,
    writer: &mut crate::store::RunWriter,
    batches: std::sync::mpsc::Receiver<crate::assess::BatchOutput>,
    back: std::sync::mpsc::Sender<crate::assess::BatchOutput>,
    stop: &AtomicBool,
) -> Result<(), StoreError> {
    std::thread::scope(|s| {
        // Bounded: at most this many written batches wait to be freed.
        let (done, freed) = std::sync::mpsc::sync_channel::<crate::assess::BatchOutput>(WRITE_QUEUE);
        s.spawn(move || freed.into_iter().for_each(drop));
        for batch in batches {
            if let Err(e) = store.write_batch(writer, &batch) {
                stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
            // Once reading is over nobody takes batches back: the freeing thread does (and if it
            // panicked, the batch is freed here).
            if let Err(std::sync::mpsc::SendError(batch)) = back.send(batch) {
                let _ = done.send(batch);
            }
        }
        Ok(())
    })
}

/// [`run_and_store_with`], reading and judging `batch` resources at a time when given
/// (tests: a run in many small batches stores what a run in few large ones does).
fn run_and_store_in(
    store: &mut Store,
    catalog: &Catalog,
    run: &Run,
    batch: Option<usize>,
    now: chrono::DateTime<Utc>,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, StoreError> {
    let Run { specs, standards, retention_days, limits, budget, exports } = *run;
    let exemptions = store.exemptions()?;
    let attestations = store.attestations()?;
    let assignments = store.assignments()?;
    let demo = specs.iter().all(|s| *s == SourceSpec::Demo);
    // Demo runs beside real ones would make history and diff say the estate changed.
    if demo && store.has_real_runs()? {
        return Err(StoreError::DemoIntoRealCache);
    }
    let names: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
    let mut writer = store.begin_run(&names, standards, demo, now)?;
    let run_id = writer.run_id;
    // Known before anything is counted, so a bar never runs past its end.
    let totals = crate::sources::measure(specs);
    progress(Progress::default().within(run_id, totals));
    progress(Progress { phase: Phase::Reading, ..Progress::default() }.within(run_id, totals));
    let progress = &mut |p: Progress| progress(p.within(run_id, totals));
    let assessor = Assessor::new(catalog, standards, exemptions).with_limits(limits).with_budget(budget);
    let assessor = match batch {
        Some(n) => assessor.with_batch(n),
        None => assessor,
    };
    let stop = AtomicBool::new(false);
    let (result, written) = std::thread::scope(|s| {
        // Made here, so a panic in the engine drops the sender and the writer ends.
        let (tx, rx) = std::sync::mpsc::sync_channel::<crate::assess::BatchOutput>(WRITE_QUEUE);
        // Unbounded, but never long: the reader takes what came back before each batch it
        // sends, and no more batches are in flight than the queues between the stages hold.
        let (back, returned) = std::sync::mpsc::channel();
        let writing = s.spawn(|| write_batches(store, &mut writer, rx, back, &stop));
        // A send fails only once the writer has stopped on an error, which it returns below.
        let mut sink = |batch| {
            let _ = tx.send(batch);
        };
        let combined = CombinedCancel { a: cancel, b: &stop };
        let result = combined.run(|flag| {
            let sink = crate::assess::Sink { write: &mut sink, back: Some(returned) };
            assessor.run_with(specs, now, flag, progress, Some(sink))
        });
        drop(tx);
        (result, writing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    if let Err(e) = written {
        let _ = store.abandon_run(writer.run_id);
        return Err(e);
    }
    let totals = result.check_totals();
    let rolled = rollup(
        catalog,
        standards,
        &RollupInput {
            totals: &totals,
            security: &result.security,
            clouds: &result.clouds,
            attestations: &attestations,
            assignments: &assignments,
            scopes: &result.scopes,
            now,
        },
    );
    let mut rolled = rolled;
    crate::assess::annotate(&mut rolled, &result.external);
    progress(Progress { phase: Phase::Storing, done: result.resources_seen, ..Progress::default() });
    store.finish_run(writer, &result, &rolled)?;
    if !matches!(result.status, RunStatus::Cancelled | RunStatus::Failed) {
        store.prune(retention_days, now)?;
        if let Some(x) = exports {
            x.after_run(store, catalog, run_id, standards);
        }
    }
    Ok(Outcome { run_id, result, rollup: rolled })
}

/// The sources a stored run assessed, as they were given (`aws:/exports`, a path, `demo`).
pub fn run_sources(run: &RunInfo) -> Vec<SourceSpec> {
    let Some(reports) = run.sources.as_array() else { return Vec::new() };
    reports
        .iter()
        .filter_map(|r| r.get("source").and_then(|s| s.as_str()).or_else(|| r.as_str()))
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Two cancel flags seen as one by the engine.
struct CombinedCancel<'a> {
    a: &'a AtomicBool,
    b: &'a AtomicBool,
}

impl CombinedCancel<'_> {
    /// Run `f` with a flag that is set as soon as either flag is; a watcher thread mirrors them.
    fn run<T>(&self, f: impl FnOnce(&AtomicBool) -> T) -> T {
        let merged = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if self.a.load(Ordering::Relaxed) || self.b.load(Ordering::Relaxed) {
                        merged.store(true, Ordering::Relaxed);
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            });
            // Set on return and while a panic in `f` unwinds, so the scope never waits forever
            // for the watcher (the panic then reaches the worker, which reports it).
            struct Done<'a>(&'a AtomicBool);
            impl Drop for Done<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let _done = Done(&done);
            f(&merged)
        })
    }
}

/// The rollup of a stored run with the attestations, exemptions and assignments on record now:
/// an attestation or exemption recorded after the run counts at once, and one that expired or
/// was revoked stops counting, without a new run. (The secure score stays as the run computed it.)
pub fn live_rollup(store: &Store, catalog: &Catalog, run: &RunInfo, selected: &[String]) -> Result<Rollup, StoreError> {
    live_rollup_in(store, catalog, run, selected, &[])
}

/// [`live_rollup`] over some scopes of the run only (all when `scopes` is empty): checks count
/// the resources of those scopes, and scope checks see only them.
pub fn live_rollup_in(
    store: &Store,
    catalog: &Catalog,
    run: &RunInfo,
    selected: &[String],
    scopes: &[String],
) -> Result<Rollup, StoreError> {
    let mut snap = store.snapshot(run)?;
    if !scopes.is_empty() {
        snap.totals = store.scoped_totals(run.id, scopes)?;
        snap.scopes.retain(|(_, s)| scopes.contains(s));
    }
    apply_exemptions(store, run.id, scopes, &mut snap.totals)?;
    let attestations = store.attestations()?;
    let assignments = store.assignments()?;
    let mut rolled = rollup(
        catalog,
        selected,
        &RollupInput {
            totals: &snap.totals,
            security: &snap.security,
            clouds: &snap.clouds,
            attestations: &attestations,
            assignments: &assignments,
            scopes: &snap.scopes,
            now: Utc::now(),
        },
    );
    if let Some(ext) = store.external(run.id)? {
        crate::assess::annotate(&mut rolled, &ext);
    }
    Ok(rolled)
}

/// Re-judge the stored unhealthy and exempt findings of every check any exemption ever named.
fn apply_exemptions(
    store: &Store,
    run_id: i64,
    scopes: &[String],
    totals: &mut std::collections::BTreeMap<String, crate::assess::CheckStats>,
) -> Result<(), StoreError> {
    use crate::governance::ExemptionMatcher;
    use crate::model::FindingState;
    let history = store.exemption_history()?;
    if history.is_empty() {
        return Ok(());
    }
    let mut checks: Vec<String> = history.iter().map(|(e, _)| e.check.clone()).collect();
    checks.sort();
    checks.dedup();
    let matcher = ExemptionMatcher::new(store.exemptions()?);
    let now = Utc::now();
    let scope_filters: Vec<Option<String>> =
        if scopes.is_empty() { vec![None] } else { scopes.iter().cloned().map(Some).collect() };
    for scope in scope_filters {
        let filter = crate::store::FindingFilter {
            checks: Some(checks.clone()),
            states: Some(vec![FindingState::Unhealthy, FindingState::Exempt]),
            scope,
            ..Default::default()
        };
        rejudge(store, run_id, &filter, &matcher, now, totals)?;
    }
    Ok(())
}

/// Move each finding of `filter` whose state an exemption changes since the run.
fn rejudge(
    store: &Store,
    run_id: i64,
    filter: &crate::store::FindingFilter,
    matcher: &crate::governance::ExemptionMatcher,
    now: chrono::DateTime<Utc>,
    totals: &mut std::collections::BTreeMap<String, crate::assess::CheckStats>,
) -> Result<(), StoreError> {
    use crate::governance::effective_state;
    use crate::model::FindingState;
    let mut offset = 0;
    loop {
        let page = store.findings(run_id, filter, offset, 5000)?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u64;
        for f in page {
            // Another tool's finding keeps the state its tool gave (its own mutelist or suppression).
            if f.origin != crate::model::Origin::Posture {
                continue;
            }
            let now_state = effective_state(f.state, &f.check, &f.resource, matcher, now);
            if now_state == f.state {
                continue;
            }
            let t = totals.entry(f.check.clone()).or_default();
            match now_state {
                FindingState::Exempt => {
                    t.unhealthy = t.unhealthy.saturating_sub(1);
                    t.exempt += 1;
                }
                _ => {
                    t.exempt = t.exempt.saturating_sub(1);
                    t.unhealthy += 1;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
