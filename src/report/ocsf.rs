//! OCSF Compliance Finding events (class 2003, category 2 Findings), one JSON object a line, as
//! SIEMs ingest them: one event per control of a report and one per failing resource it lists.
//! [`write_per_scope`] builds one report per scope so control events are per control × scope;
//! a report's failing resources are capped per check, so the finding events are too (the rest
//! are counted in the control event's `unmapped.posture.not_listed`).
//!
//! `finding_info.uid` is a hash of run-independent keys (standard, control, scope or resource),
//! so a SIEM can deduplicate the same finding across runs.

use super::model::{CheckReport, ControlReport, FailingResource, Report, ScopeRef};
use super::{ReportRequest, build};
use crate::catalog::Catalog;
use crate::model::{Cloud, ControlState, Severity};
use crate::store::{Store, StoreError};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.3.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// Create: every event reports a result of the run as found.
pub const ACTIVITY_CREATE: u32 = 1;
/// `class_uid * 100 + activity_id`.
pub const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_CREATE;

/// Events written by [`write`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// One per control.
    pub controls: u64,
    /// One per listed failing resource.
    pub findings: u64,
}

/// Write `report`'s events to `out`, one line each. The account of the control events is the
/// report's scope when it covers exactly one (as [`write_per_scope`] builds them).
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<EventCounts> {
    let scope = match report.scopes.as_slice() {
        [one] => Some(one),
        _ => None,
    };
    let time = event_time(report);
    let mut counts = EventCounts::default();
    for (_, control) in report.controls() {
        line(out, &control_event(report, control, scope, time))?;
        counts.controls += 1;
        for check in &control.checks {
            for f in &check.failing {
                line(out, &finding_event(report, control, check, f, time))?;
                counts.findings += 1;
            }
        }
    }
    Ok(counts)
}

/// Build one report per scope of the standard's clouds in the run (only `req.scopes` when
/// given) and write each one's events as soon as it is built, so memory holds one scope's
/// report at a time. A run with no scope of the standard's clouds gets one report of it all.
pub fn write_per_scope(
    store: &Store,
    catalog: &Catalog,
    req: &ReportRequest,
    out: &mut dyn Write,
) -> Result<EventCounts, String> {
    let standard = catalog.standard(req.standard).ok_or_else(|| format!("unknown standard '{}'", req.standard))?;
    let snap = store.snapshot(req.run).map_err(|e: StoreError| e.to_string())?;
    let scopes: Vec<String> = snap
        .scopes
        .iter()
        .filter(|(cloud, s)| standard.clouds.contains(cloud) && (req.scopes.is_empty() || req.scopes.contains(s)))
        .map(|(_, s)| s.clone())
        .collect();
    let groups: Vec<Vec<String>> =
        if scopes.is_empty() { vec![req.scopes.to_vec()] } else { scopes.into_iter().map(|s| vec![s]).collect() };
    let mut total = EventCounts::default();
    for group in groups {
        let one = ReportRequest { scopes: &group, ..req.clone() };
        let report = build(store, catalog, &one).map_err(|e| e.to_string())?;
        let n = write(&report, out).map_err(|e| format!("cannot write the OCSF events: {e}"))?;
        total.controls += n.controls;
        total.findings += n.findings;
    }
    Ok(total)
}

fn line(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    let s = serde_json::to_string(v).map_err(io::Error::other)?;
    out.write_all(crate::sanitize::json_escaped(s).as_bytes())?;
    out.write_all(b"\n")
}

/// When the run's results were established: its end (else start), in ms since the epoch.
fn event_time(report: &Report) -> i64 {
    report
        .run
        .finished_at
        .as_deref()
        .or(Some(report.run.started_at.as_str()))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| report.generated_at.timestamp_millis())
}

/// A stable id from run-independent keys.
pub fn stable_uid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("posture-{}", &hex::encode(h.finalize())[..32])
}

/// OCSF `severity_id` and its caption.
pub fn severity(s: Option<Severity>) -> (u8, &'static str) {
    match s {
        Some(Severity::High) => (4, "High"),
        Some(Severity::Medium) => (3, "Medium"),
        Some(Severity::Low) => (2, "Low"),
        None => (1, "Informational"),
    }
}

/// OCSF `compliance.status_id` and its caption for a control state: Pass, Fail, Warning (no
/// result for lack of information: awaiting attestation, or not assessable from the sources),
/// and Other for a control with nothing to assess.
pub fn compliance_status(s: ControlState) -> (u8, &'static str) {
    match s {
        ControlState::Passed => (1, "Pass"),
        ControlState::Failed => (3, "Fail"),
        ControlState::Manual | ControlState::Unsupported => (2, "Warning"),
        ControlState::Skipped => (99, "Skipped"),
    }
}

fn provider(c: Cloud) -> (&'static str, u8, &'static str) {
    match c {
        Cloud::Azure => ("Azure", 13, "Azure Subscription"),
        Cloud::Aws => ("AWS", 10, "AWS Account"),
        Cloud::Gcp => ("GCP", 11, "GCP Project"),
    }
}

fn cloud(c: Cloud, scope: &str, region: Option<&str>) -> Value {
    let (name, type_id, type_name) = provider(c);
    let mut v = json!({"provider": name, "account": {"uid": scope, "type_id": type_id, "type": type_name}});
    if let Some(r) = region.filter(|r| !r.is_empty()) {
        v["region"] = json!(r);
    }
    v
}

/// The fields every event has.
fn base(severity_id: (u8, &str), time: i64, message: String) -> Map<String, Value> {
    let v = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "time": time,
        "severity_id": severity_id.0,
        "severity": severity_id.1,
        "status_id": 1,
        "status": "New",
        "message": message,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {"name": "posture", "vendor_name": "posture", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The event of one control over the report's scope (`scope`, when it has exactly one).
pub fn control_event(report: &Report, c: &ControlReport, scope: Option<&ScopeRef>, time: i64) -> Value {
    // The most severe failing check sets the event's severity; a control that does not fail is
    // informational.
    let worst = c.checks.iter().filter(|k| k.unhealthy > 0).map(|k| k.severity).min();
    let sev = if c.state == ControlState::Failed { severity(worst) } else { severity(None) };
    let (status_id, status) = compliance_status(c.state);
    let std = &report.standard;
    let mut m = base(sev, time, format!("{} {} {}: {}", std.id, c.id, c.title, c.state));
    let mut compliance = json!({
        "standards": [std.id],
        "control": c.id,
        "requirements": c.checks.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        "status_id": status_id,
        "status": status,
        "status_code": c.state.as_str(),
    });
    if let Some(detail) = c.reason.as_deref().or(c.attestation.as_deref()) {
        compliance["status_detail"] = json!(detail);
    }
    m.insert("compliance".into(), compliance);
    let key: Vec<&str> = match scope {
        Some(s) => vec!["control", &std.id, &c.id, s.cloud.as_str(), &s.scope],
        None => vec!["control", &std.id, &c.id],
    };
    m.insert(
        "finding_info".into(),
        json!({"uid": stable_uid(&key), "title": format!("{} {}", c.id, c.title), "desc": c.description, "types": ["Control"]}),
    );
    if let Some(s) = scope {
        m.insert("cloud".into(), cloud(s.cloud, &s.scope, None));
    }
    m.insert(
        "unmapped".into(),
        json!({"posture": {
            "run_id": report.run.id,
            "demo": report.run.demo,
            "standard_name": std.name,
            "standard_version": std.version,
            "manual": c.manual,
            "healthy": c.healthy,
            "unhealthy": c.unhealthy,
            "error": c.error,
            "exempt": c.exempt,
            "not_listed": c.checks.iter().map(|k| k.more).sum::<u64>(),
        }}),
    );
    Value::Object(m)
}

/// The event of one failing resource of a control's check.
pub fn finding_event(report: &Report, c: &ControlReport, k: &CheckReport, f: &FailingResource, time: i64) -> Value {
    let r = &f.resource;
    let std = &report.standard;
    let mut m = base(severity(Some(k.severity)), time, format!("{}: {}", k.title, r.name));
    m.insert(
        "compliance".into(),
        json!({
            "standards": [std.id],
            "control": c.id,
            "requirements": [k.id],
            "status_id": 3,
            "status": "Fail",
            "status_code": "unhealthy",
        }),
    );
    m.insert(
        "finding_info".into(),
        json!({
            "uid": stable_uid(&["finding", &std.id, &c.id, &k.id, &r.id]),
            "title": k.title,
            "desc": format!("{} {}: {} fails check {}", c.id, c.title, r.name, k.id),
            "types": ["Resource"],
        }),
    );
    m.insert("resources".into(), json!([{"uid": r.id, "name": r.name, "type": r.rtype, "region": r.region}]));
    m.insert("cloud".into(), cloud(r.cloud, &r.scope, Some(&r.region)));
    m.insert("remediation".into(), json!({"desc": k.remediation}));
    let mut evidences: Vec<Value> =
        f.evidence.iter().map(|e| json!({"name": e.path, "data": {"path": e.path, "value": e.value}})).collect();
    if let Some(msg) = f.message.as_deref().filter(|_| evidences.is_empty()) {
        evidences.push(json!({"name": "message", "data": {"message": msg}}));
    }
    m.insert("evidences".into(), Value::Array(evidences));
    m.insert("unmapped".into(), json!({"posture": {"run_id": report.run.id, "demo": report.run.demo, "check": k.id}}));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_depend_on_every_key_and_not_on_how_they_split() {
        let a = stable_uid(&["finding", "std", "1.1", "check", "res"]);
        assert_eq!(a, stable_uid(&["finding", "std", "1.1", "check", "res"]));
        assert_ne!(a, stable_uid(&["finding", "std", "1.1", "check", "res2"]));
        assert_ne!(stable_uid(&["ab", "c"]), stable_uid(&["a", "bc"]));
        assert!(a.starts_with("posture-") && a.len() == 40, "{a}");
    }

    #[test]
    fn states_and_severities_map_to_ocsf_ids() {
        assert_eq!(compliance_status(ControlState::Passed), (1, "Pass"));
        assert_eq!(compliance_status(ControlState::Failed), (3, "Fail"));
        assert_eq!(compliance_status(ControlState::Manual).0, 2);
        assert_eq!(compliance_status(ControlState::Unsupported).0, 2);
        assert_eq!(compliance_status(ControlState::Skipped).0, 99);
        assert_eq!(severity(Some(Severity::High)).0, 4);
        assert_eq!(severity(Some(Severity::Low)).0, 2);
        assert_eq!(severity(None), (1, "Informational"));
        assert_eq!(TYPE_UID, 200301);
    }
}
