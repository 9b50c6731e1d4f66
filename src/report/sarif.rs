//! SARIF 2.1.0 of a run, for CI systems that display it: one run whose rules are the checks that
//! ran and whose results are the unhealthy findings, each located at its resource (a logical
//! location: cloud resources have no file). Within GitHub code scanning's limits: at most
//! [`MAX_RESULTS`] results (the most severe first, then by check and resource, the rest counted
//! in `run.properties` and a notification) and [`MAX_TAGS`] tags per rule.

use crate::catalog::Catalog;
use crate::model::{Cloud, FindingState, Severity};
use crate::sanitize::clean;
use crate::sources::external::ExternalCheck;
use crate::store::{FindingFilter, FindingOrder, FindingRow, RunInfo, Store, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// GitHub code scanning rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub code scanning rejects a rule with more tags than this.
pub const MAX_TAGS: usize = 20;
/// The SARIF schema the log follows.
pub const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// What to put in the log.
#[derive(Debug, Clone)]
pub struct SarifRequest<'a> {
    /// The run.
    pub run: &'a RunInfo,
    /// Only the checks of these standards (empty: every check that ran).
    pub standards: &'a [String],
    /// Results at most (GitHub's limit is [`MAX_RESULTS`]).
    pub max_results: usize,
}

/// A rule: a check that ran, with what SARIF viewers show of it.
struct Rule {
    /// The check id as stored (findings are looked up by it).
    id: String,
    title: String,
    description: String,
    remediation: String,
    severity: Severity,
    cloud: Option<Cloud>,
    tags: Vec<String>,
}

/// `error`, `warning` or `note`.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score: high is 7.0–8.9, medium 4.0–6.9, low
/// 0.1–3.9).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The stable fingerprint of a finding: its check and resource, whatever the run.
pub fn fingerprint(check: &str, resource: &str) -> String {
    let mut h = Sha256::new();
    h.update(check.as_bytes());
    h.update([0]);
    h.update(resource.as_bytes());
    hex::encode(h.finalize())
}

fn c(s: &str) -> String {
    clean(s).into_owned()
}

/// The checks that ran in the run (limited to the standards asked for), by id.
fn rules(store: &Store, catalog: &Catalog, req: &SarifRequest) -> Result<Vec<Rule>, StoreError> {
    let snap = store.snapshot(req.run)?;
    let external = store.external(req.run.id)?;
    let wanted: Option<BTreeSet<&str>> = (!req.standards.is_empty()).then(|| {
        catalog
            .standards
            .iter()
            .filter(|s| req.standards.contains(&s.id))
            .flat_map(|s| s.controls.iter().flat_map(|c| c.checks.iter().map(String::as_str)))
            .collect()
    });
    // Standards citing each check become its tags.
    let mut cited: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &catalog.standards {
        for control in &s.controls {
            for k in &control.checks {
                cited.entry(k.as_str()).or_default().insert(s.id.as_str());
            }
        }
    }
    let mut out = Vec::new();
    for (id, stats) in &snap.totals {
        let ran = stats.healthy + stats.unhealthy + stats.error + stats.exempt + stats.not_applicable > 0;
        if !ran || wanted.as_ref().is_some_and(|w| !w.contains(id.as_str())) {
            continue;
        }
        let imported: Option<&ExternalCheck> = external.as_ref().and_then(|e| e.check(id));
        let (title, description, remediation, severity, cloud) = match (catalog.check(id), imported) {
            (Some(k), _) => {
                (k.title.clone(), k.description.clone(), k.remediation.text.clone(), k.severity, Some(k.cloud))
            }
            (None, Some(e)) => {
                (e.title.clone(), e.description.clone(), e.remediation.clone(), e.severity, Some(e.cloud))
            }
            // A check neither the catalog nor the run's imports describe any more: its id.
            (None, None) => (id.clone(), String::new(), String::new(), Severity::Medium, None),
        };
        let mut tags = vec!["security".to_string()];
        tags.extend(cloud.map(|c| c.as_str().to_string()));
        tags.extend(cited.get(id.as_str()).into_iter().flatten().map(|s| c(s)));
        tags.truncate(MAX_TAGS);
        out.push(Rule {
            id: id.clone(),
            title: c(&title),
            description: c(&description),
            remediation: c(&remediation),
            severity,
            cloud,
            tags,
        });
    }
    Ok(out)
}

fn rule_json(r: &Rule) -> Value {
    let id = c(&r.id);
    let mut v = json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": r.title},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "severity": r.severity.as_str(),
            "security-severity": security_severity(r.severity),
            "cloud": r.cloud.map(Cloud::as_str),
            "tags": r.tags,
        },
    });
    if !r.description.is_empty() {
        v["fullDescription"] = json!({"text": r.description});
    }
    if !r.remediation.is_empty() {
        v["help"] = json!({"text": r.remediation});
    }
    v
}

fn result_json(rule: &Rule, index: usize, f: &FindingRow) -> Value {
    let r = &f.resource;
    let evidence: Vec<Value> = f.evidence.iter().map(|e| json!({"path": c(&e.path), "value": c(&e.value)})).collect();
    let why = match &f.message {
        Some(m) if f.evidence.is_empty() => c(m),
        _ => f.evidence.iter().map(|e| format!("{} = {}", c(&e.path), c(&e.value))).collect::<Vec<_>>().join("; "),
    };
    let mut text = format!("{}: {} ({}) in {}", rule.title, c(&r.name), c(&r.rtype), c(&r.scope));
    if !why.is_empty() {
        text.push_str(&format!(". {why}"));
    }
    json!({
        "ruleId": c(&rule.id),
        "ruleIndex": index,
        "kind": "fail",
        "level": level(rule.severity),
        "message": {"text": text},
        "locations": [{"logicalLocations": [{"name": c(&r.name), "fullyQualifiedName": c(&r.id), "kind": "resource"}]}],
        "partialFingerprints": {"postureFinding/v1": fingerprint(&f.check, &r.id)},
        "properties": {
            "cloud": r.cloud.as_str(),
            "scope": c(&r.scope),
            "region": c(&r.region),
            "resourceType": c(&r.rtype),
            "evidence": evidence,
        },
    })
}

/// The SARIF log of `req.run`.
pub fn build(store: &Store, catalog: &Catalog, req: &SarifRequest) -> Result<Value, StoreError> {
    let rules = rules(store, catalog, req)?;
    // Most severe first, then by check id: the order results are kept in when they must be cut.
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|&a, &b| rules[a].severity.cmp(&rules[b].severity).then(rules[a].id.cmp(&rules[b].id)));
    let mut results = Vec::new();
    let mut omitted: BTreeMap<&'static str, u64> = BTreeMap::new();
    for i in order {
        let rule = &rules[i];
        let filter = FindingFilter {
            checks: Some(vec![rule.id.clone()]),
            states: Some(vec![FindingState::Unhealthy]),
            order: FindingOrder::Check,
            ..Default::default()
        };
        let before = results.len();
        if results.len() < req.max_results {
            store.for_each_finding(req.run.id, &filter, &mut |f| {
                results.push(result_json(rule, i, &f));
                results.len() < req.max_results
            })?;
        }
        let kept = (results.len() - before) as u64;
        let total = store.count_findings(req.run.id, &filter)?;
        if total > kept {
            *omitted.entry(rule.severity.as_str()).or_default() += total - kept;
        }
    }
    let left_out: u64 = omitted.values().sum();
    let mut notifications = Vec::new();
    if left_out > 0 {
        notifications.push(json!({
            "level": "warning",
            "descriptor": {"id": "posture/results-truncated"},
            "message": {"text": format!(
                "{left_out} unhealthy findings were left out: a SARIF run holds at most {} results, \
                 the most severe kept first; `posture findings --state unhealthy` lists them all",
                req.max_results
            )},
        }));
    }
    let mut driver = json!({
        "name": "posture",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules.iter().map(rule_json).collect::<Vec<_>>(),
    });
    let home = [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")].into_iter().find(|u| !u.is_empty());
    if let Some(uri) = home {
        driver["informationUri"] = json!(uri);
    }
    if req.run.status != crate::assess::RunStatus::Complete {
        notifications.push(json!({
            "level": "warning",
            "descriptor": {"id": "posture/run-partial"},
            "message": {"text": format!("run {} is {}: some sources could not be read", req.run.id, c(req.run.status.as_str()))},
        }));
    }
    // A stored run is a successful execution, partial or not (a run that read nothing is not stored).
    let mut invocation = json!({"executionSuccessful": true});
    // SARIF times are UTC, written with a `Z`.
    let utc = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .ok()
    };
    if let Some(start) = utc(&req.run.started_at) {
        invocation["startTimeUtc"] = json!(start);
    }
    if let Some(end) = req.run.finished_at.as_deref().and_then(utc) {
        invocation["endTimeUtc"] = json!(end);
    }
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    Ok(json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": format!("posture/run-{}", req.run.id)},
            "invocations": [invocation],
            "results": results,
            "properties": {
                "run_id": req.run.id,
                "run_status": req.run.status,
                "demo": req.run.demo,
                "truncated": left_out > 0,
                "max_results": req.max_results,
                "omitted_results": left_out,
                "omitted_by_severity": omitted,
            },
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_scores_follow_severity() {
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        for (s, lo, hi) in [(Severity::High, 7.0, 8.9), (Severity::Medium, 4.0, 6.9), (Severity::Low, 0.1, 3.9)] {
            let v: f64 = security_severity(s).parse().unwrap();
            assert!((lo..=hi).contains(&v), "{s}: {v}");
        }
    }

    #[test]
    fn fingerprints_are_stable_and_keyed_on_check_and_resource() {
        assert_eq!(fingerprint("a", "r"), fingerprint("a", "r"));
        assert_ne!(fingerprint("a", "r"), fingerprint("a", "s"));
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    }
}
