//! Adding judged resources to a run: its counts per check, scope and security control, and
//! the batch handed to the store. Counts are kept per batch under borrowed names and merged
//! into the run once per batch, so an evaluation costs no string copies (a 1M run makes 8M).

use super::engine::ResourceOutcome;
use super::results::{BatchOutput, CheckStats, RunResult, ScStats};
use crate::catalog::Catalog;
use crate::model::{Cloud, Resource};
// Hashed with foldhash: a lookup per resource and per security control of each (SipHash was
// 1.5 % of a 100k run's CPU).
use foldhash::{HashMap, HashMapExt};

/// The counts of one batch.
pub(super) struct Tally<'c> {
    catalog: &'c Catalog,
    /// Per scope, the clouds it was seen in and the counts of each check (indexed as the
    /// catalog's checks).
    stats: HashMap<String, (Vec<Cloud>, Vec<CheckStats>)>,
    security: HashMap<&'c str, ScStats>,
}

impl<'c> Tally<'c> {
    /// Nothing counted yet.
    pub(super) fn new(catalog: &'c Catalog) -> Tally<'c> {
        Tally { catalog, stats: HashMap::new(), security: HashMap::new() }
    }

    /// Add one judged resource to the counts and its metadata, findings and (when it has
    /// findings) its stored document to the batch. A scope (the subject of scope checks) is
    /// stored with its findings but not counted among the resources assessed.
    pub(super) fn record(
        &mut self,
        result: &mut RunResult,
        out: &mut BatchOutput,
        r: Resource,
        o: ResourceOutcome<'c>,
        is_scope: bool,
    ) {
        let Resource { meta, doc } = r;
        let scope = &meta.scope;
        if !is_scope {
            result.resources_assessed += 1;
        }
        let (clouds, per_check) = match self.stats.get_mut(scope.as_str()) {
            Some(v) => v,
            None => self
                .stats
                .entry(scope.clone())
                .or_insert_with(|| (Vec::new(), vec![CheckStats::default(); self.catalog.checks.len()])),
        };
        // The run's scopes learn of each (cloud, scope) once a batch, not by a scan of them all
        // for each resource (an estate of thousands of subscriptions).
        if !clouds.contains(&meta.cloud) {
            clouds.push(meta.cloud);
            result.scopes.insert((meta.cloud, scope.clone()));
        }
        for (idx, state) in o.counts {
            result.claims.note(&self.catalog.checks[idx].id, &meta.id, state);
            if let Some(s) = per_check.get_mut(idx) {
                s.add(state);
            }
        }
        for (sc, healthy) in o.sc {
            let e = self.security.entry(sc).or_default();
            if healthy { e.healthy += 1 } else { e.unhealthy += 1 }
        }
        if let Some(bytes) = o.doc {
            out.docs.push((meta.id.clone(), bytes));
        }
        out.spent.push(doc);
        out.findings.extend(o.findings);
        out.resources.push(meta);
    }

    /// Merge the batch's counts into the run's.
    pub(super) fn into_run(self, result: &mut RunResult) {
        let none = CheckStats::default();
        for (scope, (_, per_check)) in self.stats {
            for (idx, s) in per_check.iter().enumerate().filter(|(_, s)| **s != none) {
                let id = self.catalog.checks[idx].id.clone();
                result.stats.entry((id, scope.clone())).or_default().merge(s);
            }
        }
        for (sc, s) in self.security {
            let e = result.security.entry(sc.to_string()).or_default();
            e.healthy += s.healthy;
            e.unhealthy += s.unhealthy;
        }
    }
}
