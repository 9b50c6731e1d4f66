//! Build a [`Report`] from the store: the live rollup of the run (attestations and exemptions on
//! record now), then each failing check's resources streamed from the store, keeping at most
//! the cap per check and counting the rest, so a run of any size fits in memory.

use super::model::*;
use crate::catalog::{Catalog, Standard};
use crate::governance::{ExemptionMatcher, effective_state};
use crate::model::{Attestation, ControlState, EvidenceRef, Exemption, FindingState};
use crate::pipeline::live_rollup_in;
use crate::sanitize::clean;
use crate::store::{FindingFilter, RunInfo, Store, StoreError};
use chrono::{DateTime, Utc};

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    /// Standard id.
    pub standard: &'a str,
    /// The run.
    pub run: &'a RunInfo,
    /// Only these scopes (empty: all of the run's).
    pub scopes: &'a [String],
    /// Failing resources listed per check at most (at least 1).
    pub max_resources_per_check: usize,
    /// The time the report is as of (attestations and exemptions in force then).
    pub now: DateTime<Utc>,
}

fn c(s: &str) -> String {
    clean(s).into_owned()
}

/// Build the report of `req.standard` over `req.run`.
pub fn build(store: &Store, catalog: &Catalog, req: &ReportRequest) -> Result<Report, StoreError> {
    let standard = catalog
        .standard(req.standard)
        .ok_or_else(|| StoreError::NotFound(format!("unknown standard '{}'", req.standard)))?;
    let selected = [standard.id.clone()];
    let rollup = live_rollup_in(store, catalog, req.run, &selected, req.scopes)?;
    let summary = rollup.standards.first().ok_or_else(|| {
        StoreError::NotFound(format!("standard '{}' has no result in run {}", standard.id, req.run.id))
    })?;
    let matcher = ExemptionMatcher::new(store.exemptions()?);
    let cap = req.max_resources_per_check.max(1);
    let totals = store.scoped_totals(req.run.id, req.scopes)?;
    let mut sections: Vec<Section> = Vec::new();
    for (control, sum) in standard.controls.iter().zip(&summary.controls) {
        let mut checks = Vec::new();
        for id in &control.checks {
            let Some(check) = catalog.check(id) else { continue };
            let stats = totals.get(id).copied().unwrap_or_default();
            let mut cr = CheckReport {
                id: c(id),
                title: c(&check.title),
                severity: check.severity,
                healthy: stats.healthy,
                unhealthy: stats.unhealthy,
                error: stats.error,
                exempt: stats.exempt,
                not_applicable: stats.not_applicable,
                remediation: c(&check.remediation.text),
                failing: Vec::new(),
                more: 0,
            };
            // Re-judged with the exemptions in force; listed only for a failed control.
            if stats.unhealthy + stats.exempt > 0 {
                let keep = if sum.state == ControlState::Failed { cap } else { 0 };
                failing_resources(store, req, &matcher, keep, &mut cr)?;
            }
            checks.push(cr);
        }
        let cr = ControlReport {
            id: c(&control.id),
            title: c(&control.title),
            description: c(&control.description),
            state: sum.state,
            reason: sum.reason.as_deref().map(c),
            attestation: sum.attestation.as_ref().map(|a| a.to_string()),
            manual: control.is_manual(),
            healthy: sum.healthy_resources,
            unhealthy: sum.unhealthy_resources,
            error: sum.error_resources,
            exempt: sum.exempt_resources,
            checks,
        };
        let name = c(&control.section);
        match sections.last_mut() {
            Some(s) if s.name == name => s.controls.push(cr),
            _ => sections.push(Section { name, controls: vec![cr] }),
        }
    }
    let today = req.now.date_naive();
    let actions = rollup
        .actions
        .iter()
        .map(|a| ActionView {
            id: c(&a.id),
            title: c(&a.title),
            state: a.state,
            achieved: a.achieved,
            points: a.points,
            owner: a.owner.as_deref().map(c),
            due: a.due,
            overdue: a.due.is_some_and(|d| d < today) && a.achieved < a.points,
        })
        .collect();
    let snap = store.snapshot(req.run)?;
    let scopes = snap
        .scopes
        .iter()
        .filter(|(cloud, s)| standard.clouds.contains(cloud) && (req.scopes.is_empty() || req.scopes.contains(s)))
        .map(|(cloud, s)| ScopeRef { cloud: *cloud, scope: c(s) })
        .collect();
    Ok(Report {
        generated_at: req.now,
        standard: StandardInfo {
            id: c(&standard.id),
            name: c(&standard.name),
            version: c(&standard.version),
            description: c(&standard.description),
        },
        run: RunHeader {
            id: req.run.id,
            started_at: req.run.started_at.clone(),
            finished_at: req.run.finished_at.clone(),
            status: req.run.status.as_str().to_string(),
            demo: req.run.demo,
            resources: req.run.resources,
        },
        sources: run_sources(req.run),
        scopes,
        scope_filter: req.scopes.iter().map(|s| c(s)).collect(),
        assessment: None,
        state: summary.state,
        compliance_pct: summary.compliance_pct,
        counts: ControlCounts {
            passed: summary.passed_controls,
            failed: summary.failed_controls,
            skipped: summary.skipped_controls,
            manual: summary.manual_controls,
            unsupported: summary.unsupported_controls,
        },
        compliance_score: rollup.compliance,
        secure_score: rollup.secure,
        clouds_without_checks: summary.clouds_without_checks.clone(),
        sections,
        attestations: attestations(standard, &store.attestations()?, req),
        exemptions: exemptions(standard, &store.exemptions()?, req),
        actions,
        trend: store.score_trend(&standard.id, req.run.id, TREND_RUNS)?,
        max_resources_per_check: cap,
    })
}

/// Stream a check's unhealthy and exempt findings, judged with the exemptions in force,
/// keeping `keep` failing resources and counting the rest.
fn failing_resources(
    store: &Store,
    req: &ReportRequest,
    matcher: &ExemptionMatcher,
    keep: usize,
    cr: &mut CheckReport,
) -> Result<(), StoreError> {
    let scopes: Vec<Option<String>> =
        if req.scopes.is_empty() { vec![None] } else { req.scopes.iter().cloned().map(Some).collect() };
    let (mut unhealthy, mut exempt) = (0u64, 0u64);
    for scope in scopes {
        let filter = FindingFilter {
            checks: Some(vec![cr.id.clone()]),
            states: Some(vec![FindingState::Unhealthy, FindingState::Exempt]),
            scope,
            ..Default::default()
        };
        store.for_each_finding(req.run.id, &filter, &mut |f| {
            match effective_state(f.state, &f.check, &f.resource, matcher, req.now) {
                FindingState::Unhealthy => {
                    unhealthy += 1;
                    if cr.failing.len() < keep {
                        cr.failing.push(failing(f));
                    } else if keep > 0 {
                        cr.more += 1;
                    }
                }
                _ => exempt += 1,
            }
            true
        })?;
    }
    // The counts the listing saw, so "and N more" always adds up.
    cr.unhealthy = unhealthy;
    cr.exempt = exempt;
    Ok(())
}

fn failing(f: crate::store::FindingRow) -> FailingResource {
    let mut r = f.resource;
    for s in [&mut r.id, &mut r.name, &mut r.rtype, &mut r.scope, &mut r.region] {
        *s = c(s);
    }
    FailingResource {
        resource: r,
        evidence: f
            .evidence
            .into_iter()
            .map(|e| crate::model::Evidence { path: c(&e.path), value: c(&e.value) })
            .collect(),
        message: f.message.as_deref().map(c),
    }
}

fn run_sources(run: &RunInfo) -> Vec<String> {
    let Some(reports) = run.sources.as_array() else { return Vec::new() };
    reports.iter().filter_map(|r| r.get("source").and_then(|s| s.as_str()).or_else(|| r.as_str())).map(c).collect()
}

fn in_scope(scope: Option<&str>, req: &ReportRequest) -> bool {
    req.scopes.is_empty() || scope.is_none_or(|s| req.scopes.iter().any(|x| x == s))
}

fn attestations(standard: &Standard, all: &[Attestation], req: &ReportRequest) -> Vec<AttestationView> {
    let mut out: Vec<AttestationView> = all
        .iter()
        .filter(|a| a.standard == standard.id && in_scope(a.scope.as_deref(), req))
        .filter(|a| standard.controls.iter().any(|c| c.id == a.control))
        .map(|a| AttestationView {
            id: a.id,
            control: c(&a.control),
            status: a.status,
            scope: a.scope.as_deref().map(c),
            attester: c(&a.attester),
            created_at: a.created_at,
            expires: a.expires,
            expired: !a.is_valid(req.now),
            note: c(&a.note),
            evidence: a
                .evidence
                .iter()
                .map(|e| match e {
                    EvidenceRef::File { original, sha256, .. } => EvidenceItem {
                        name: c(std::path::Path::new(original)
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .as_deref()
                            .unwrap_or(original)),
                        sha256: Some(c(sha256)),
                    },
                    EvidenceRef::Url { url } => EvidenceItem { name: c(url), sha256: None },
                })
                .collect(),
        })
        .collect();
    // Catalog order of the controls, newest statement first within one.
    let pos = |id: &str| standard.controls.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    out.sort_by(|a, b| pos(&a.control).cmp(&pos(&b.control)).then(b.created_at.cmp(&a.created_at)));
    out
}

fn exemptions(standard: &Standard, all: &[Exemption], req: &ReportRequest) -> Vec<ExemptionView> {
    let checks: std::collections::BTreeSet<&str> =
        standard.controls.iter().flat_map(|c| c.checks.iter().map(String::as_str)).collect();
    all.iter()
        .filter(|e| checks.contains(e.check.as_str()) && e.expires >= req.now.date_naive())
        .filter(|e| in_scope(e.scope.as_deref(), req))
        .map(|e| {
            let mut target = match (&e.resource, &e.resource_pattern, &e.scope) {
                (Some(r), _, _) => format!("resource {r}"),
                (None, Some(p), _) => format!("resources matching {p}"),
                (None, None, Some(s)) => format!("scope {s}"),
                (None, None, None) => "everywhere".to_string(),
            };
            if (e.resource.is_some() || e.resource_pattern.is_some())
                && let Some(s) = &e.scope
            {
                target.push_str(&format!(" in {s}"));
            }
            if !e.regions.is_empty() {
                target.push_str(&format!(" (regions {})", e.regions.join(", ")));
            }
            ExemptionView {
                id: e.id,
                check: c(&e.check),
                target: c(&target),
                category: c(&e.category),
                reason: c(&e.reason),
                author: c(&e.author),
                expires: e.expires,
            }
        })
        .collect()
}
