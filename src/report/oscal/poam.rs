//! The OSCAL Plan of Action and Milestones of a report: a POA&M item per failed control, its
//! risk (open) with a remediation per failing check, and the improvement actions' owners and
//! due dates as the remediation's tasks (a milestone on the due date, the owner as the
//! responsible party); exemptions in force are risks whose deviation was approved, with their
//! deadline. posture knows no system security plan, so the system is named by `system-id`: a
//! v5 UUID of the scopes covered, the same for every run over them.

use super::common::{Ids, Role, end_of_day, line, metadata, own_prop, put, refs};
use super::observe::{
    assessed, attestation_observation, attestation_observation_id, check_observation, check_observation_id, collected,
    evidence_resources, exemption_risk, exemption_risk_id, exemptions_of, inventory_items,
};
use crate::model::ControlState;
use crate::report::{ActionView, ControlReport, Report};
use serde_json::{Map, Value, json};

/// The `plan-of-action-and-milestones` document of `report`; an error when the standard has
/// no failed control, as OSCAL's POA&M holds at least one item.
pub fn document(report: &Report) -> Result<Value, String> {
    let ids = Ids::new(report);
    let collected = collected(report)?;
    let failed: Vec<&ControlReport> =
        report.controls().map(|(_, c)| c).filter(|c| c.state == ControlState::Failed).collect();
    if failed.is_empty() {
        return Err(format!(
            "{} has no failed control in run {}: a POA&M needs at least one item",
            report.standard.id, report.run.id
        ));
    }
    let (mut observations, mut risks, mut items, mut back_matter) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for control in &failed {
        let mut related = Vec::new();
        for check in control.checks.iter().filter(|c| c.unhealthy > 0 && assessed(c)) {
            observations.push(check_observation(&ids, control, check, &collected));
            related.push(check_observation_id(&ids, control, check));
        }
        for a in report.attestations.iter().filter(|a| a.control == control.id && !a.expired) {
            observations.push(attestation_observation(&ids, a));
            back_matter.extend(evidence_resources(&ids, a));
            related.push(attestation_observation_id(&ids, a));
        }
        let risk = ids.of(&["risk", "control", &control.id]);
        risks.push(control_risk(report, &ids, control, &risk, &related));
        let mut related_risks = vec![risk];
        related_risks.extend(exemptions_of(report, control).map(|e| exemption_risk_id(&ids, e)));
        items.push(poam_item(&ids, control, &related, &related_risks));
    }
    risks.extend(report.exemptions.iter().map(|e| exemption_risk(&ids, e, &[])));
    let std = &report.standard;
    let scopes = report.scopes.iter().map(|s| format!("{} {}", s.cloud, s.scope)).collect::<Vec<_>>().join(", ");
    let mut local = Map::new();
    put(&mut local, "inventory-items", inventory_items(&ids, failed.iter().flat_map(|c| &c.checks)));
    local.insert("remarks".into(), json!(format!("The system is the cloud scopes the run covered: {scopes}.")));
    let mut doc = Map::new();
    doc.insert("uuid".into(), json!(ids.of(&["plan-of-action-and-milestones"])));
    doc.insert(
        "metadata".into(),
        metadata(report, &ids, format!("Plan of action and milestones: {} {}", std.name, std.version)),
    );
    doc.insert(
        "system-id".into(),
        json!({ "identifier-type": "https://ietf.org/rfc/rfc4122", "id": Ids::system(report) }),
    );
    doc.insert("local-definitions".into(), Value::Object(local));
    put(&mut doc, "observations", observations);
    put(&mut doc, "risks", risks);
    doc.insert("poam-items".into(), Value::Array(items));
    if !back_matter.is_empty() {
        doc.insert("back-matter".into(), json!({ "resources": back_matter }));
    }
    Ok(json!({ "plan-of-action-and-milestones": Value::Object(doc) }))
}

/// The improvement actions of a control: its checks' and its own (`STANDARD/CONTROL`).
fn actions_of<'a>(report: &'a Report, control: &'a ControlReport) -> impl Iterator<Item = &'a ActionView> {
    let own = format!("{}/{}", report.standard.id, control.id);
    report.actions.iter().filter(move |a| a.id == own || control.checks.iter().any(|c| c.id == a.id))
}

/// The open risk of a failed control, with what is planned against it.
fn control_risk(report: &Report, ids: &Ids, control: &ControlReport, uuid: &str, related: &[String]) -> Value {
    let failing: Vec<String> =
        control.checks.iter().filter(|c| c.unhealthy > 0).map(|c| format!("{} ({})", c.id, c.unhealthy)).collect();
    let statement = match (&control.attestation, failing.is_empty()) {
        (Some(a), true) => format!("An attestation decided the control: {a}."),
        (_, true) => "The control is not met.".to_string(),
        (_, false) => format!("Failing resources by check: {}.", failing.join(", ")),
    };
    let mut remediations = Vec::new();
    for check in control.checks.iter().filter(|c| c.unhealthy > 0) {
        let actions: Vec<&ActionView> = report.actions.iter().filter(|a| a.id == check.id).collect();
        let text = line(&check.remediation).unwrap_or_else(|| format!("Make every resource pass {}.", check.id));
        let key = [control.id.as_str(), check.id.as_str()];
        remediations.push(remediation(ids, key, &format!("Fix {}", check.id), &text, &actions));
    }
    let own = format!("{}/{}", report.standard.id, control.id);
    if let Some(a) = report.actions.iter().find(|a| a.id == own) {
        let key = [control.id.as_str(), a.id.as_str()];
        remediations.push(remediation(ids, key, &a.title, &format!("Meet control {}.", control.id), &[a]));
    }
    let mut r = Map::new();
    r.insert("uuid".into(), json!(uuid));
    r.insert("title".into(), json!(format!("{} {} is not satisfied", control.id, control.title)));
    r.insert("description".into(), json!(line(&control.description).unwrap_or_else(|| control.title.clone())));
    r.insert("statement".into(), json!(statement));
    put(&mut r, "props", own_prop("control-id", &control.id).into_iter().collect());
    r.insert("status".into(), json!("open"));
    if let Some(due) = actions_of(report, control).filter_map(|a| a.due).min() {
        r.insert("deadline".into(), json!(end_of_day(due)));
    }
    put(&mut r, "remediations", remediations);
    put(&mut r, "related-observations", refs("observation-uuid", related));
    Value::Object(r)
}

/// A planned response to `key` (control, check or action); its tasks are the actions' owners
/// and due dates.
fn remediation(ids: &Ids, key: [&str; 2], title: &str, description: &str, actions: &[&ActionView]) -> Value {
    let tasks: Vec<Value> = actions.iter().filter_map(|a| task(ids, key[0], a)).collect();
    let mut r = Map::new();
    r.insert("uuid".into(), json!(ids.of(&["response", "remediation", key[0], key[1]])));
    r.insert("lifecycle".into(), json!(if tasks.is_empty() { "recommendation" } else { "planned" }));
    r.insert("title".into(), json!(title));
    r.insert("description".into(), json!(description));
    put(&mut r, "tasks", tasks);
    Value::Object(r)
}

/// An action's owner and due date as a task: a milestone on the due date (an action when it
/// has an owner only); None when it has neither. A check's action can serve several controls,
/// so the task's id names the control too.
fn task(ids: &Ids, control: &str, a: &ActionView) -> Option<Value> {
    let owner = a.owner.as_deref().and_then(line);
    if owner.is_none() && a.due.is_none() {
        return None;
    }
    let mut t = Map::new();
    t.insert("uuid".into(), json!(ids.of(&["task", control, &a.id])));
    t.insert("type".into(), json!(if a.due.is_some() { "milestone" } else { "action" }));
    let title = match a.due {
        Some(d) => format!("{} due {d}", a.title),
        None => a.title.clone(),
    };
    t.insert("title".into(), json!(title));
    let props = [
        own_prop("action-id", &a.id),
        own_prop("points", &format!("{}/{}", a.achieved, a.points)),
        own_prop("overdue", "true").filter(|_| a.overdue),
    ];
    put(&mut t, "props", props.into_iter().flatten().collect());
    if let Some(d) = a.due {
        t.insert("timing".into(), json!({ "on-date": { "date": end_of_day(d) } }));
    }
    if let Some(o) = owner {
        t.insert(
            "responsible-roles".into(),
            json!([{ "role-id": Role::ActionOwner.id(), "party-uuids": [ids.party(&o)] }]),
        );
    }
    Some(Value::Object(t))
}

/// The POA&M item of a failed control.
fn poam_item(ids: &Ids, control: &ControlReport, observations: &[String], risks: &[String]) -> Value {
    let mut i = Map::new();
    i.insert("uuid".into(), json!(ids.of(&["poam-item", &control.id])));
    i.insert("title".into(), json!(format!("{} {}", control.id, control.title)));
    let description = match line(&control.description) {
        Some(d) => format!("{d} Failing resources: {}.", control.unhealthy),
        None => format!("Control {} failed; failing resources: {}.", control.id, control.unhealthy),
    };
    i.insert("description".into(), json!(description));
    put(&mut i, "props", own_prop("control-id", &control.id).into_iter().collect());
    put(&mut i, "related-observations", refs("observation-uuid", observations));
    put(&mut i, "related-risks", refs("risk-uuid", risks));
    Value::Object(i)
}
