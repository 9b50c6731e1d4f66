//! Scope checks at the end of a run, and the judgement of one resource with its context
//! (check tests).

use super::engine::{Assessor, seen_types};
use super::results::{BatchOutput, RunResult};
use super::scope::{Binding, RelatedIndex, scope_resource};
use super::tally::Tally;
use crate::catalog::{KeyPath, ScopeLevel};
use crate::model::{Cloud, Finding, FindingState, Resource};
use crate::policy::Evaluator;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

impl Assessor<'_> {
    /// Types the selected checks read besides their own resource: the run indexes these.
    pub(super) fn related_types(&self) -> BTreeSet<String> {
        self.selected.iter().flat_map(|&i| seen_types(&self.catalog.checks[i]).cloned()).collect()
    }

    /// An empty index of what the selected checks read besides their own resource.
    pub(super) fn new_index(&self) -> RelatedIndex {
        let mut joins: Vec<(String, KeyPath)> = Vec::new();
        for &i in &self.selected {
            let check = &self.catalog.checks[i];
            if let Some(j) = &check.join {
                for t in &check.related {
                    if !joins.iter().any(|(jt, p)| jt == t && *p == j.related) {
                        joins.push((t.clone(), j.related.clone()));
                    }
                }
            }
        }
        RelatedIndex::new(self.related_types(), joins)
    }

    /// The selected scope checks of `cloud` at `level`.
    fn scope_checks(&self, cloud: Cloud, level: ScopeLevel) -> Vec<usize> {
        let checks = &self.catalog.checks;
        self.catalog
            .scope_checks()
            .iter()
            .copied()
            .filter(|i| self.selected.contains(i) && checks[*i].cloud == cloud && checks[*i].over == Some(level))
            .collect()
    }

    /// Judge every scope (and region) the run saw by the scope checks of its cloud: a scope
    /// with none of what a check requires is unhealthy, never skipped.
    pub(super) fn evaluate_scopes(
        &self,
        now: DateTime<Utc>,
        cancel: &Arc<AtomicBool>,
        result: &mut RunResult,
        index: &RelatedIndex,
    ) -> BatchOutput {
        let mut out = BatchOutput::default();
        let ev = Evaluator::new(now, self.budget, Arc::clone(cancel));
        let mut tally = Tally::new(self.catalog);
        for cloud in [Cloud::Azure, Cloud::Aws, Cloud::Gcp] {
            for level in [ScopeLevel::Scope, ScopeLevel::Region] {
                let checks = self.scope_checks(cloud, level);
                if checks.is_empty() {
                    continue;
                }
                for subject in index.subjects(cloud, level) {
                    let region = (level == ScopeLevel::Region).then_some(subject.meta.region.as_str());
                    if let Some(o) = self.evaluate_checks(&ev, (&subject, Binding::Once), &checks, now, index, region) {
                        tally.record(result, &mut out, subject, o, true);
                    }
                }
            }
        }
        tally.into_run(result);
        out
    }

    /// Every selected check's state on `subject`, judged with `context` as the rest of its
    /// scope (check tests; the same judgement a run makes). A scope subject (see
    /// [`scope_resource`]) is judged by the scope checks of its cloud.
    pub fn judge(
        &self,
        subject: &Resource,
        context: &[Resource],
        now: DateTime<Utc>,
    ) -> Vec<(String, FindingState, Option<Finding>)> {
        let mut index = self.new_index();
        for r in context {
            index.add(r);
            index.saw(&r.meta);
        }
        let ev = Evaluator::new(now, self.budget, Default::default());
        let is_scope = subject.meta.rtype == crate::catalog::scope_type(subject.meta.cloud);
        let region_level = subject.meta.region != "global";
        let binding = if is_scope { Binding::Once } else { Binding::Shared };
        let (indices, region) = if is_scope {
            let level = if region_level { ScopeLevel::Region } else { ScopeLevel::Scope };
            (self.scope_checks(subject.meta.cloud, level), region_level.then_some(subject.meta.region.as_str()))
        } else {
            let by_type = self.catalog.checks_for_type(&subject.meta.rtype);
            (by_type.iter().copied().filter(|i| self.selected.contains(i)).collect(), None)
        };
        let Some(o) = self.evaluate_checks(&ev, (subject, binding), &indices, now, &index, region) else {
            return Vec::new();
        };
        let mut findings = o.findings;
        o.counts
            .into_iter()
            .map(|(idx, state)| {
                let id = self.catalog.checks[idx].id.clone();
                let f = findings.iter().position(|f| f.check == id).map(|i| findings.swap_remove(i));
                (id, state, f)
            })
            .collect()
    }
}

/// The subject of a scope check's test case: the scope `scope` (optionally one region of it).
pub fn scope_subject(cloud: Cloud, scope: &str, region: Option<&str>) -> Resource {
    scope_resource(cloud, scope, region)
}
