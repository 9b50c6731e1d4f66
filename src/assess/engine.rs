//! Resource-major evaluation: every applicable check of one resource, then the next, on all
//! cores, one batch at a time, while the reading stage (see `feed`) parses the next batches.

use super::feed::{Feed, QUEUE, Reader};
use super::progress::{Phase, Progress};
use super::results::{BatchOutput, RunResult, RunStatus};
use super::scope::{Binding, RelatedIndex};
use super::tally::Tally;
use crate::catalog::{Catalog, Check};
use crate::model::{Evidence, Exemption, Finding, FindingState, Resource};
use crate::policy::{Budget, Evaluator, Outcome, evidence_for, failing_elements};
use crate::sources::{BATCH, Limits, SourceReport, SourceSpec};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

/// Runs assessments against a catalog.
pub struct Assessor<'a> {
    pub(super) catalog: &'a Catalog,
    /// Checks evaluated (indices into the catalog), per resource type.
    pub(super) selected: HashSet<usize>,
    pub(super) exemptions: crate::governance::ExemptionMatcher,
    pub(super) standards: Vec<String>,
    pub(super) limits: Limits,
    pub(super) budget: Budget,
    /// Most resources read and judged as one batch.
    pub(super) batch: usize,
}

/// What judging one resource gave: its findings, each check's state (by catalog index), and
/// whether it passed each security control it was judged in.
pub(super) struct ResourceOutcome<'c> {
    pub(super) findings: Vec<Finding>,
    /// The document as stored (compact JSON), when there are findings: written here, on the
    /// evaluation's thread while the document is in its cache, rather than by the store.
    pub(super) doc: Option<Vec<u8>>,
    pub(super) counts: Vec<(usize, FindingState)>,
    pub(super) sc: Vec<(&'c str, bool)>,
}

impl<'a> Assessor<'a> {
    /// Assess against `standards` (empty: every standard and every check).
    pub fn new(catalog: &'a Catalog, standards: &[String], exemptions: Vec<Exemption>) -> Assessor<'a> {
        let selected: HashSet<usize> = if standards.is_empty() {
            (0..catalog.checks.len()).collect()
        } else {
            let wanted: HashSet<&str> = catalog
                .standards
                .iter()
                .filter(|s| standards.contains(&s.id))
                .flat_map(|s| s.controls.iter().flat_map(|c| c.checks.iter().map(String::as_str)))
                .collect();
            catalog.checks.iter().enumerate().filter(|(_, c)| wanted.contains(c.id.as_str())).map(|(i, _)| i).collect()
        };
        Assessor {
            catalog,
            selected,
            exemptions: crate::governance::ExemptionMatcher::new(exemptions),
            standards: standards.to_vec(),
            limits: Limits::default(),
            budget: Budget::default(),
            batch: BATCH,
        }
    }

    /// Read and judge at most `batch` resources at a time (default [`BATCH`]; at least 1):
    /// memory in flight is a few batches, whatever the size of the estate.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Evaluate each condition on each resource within `budget` (default: [`Budget::default`]).
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Read sources within these caps on strings and records (default: [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Read every source and evaluate, keeping findings in the result.
    pub fn run(
        &self,
        specs: &[SourceSpec],
        now: DateTime<Utc>,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Progress),
    ) -> RunResult {
        self.run_with(specs, now, cancel, progress, None)
    }

    /// Read every source and evaluate. With a sink, each batch's resources and findings go
    /// there instead of into the result. `cancel` is polled between files and batches, and
    /// inside long evaluations.
    pub fn run_with(
        &self,
        specs: &[SourceSpec],
        now: DateTime<Utc>,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Progress),
        sink: Option<Sink>,
    ) -> RunResult {
        with_shared_cancel(cancel, |shared| self.run_sources(specs, now, cancel, shared, progress, sink))
    }

    fn run_sources(
        &self,
        specs: &[SourceSpec],
        now: DateTime<Utc>,
        cancel: &AtomicBool,
        shared: &Arc<AtomicBool>,
        progress: &mut dyn FnMut(Progress),
        sink: Option<Sink>,
    ) -> RunResult {
        let (mut sink, back) = match sink {
            Some(Sink { write, back }) => (Some(write), back),
            None => (None, None),
        };
        let mut result = self.empty_result(Utc::now());
        // Other tools' findings are read first, so the engine notes posture's own state of
        // each (check, resource) they claim.
        let (imports, import_reports) = crate::sources::read_imports(specs, self.limits, cancel);
        result.claims = super::imported::Claims::new(self.catalog, &self.selected, &imports);
        let mut shown = Progress { phase: Phase::Evaluating, ..Progress::default() };
        let names: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        let types = self.related_types();
        // The sources' first pass hands on the resources related and scope checks read (only
        // those types) before any batch, so a resource is judged with its partners wherever
        // they are in the files.
        let mut index = self.new_index();
        let mut reports = std::thread::scope(|s| {
            // Made here, so a panic below drops the receiver and the reader stops.
            let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
            let reader = Reader { specs, limits: self.limits, batch: self.batch, related: &types, cancel, back };
            let reading = reader.spawn(s, tx);
            for feed in &rx {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                match feed {
                    Feed::Related(rs) => index.add_all(rs),
                    Feed::Batch(source, batch) => {
                        let out = self.evaluate_batch(batch, now, shared, &mut result, &mut index);
                        match sink.as_mut() {
                            Some(s) => s(out),
                            None => result.findings.extend(out.findings),
                        }
                        shown.source = names.get(source).cloned().unwrap_or_default();
                        shown.done = result.resources_seen;
                        progress(shown.clone());
                    }
                    // Counted here, after its batches were judged: the queue keeps the order.
                    Feed::FileDone(bytes) => {
                        shown.files_done += 1;
                        shown.bytes_done += bytes;
                        progress(shown.clone());
                    }
                }
            }
            drop(rx);
            reading.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        if !cancel.load(Ordering::Relaxed) {
            let out = self.evaluate_scopes(now, shared, &mut result, &index);
            match sink.as_mut() {
                Some(s) => s(out),
                None => result.findings.extend(out.findings),
            }
            let claims = std::mem::take(&mut result.claims);
            let synthetic = self.standards.is_empty();
            let (out, external) = super::imported::merge(self.catalog, &mut result, imports, &claims, synthetic);
            result.external = external;
            match sink.as_mut() {
                Some(s) => s(out),
                None => result.findings.extend(out.findings),
            }
        }
        for (r, i) in reports.iter_mut().zip(import_reports) {
            r.files += i.files;
            r.imported += i.findings;
            r.errors.extend(i.errors);
            r.warnings.extend(i.warnings);
        }
        if reports.iter().any(|r| !r.errors.is_empty()) {
            result.status = RunStatus::Partial;
        }
        if !reports.is_empty() && reports.iter().all(SourceReport::failed) {
            result.status = RunStatus::Failed;
        }
        result.sources = reports;
        if cancel.load(Ordering::Relaxed) {
            result.status = RunStatus::Cancelled;
        }
        result.finished_at = Utc::now();
        result
    }

    /// A result with nothing in it yet, started at `at`.
    fn empty_result(&self, at: DateTime<Utc>) -> RunResult {
        RunResult {
            started_at: at,
            finished_at: at,
            sources: Vec::new(),
            resources_assessed: 0,
            resources_seen: 0,
            findings: Vec::new(),
            stats: BTreeMap::new(),
            security: BTreeMap::new(),
            clouds: BTreeSet::new(),
            scopes: BTreeSet::new(),
            standards: self.standards.clone(),
            status: RunStatus::Complete,
            claims: Default::default(),
            external: Default::default(),
        }
    }

    /// Evaluate resources already in memory (tests, benchmarks).
    pub fn run_resources(&self, resources: Vec<Resource>, now: DateTime<Utc>) -> RunResult {
        let mut result = self.empty_result(now);
        let mut index = self.new_index();
        resources.iter().for_each(|r| index.add(r));
        let cancel = Arc::new(AtomicBool::new(false));
        let out = self.evaluate_batch(resources, now, &cancel, &mut result, &mut index);
        result.findings = out.findings;
        let scopes = self.evaluate_scopes(now, &cancel, &mut result, &index);
        result.findings.extend(scopes.findings);
        result
    }

    fn evaluate_batch(
        &self,
        batch: Vec<Resource>,
        now: DateTime<Utc>,
        cancel: &Arc<AtomicBool>,
        result: &mut RunResult,
        index: &mut RelatedIndex,
    ) -> BatchOutput {
        let mut out = BatchOutput::default();
        result.resources_seen += batch.len() as u64;
        for r in &batch {
            result.clouds.insert(r.meta.cloud);
            index.saw(&r.meta);
        }
        let index = &*index;
        let mut tally = Tally::new(self.catalog);
        let mut rest = batch.into_iter();
        // Chunks keep cancellation responsive on huge batches.
        loop {
            let chunk: Vec<Resource> = rest.by_ref().take(4096).collect();
            if chunk.is_empty() || cancel.load(Ordering::Relaxed) {
                break;
            }
            let outcomes: Vec<Option<ResourceOutcome>> = chunk
                .par_iter()
                .map_init(
                    || Evaluator::new(now, self.budget, Arc::clone(cancel)),
                    |ev, r| self.evaluate(ev, r, now, index),
                )
                .collect();
            for (r, outcome) in chunk.into_iter().zip(outcomes) {
                match outcome {
                    Some(o) => tally.record(result, &mut out, r, o, false),
                    None => out.spent.push(r.doc),
                }
            }
        }
        tally.into_run(result);
        out
    }

    fn evaluate(
        &self,
        ev: &Evaluator,
        r: &Resource,
        now: DateTime<Utc>,
        index: &RelatedIndex,
    ) -> Option<ResourceOutcome<'_>> {
        let indices: Vec<usize> =
            self.catalog.checks_for_type(&r.meta.rtype).iter().copied().filter(|i| self.selected.contains(i)).collect();
        self.evaluate_checks(ev, (r, Binding::Shared), &indices, now, index, None)
    }

    /// Judge `r` by the checks `indices`; related and scope checks read `index` (in `region`
    /// only, for a region's scope check), bound as `binding` says.
    pub(super) fn evaluate_checks(
        &self,
        ev: &Evaluator,
        (r, binding): (&Resource, Binding),
        indices: &[usize],
        now: DateTime<Utc>,
        index: &RelatedIndex,
        region: Option<&str>,
    ) -> Option<ResourceOutcome<'a>> {
        if indices.is_empty() {
            return None;
        }
        // Checks that read their scope's partners share one binding; a joined check gets its
        // own, with only the partners that match this resource's key.
        let mut wanted: Vec<String> = indices
            .iter()
            .map(|&i| &self.catalog.checks[i])
            .filter(|c| c.join.is_none())
            .flat_map(|c| seen_types(c))
            .cloned()
            .collect();
        wanted.sort();
        wanted.dedup();
        let related =
            (!wanted.is_empty()).then(|| index.bound(binding, (r.meta.cloud, &r.meta.scope, region), &wanted));
        let shared = ev.bind_doc(&r.doc, related.clone());
        let mut out = ResourceOutcome {
            findings: Vec::new(),
            doc: None,
            counts: Vec::with_capacity(indices.len()),
            sc: Vec::new(),
        };
        let mut sc_state: BTreeMap<&str, bool> = BTreeMap::new();
        for &idx in indices {
            let check: &Arc<Check> = &self.catalog.checks[idx];
            let joined = check.join.as_ref().map(|j| {
                let value = index.joined(r, &check.related, j);
                (ev.bind_doc(&r.doc, Some(value.clone())), value)
            });
            let bound = match &joined {
                Some((b, _)) => b,
                None => &shared,
            };
            let (mut state, message) = match check.applies.as_ref().map(|a| a.eval(bound)) {
                Some(Outcome::False) => (FindingState::NotApplicable, None),
                Some(Outcome::Error(e)) => (FindingState::Error, Some(format!("applies: {e}"))),
                _ => match check.condition.eval(bound) {
                    Outcome::True => (FindingState::Healthy, None),
                    Outcome::False => (FindingState::Unhealthy, None),
                    Outcome::Error(e) => (FindingState::Error, Some(e)),
                },
            };
            let mut message = message;
            if state == FindingState::Unhealthy
                && let Some(ex) = self.exemptions.find(&check.id, &r.meta, now)
            {
                state = FindingState::Exempt;
                message = Some(format!("exempt ({}): {} — until {}", ex.category, ex.reason, ex.expires));
            }
            out.counts.push((idx, state));
            match state {
                FindingState::NotApplicable | FindingState::Manual => {}
                FindingState::Healthy | FindingState::Exempt => {
                    sc_state.entry(check.security_control.as_str()).or_insert(true);
                }
                FindingState::Unhealthy | FindingState::Error => {
                    sc_state.insert(check.security_control.as_str(), false);
                }
            }
            if !matches!(state, FindingState::Healthy | FindingState::NotApplicable) {
                let own = check.condition.paths();
                let applies = check.applies.iter().flat_map(|a| a.paths()).filter(|p| !own.contains(p));
                let mut evidence = evidence_for(own.iter().chain(applies), &r.doc);
                if state != FindingState::Error
                    && let Ok(condition) = check.condition.get()
                {
                    name_failing_elements(&mut evidence, failing_elements(bound, condition, &r.doc));
                }
                let seen: Vec<String> = seen_types(check).cloned().collect();
                match &check.join {
                    Some(j) => evidence.extend(index.joined_evidence(r, &seen, j)),
                    None if !seen.is_empty() => {
                        evidence.extend(index.evidence(r.meta.cloud, &r.meta.scope, region, &seen))
                    }
                    None => {}
                }
                if check.over.is_some() && state == FindingState::Unhealthy && message.is_none() {
                    let found: Vec<String> = evidence
                        .iter()
                        .filter(|e| e.path.starts_with("related["))
                        .map(|e| format!("{} {}", &e.path[9..e.path.len() - 2], e.value))
                        .collect();
                    let looked = check.condition_src.split_whitespace().collect::<Vec<_>>().join(" ");
                    message = Some(format!("found {}; looked for: {looked}", found.join(", ")));
                }
                out.findings.push(Finding {
                    check: check.id.clone(),
                    state,
                    resource: r.meta.clone(),
                    evidence,
                    message,
                    origin: crate::model::Origin::Posture,
                });
            }
        }
        out.sc = sc_state.into_iter().collect();
        if !out.findings.is_empty() {
            // Serializing a parsed document cannot fail: its keys are strings.
            out.doc = serde_json::to_vec(&r.doc).ok();
        }
        Some(out)
    }
}

/// Show the elements of a list that failed in place of the list's whole value.
fn name_failing_elements(evidence: &mut Vec<Evidence>, lists: Vec<(String, Vec<Evidence>)>) {
    for (path, elements) in lists {
        match evidence.iter().position(|e| e.path == path) {
            Some(at) => {
                evidence.splice(at..=at, elements);
            }
            None => evidence.extend(elements),
        }
    }
}

/// The types a check reads besides its resource: its related types, or a scope check's own.
pub(super) fn seen_types(check: &Check) -> impl Iterator<Item = &String> {
    let own = if check.over.is_some() { check.resource_types.as_slice() } else { &[] };
    check.related.iter().chain(own)
}

/// Where a run's batches go, and come back from to be freed.
pub struct Sink<'s> {
    /// Takes each batch (its resources, findings and documents) once it is judged.
    pub write: &'s mut dyn FnMut(BatchOutput),
    /// Batches sent back once used, freed by the reading thread, which allocated their
    /// documents: a free on the thread that allocated costs the allocator less than one from
    /// another thread (about 8 % of a 100k run's CPU).
    pub back: Option<Receiver<BatchOutput>>,
}

/// Run `f` with a shared flag that a watcher thread sets soon after `cancel` is: evaluators keep
/// the flag for as long as they live, which a borrowed one cannot give them.
fn with_shared_cancel<T>(cancel: &AtomicBool, f: impl FnOnce(&Arc<AtomicBool>) -> T) -> T {
    /// Ends the watcher when `f` returns or panics (a scope waits for its threads).
    struct Finish<'a>(&'a AtomicBool);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let shared = Arc::new(AtomicBool::new(cancel.load(Ordering::Relaxed)));
    let finished = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !finished.load(Ordering::Relaxed) && !shared.load(Ordering::Relaxed) {
                if cancel.load(Ordering::Relaxed) {
                    shared.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        let _finish = Finish(&finished);
        f(&shared)
    })
}
