//! The OSCAL Assessment Results of a report: one result for the run, whose reviewed controls
//! are the standard's controls, with a finding per decided control (passed: satisfied,
//! failed: not-satisfied), the observations behind each (checks, attestations), and the
//! exemptions in force as risks. import-ap points into the back-matter, at a resource that
//! describes the plan posture follows, since posture keeps no separate assessment plan.

use super::common::{Ids, control_token, line, metadata, own_prop, put, refs};
use super::observe::{
    assessed, attestation_observation, attestation_observation_id, check_observation, check_observation_id, collected,
    evidence_resources, exemption_risk, exemption_risk_id, exemptions_of, inventory_items, run_end, run_start,
};
use crate::model::ControlState;
use crate::report::{ControlReport, Report};
use serde_json::{Map, Value, json};

/// The `assessment-results` document of `report`.
pub fn document(report: &Report) -> Result<Value, String> {
    let ids = Ids::new(report);
    let std = &report.standard;
    let plan = ids.of(&["assessment-plan"]);
    let mut back_matter = vec![plan_resource(report, &plan)];
    back_matter.extend(report.attestations.iter().flat_map(|a| evidence_resources(&ids, a)));
    let doc = json!({
        "uuid": ids.of(&["assessment-results"]),
        "metadata": metadata(report, &ids, format!("Assessment results: {} {}", std.name, std.version)),
        "import-ap": {
            "href": format!("#{plan}"),
            "remarks": "posture keeps no separate assessment plan: this back-matter resource describes the plan it follows.",
        },
        "results": [result(report, &ids)?],
        "back-matter": { "resources": back_matter },
    });
    Ok(json!({ "assessment-results": doc }))
}

/// The back-matter resource the import-ap points to.
fn plan_resource(report: &Report, uuid: &str) -> Value {
    let std = &report.standard;
    let sources = if report.sources.is_empty() { "the run's inventory".to_string() } else { report.sources.join(", ") };
    json!({
        "uuid": uuid,
        "title": format!("Assessment plan: {} {} by posture", std.name, std.version),
        "description": format!(
            "Every control of {} is reviewed. Automated controls are tested by posture's checks against the \
             inventory read from {sources}; manual controls are decided by attestations, examined with their \
             evidence. Exemptions recorded in posture are accepted risks until they expire.",
            std.id
        ),
        "props": [{ "name": "type", "value": "plan" }],
    })
}

/// Whether the control has a finding: only a decided control (passed or failed) has one.
fn satisfied(c: &ControlReport) -> Option<bool> {
    match c.state {
        ControlState::Passed => Some(true),
        ControlState::Failed => Some(false),
        ControlState::Skipped | ControlState::Manual | ControlState::Unsupported => None,
    }
}

/// The one result: the run, its reviewed controls, observations, risks and findings.
fn result(report: &Report, ids: &Ids) -> Result<Value, String> {
    let run = &report.run;
    let collected = collected(report)?;
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for (_, control) in report.controls() {
        let Some(ok) = satisfied(control) else { continue };
        let mut related = Vec::new();
        for check in control.checks.iter().filter(|c| assessed(c)) {
            observations.push(check_observation(ids, control, check, &collected));
            related.push(check_observation_id(ids, control, check));
        }
        related.extend(
            report
                .attestations
                .iter()
                .filter(|a| a.control == control.id && !a.expired)
                .map(|a| attestation_observation_id(ids, a)),
        );
        let risks: Vec<String> = exemptions_of(report, control).map(|e| exemption_risk_id(ids, e)).collect();
        findings.push(finding(ids, control, ok, &related, &risks));
    }
    observations.extend(report.attestations.iter().map(|a| attestation_observation(ids, a)));
    let mut risks = Vec::new();
    for e in &report.exemptions {
        // The observations of the check it covers, under every decided control that has it.
        let mut related = Vec::new();
        for (_, control) in report.controls().filter(|(_, c)| satisfied(c).is_some()) {
            for check in control.checks.iter().filter(|k| k.id == e.check && assessed(k)) {
                related.push(check_observation_id(ids, control, check));
            }
        }
        risks.push(exemption_risk(ids, e, &related));
    }

    let mut r = Map::new();
    r.insert("uuid".into(), json!(ids.of(&["result"])));
    r.insert("title".into(), json!(format!("Run {} of {}", run.id, report.standard.id)));
    let c = &report.counts;
    r.insert(
        "description".into(),
        json!(format!(
            "posture's assessment of {} over run {} ({}): {} controls passed, {} failed, {} await attestation, \
             {} skipped, {} unsupported; {:.1}% compliant.",
            report.standard.name,
            run.id,
            run.status,
            c.passed,
            c.failed,
            c.manual,
            c.skipped,
            c.unsupported,
            report.compliance_pct
        )),
    );
    r.insert("start".into(), json!(run_start(report)?));
    if let Some(end) = run_end(report)? {
        r.insert("end".into(), json!(end));
    }
    let scopes = report.scopes.iter().map(|s| format!("{} {}", s.cloud, s.scope)).collect::<Vec<_>>().join(", ");
    let props = [
        own_prop("run-id", &run.id.to_string()),
        own_prop("run-status", &run.status),
        own_prop("state", report.state.as_str()),
        own_prop("compliance-percentage", &format!("{:.1}", report.compliance_pct)),
        own_prop("scopes", &scopes),
    ];
    put(&mut r, "props", props.into_iter().flatten().collect());
    let items = inventory_items(ids, report.controls().flat_map(|(_, c)| &c.checks));
    if !items.is_empty() {
        r.insert("local-definitions".into(), json!({ "inventory-items": items }));
    }
    r.insert("reviewed-controls".into(), reviewed_controls(report));
    r.insert("assessment-log".into(), json!({ "entries": [log_entry(report, ids)?] }));
    put(&mut r, "observations", observations);
    put(&mut r, "risks", risks);
    put(&mut r, "findings", findings);
    if let Some(label) = report.demo_label() {
        r.insert("remarks".into(), json!(label));
    }
    Ok(Value::Object(r))
}

/// The standard's controls by id (every one, whatever its state).
fn reviewed_controls(report: &Report) -> Value {
    let include: Vec<Value> = report.controls().map(|(_, c)| json!({ "control-id": control_token(&c.id) })).collect();
    let selection =
        if include.is_empty() { json!({ "include-all": {} }) } else { json!({ "include-controls": include }) };
    json!({
        "description": format!("The controls of {} {}.", report.standard.name, report.standard.version),
        "control-selections": [selection],
    })
}

/// The run as the result's one log entry.
fn log_entry(report: &Report, ids: &Ids) -> Result<Value, String> {
    let run = &report.run;
    let mut e = Map::new();
    e.insert("uuid".into(), json!(ids.of(&["log", "run"])));
    e.insert("title".into(), json!(format!("posture run {}", run.id)));
    let sources = if report.sources.is_empty() { "no source recorded".to_string() } else { report.sources.join(", ") };
    e.insert("description".into(), json!(format!("{} resources assessed, read from {sources}.", run.resources)));
    e.insert("start".into(), json!(run_start(report)?));
    if let Some(end) = run_end(report)? {
        e.insert("end".into(), json!(end));
    }
    Ok(Value::Object(e))
}

/// The finding of a decided control.
fn finding(ids: &Ids, control: &ControlReport, ok: bool, observations: &[String], risks: &[String]) -> Value {
    let (state, reason) = if ok { ("satisfied", "pass") } else { ("not-satisfied", "fail") };
    let mut target = Map::new();
    target.insert("type".into(), json!("objective-id"));
    target.insert("target-id".into(), json!(control_token(&control.id)));
    let how = match &control.attestation {
        Some(a) => format!("decided by attestation ({a})"),
        None => format!("{} healthy and {} unhealthy resources", control.healthy, control.unhealthy),
    };
    target.insert("description".into(), json!(format!("Control {} {}: {how}.", control.id, control.state)));
    put(&mut target, "props", own_prop("control-id", &control.id).into_iter().collect());
    let mut status = Map::new();
    status.insert("state".into(), json!(state));
    status.insert("reason".into(), json!(reason));
    target.insert("status".into(), Value::Object(status));
    let mut f = Map::new();
    f.insert("uuid".into(), json!(ids.of(&["finding", &control.id])));
    f.insert("title".into(), json!(format!("{} {}", control.id, control.title)));
    let description = line(&control.description).unwrap_or_else(|| control.title.clone());
    f.insert("description".into(), json!(description));
    f.insert("target".into(), Value::Object(target));
    put(&mut f, "related-observations", refs("observation-uuid", observations));
    put(&mut f, "related-risks", refs("risk-uuid", risks));
    Value::Object(f)
}
