//! Observations, the resources they name, back-matter evidence and exemption risks, as both
//! documents state them: a check's result is a TEST observation whose subjects are the failing
//! resources (inventory items); an attestation is an EXAMINE observation when evidence backs it
//! (each piece a back-matter resource, files with their SHA-256) or an INTERVIEW when it is
//! the attester's word alone; an exemption in force is an accepted risk with its deadline.

use super::common::{Ids, Role, end_of_day, instant, line, own_prop, parse_instant, party_origin, prop, put, refs};
use crate::report::{
    AttestationView, CheckReport, ControlReport, ExemptionView, FailingResource, Report, evidence_line,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Characters an href keeps as they are: RFC 3986's unreserved and the delimiters of a URL.
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'#')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b'%');

/// The run's start as OSCAL's date-time.
pub fn run_start(report: &Report) -> Result<String, String> {
    parse_instant(&report.run.started_at, &format!("run {} start", report.run.id))
}

/// The run's end as OSCAL's date-time, when it has one.
pub fn run_end(report: &Report) -> Result<Option<String>, String> {
    let run = &report.run;
    run.finished_at.as_deref().map(|end| parse_instant(end, &format!("run {} end", run.id))).transpose()
}

/// When the run's evidence was collected: its end, or its start while it has none.
pub fn collected(report: &Report) -> Result<String, String> {
    match run_end(report)? {
        Some(end) => Ok(end),
        None => run_start(report),
    }
}

/// The id of the observation of `check` under `control`.
pub fn check_observation_id(ids: &Ids, control: &ControlReport, check: &CheckReport) -> String {
    ids.of(&["observation", "check", &control.id, &check.id])
}

/// The id of the inventory item of a resource.
fn resource_id(ids: &Ids, r: &FailingResource) -> String {
    ids.of(&["resource", &r.resource.id])
}

/// Whether a check assessed anything (an observation of it says something).
pub fn assessed(check: &CheckReport) -> bool {
    check.healthy + check.unhealthy + check.error + check.exempt > 0
}

/// The TEST observation of one check of a control: counts, and for failing resources the
/// subjects and the evidence of each, with the count of those beyond the report's cap.
pub fn check_observation(ids: &Ids, control: &ControlReport, check: &CheckReport, collected: &str) -> Value {
    let assessed = check.healthy + check.unhealthy + check.error;
    let mut description =
        format!("{} of {assessed} resources assessed by {} failed: {}.", check.unhealthy, check.id, check.title);
    if check.error > 0 {
        description.push_str(&format!(" The condition could not be evaluated on {}.", check.error));
    }
    if check.exempt > 0 {
        description.push_str(&format!(" {} exempt resources are not counted.", check.exempt));
    }
    let mut o = Map::new();
    o.insert("uuid".into(), json!(check_observation_id(ids, control, check)));
    o.insert("title".into(), json!(format!("{}: {}", check.id, check.title)));
    o.insert("description".into(), json!(description));
    let props = [
        own_prop("check-id", &check.id),
        own_prop("severity", check.severity.as_str()),
        own_prop("healthy", &check.healthy.to_string()),
        own_prop("unhealthy", &check.unhealthy.to_string()),
    ];
    put(&mut o, "props", props.into_iter().flatten().collect());
    o.insert("methods".into(), json!(["TEST"]));
    if check.unhealthy > 0 {
        o.insert("types".into(), json!(["finding"]));
    }
    put(
        &mut o,
        "subjects",
        check
            .failing
            .iter()
            .map(|f| json!({ "subject-uuid": resource_id(ids, f), "type": "inventory-item" }))
            .collect(),
    );
    o.insert("collected".into(), json!(collected));
    put(
        &mut o,
        "relevant-evidence",
        check
            .failing
            .iter()
            .map(|f| json!({ "description": format!("{}: {}", f.resource.id, evidence_line(f)) }))
            .collect(),
    );
    if check.more > 0 {
        o.insert(
            "remarks".into(),
            json!(format!("{} more failing resources are not listed (report_max_resources_per_check).", check.more)),
        );
    }
    Value::Object(o)
}

/// Inventory items for the failing resources the observations name, each once.
pub fn inventory_items<'a>(ids: &Ids, checks: impl IntoIterator<Item = &'a CheckReport>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in checks.into_iter().flat_map(|c| &c.failing) {
        let r = &f.resource;
        if !seen.insert(r.id.as_str()) {
            continue;
        }
        let name = if r.name.is_empty() { &r.id } else { &r.name };
        let props = [
            prop("asset-id", &r.id),
            own_prop("resource-type", &r.rtype),
            own_prop("cloud", r.cloud.as_str()),
            own_prop("scope", &r.scope),
            own_prop("region", &r.region),
        ];
        let mut item = Map::new();
        item.insert("uuid".into(), json!(resource_id(ids, f)));
        item.insert("description".into(), json!(format!("{} {name} in {} {}", r.rtype, r.cloud, r.scope)));
        put(&mut item, "props", props.into_iter().flatten().collect());
        out.push(Value::Object(item));
    }
    out
}

/// The id of an attestation's observation.
pub fn attestation_observation_id(ids: &Ids, a: &AttestationView) -> String {
    ids.of(&["observation", "attestation", &a.id.to_string()])
}

fn evidence_resource_id(ids: &Ids, a: &AttestationView, index: usize) -> String {
    ids.of(&["evidence", &a.id.to_string(), &index.to_string()])
}

/// An attestation as an observation: EXAMINE with its evidence, INTERVIEW on its note alone.
pub fn attestation_observation(ids: &Ids, a: &AttestationView) -> Value {
    let mut o = Map::new();
    o.insert("uuid".into(), json!(attestation_observation_id(ids, a)));
    o.insert("title".into(), json!(format!("Attestation of {}: {}", a.control, a.status.as_str())));
    let note = if a.note.trim().is_empty() { "No note was recorded." } else { a.note.as_str() };
    o.insert("description".into(), json!(note));
    let props = [
        own_prop("control-id", &a.control),
        own_prop("attestation-status", a.status.as_str()),
        own_prop("scope", a.scope.as_deref().unwrap_or("")),
    ];
    put(&mut o, "props", props.into_iter().flatten().collect());
    let method = if a.evidence.is_empty() { "INTERVIEW" } else { "EXAMINE" };
    o.insert("methods".into(), json!([method]));
    if a.expired {
        o.insert("types".into(), json!(["historic"]));
    }
    put(&mut o, "origins", party_origin(ids, &a.attester, Role::Attester).into_iter().collect());
    o.insert("collected".into(), json!(instant(a.created_at)));
    o.insert("expires".into(), json!(end_of_day(a.expires)));
    put(
        &mut o,
        "relevant-evidence",
        a.evidence
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let what = match &e.sha256 {
                    Some(h) => format!("{} (SHA-256 {h})", e.name),
                    None => e.name.clone(),
                };
                json!({ "href": format!("#{}", evidence_resource_id(ids, a, i)), "description": what })
            })
            .collect(),
    );
    if a.expired {
        o.insert("remarks".into(), json!(format!("Expired on {}: no longer decides the control.", a.expires)));
    }
    Value::Object(o)
}

/// Back-matter resources for an attestation's evidence: a file points to its copy in the
/// evidence store beside the cache (`evidence/SHA256`) and carries its SHA-256; a link is
/// its URL.
pub fn evidence_resources(ids: &Ids, a: &AttestationView) -> Vec<Value> {
    a.evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let rlink = match &e.sha256 {
                Some(h) => json!({
                    "href": format!("evidence/{}", utf8_percent_encode(h, URL_KEEP)),
                    "hashes": [{ "algorithm": "SHA-256", "value": h }],
                }),
                None => json!({ "href": utf8_percent_encode(&e.name, URL_KEEP).to_string() }),
            };
            let mut r = Map::new();
            r.insert("uuid".into(), json!(evidence_resource_id(ids, a, i)));
            r.insert("title".into(), json!(e.name));
            r.insert(
                "description".into(),
                json!(format!("Evidence of the attestation of {} by {}.", a.control, a.attester)),
            );
            put(&mut r, "props", own_prop("file-name", &e.name).into_iter().filter(|_| e.sha256.is_some()).collect());
            r.insert("rlinks".into(), json!([rlink]));
            Value::Object(r)
        })
        .collect()
}

/// The id of an exemption's risk.
pub fn exemption_risk_id(ids: &Ids, e: &ExemptionView) -> String {
    ids.of(&["risk", "exemption", &e.id.to_string()])
}

/// An exemption in force as a risk whose deviation was approved: its reason, its author, a
/// completed response (risk accepted, or mitigated), and its expiry as the deadline.
pub fn exemption_risk(ids: &Ids, e: &ExemptionView, related: &[String]) -> Value {
    let mitigated = e.category.eq_ignore_ascii_case("mitigated");
    let reason = if e.reason.trim().is_empty() { "No reason was recorded." } else { e.reason.as_str() };
    let by = line(&e.author).map(|a| format!(", recorded by {a}")).unwrap_or_default();
    let origin: Vec<Value> = party_origin(ids, &e.author, Role::ExemptionAuthor).into_iter().collect();
    let mut response = Map::new();
    response.insert("uuid".into(), json!(ids.of(&["response", "exemption", &e.id.to_string()])));
    response.insert("lifecycle".into(), json!("completed"));
    let title = if mitigated { "Mitigated by other means" } else { "Risk accepted (waiver)" };
    response.insert("title".into(), json!(title));
    response.insert("description".into(), json!(reason));
    put(&mut response, "origins", origin.clone());
    let mut r = Map::new();
    r.insert("uuid".into(), json!(exemption_risk_id(ids, e)));
    r.insert("title".into(), json!(format!("Exemption of {} for {}", e.check, e.target)));
    r.insert("description".into(), json!(reason));
    r.insert(
        "statement".into(),
        json!(format!(
            "{} ({}): {} is not counted against {} until {}{by}.",
            if mitigated { "Mitigated" } else { "Waiver" },
            e.category,
            e.check,
            e.target,
            e.expires
        )),
    );
    put(
        &mut r,
        "props",
        [own_prop("check-id", &e.check), own_prop("category", &e.category)].into_iter().flatten().collect(),
    );
    r.insert("status".into(), json!("deviation-approved"));
    put(&mut r, "origins", origin);
    if mitigated {
        let factor = json!({ "uuid": ids.of(&["mitigation", &e.id.to_string()]), "description": reason });
        r.insert("mitigating-factors".into(), json!([factor]));
    }
    r.insert("deadline".into(), json!(end_of_day(e.expires)));
    r.insert("remediations".into(), json!([Value::Object(response)]));
    put(&mut r, "related-observations", refs("observation-uuid", related));
    Value::Object(r)
}

/// The exemptions in force on the checks of `control`.
pub fn exemptions_of<'a>(report: &'a Report, control: &'a ControlReport) -> impl Iterator<Item = &'a ExemptionView> {
    report.exemptions.iter().filter(|e| control.checks.iter().any(|c| c.id == e.check))
}
