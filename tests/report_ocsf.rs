//! `posture report STANDARD --format ocsf`: OCSF Compliance Finding NDJSON on the real binary
//! over the demo estate, counted against the report model the library builds.

use posture::catalog::Catalog;
use posture::report::{ReportRequest, build};
use posture::store::Store;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const STANDARD: &str = "cis-azure-2.0";
const SCOPE_A: &str = "3f6c2a1e-8b4d-4e27-9a15-6c0d7e2f9b31";

mod common;
use common::{assessed_with as assessed, posture_on as posture};

fn events(db: &Path, config: &str, args: &[&str]) -> Vec<Value> {
    let out = posture(db, config).arg("report").args(args).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with('\n'), "NDJSON ends each line: {:?}", &text[text.len().saturating_sub(80)..]);
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}: {l}", i + 1)))
        .collect()
}

fn is_control(e: &Value) -> bool {
    e["finding_info"]["types"][0] == "Control"
}

fn request<'a>(run: &'a posture::store::RunInfo, scopes: &'a [String], cap: usize) -> ReportRequest<'a> {
    ReportRequest { standard: STANDARD, run, scopes, max_resources_per_check: cap, now: chrono::Utc::now() }
}

/// The scopes the report model covers over the whole run.
fn model_scopes(db: &Path) -> Vec<String> {
    let store = Store::open(db).unwrap();
    let run = store.resolve_run(None).unwrap();
    let r = build(&store, &Catalog::load_with_dirs(&[]), &request(&run, &[], 25)).unwrap();
    r.scopes.iter().map(|s| s.scope.clone()).collect()
}

/// (control events, finding events) the report model has, one report per scope.
fn model_counts(db: &Path, scopes: &[String], cap: usize) -> (usize, usize) {
    let store = Store::open(db).unwrap();
    let catalog = Catalog::load_with_dirs(&[]);
    let run = store.resolve_run(None).unwrap();
    let (mut controls, mut findings) = (0, 0);
    for s in scopes {
        let one = [s.clone()];
        let r = build(&store, &catalog, &request(&run, &one, cap)).unwrap();
        controls += r.controls().count();
        findings += r.controls().flat_map(|(_, c)| &c.checks).map(|k| k.failing.len()).sum::<usize>();
    }
    (controls, findings)
}

#[test]
fn every_line_is_a_compliance_finding_with_the_required_ocsf_fields() {
    let (_d, db) = assessed("");
    let evs = events(&db, "", &[STANDARD, "--format", "ocsf"]);
    assert!(!evs.is_empty());
    let scopes = model_scopes(&db);
    for e in &evs {
        assert_eq!(e["class_uid"], 2003, "{e}");
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["activity_id"], 1);
        assert_eq!(e["type_uid"], 2003 * 100 + 1);
        assert_eq!(e["class_name"], "Compliance Finding");
        assert!(e["time"].as_i64().is_some_and(|t| t > 1_600_000_000_000), "time in ms: {}", e["time"]);
        assert!((0..=6).contains(&e["severity_id"].as_i64().unwrap()) || e["severity_id"] == 99);
        assert!(e["severity"].is_string());
        assert_eq!(e["status_id"], 1);
        assert_eq!(e["metadata"]["version"], "1.3.0");
        assert_eq!(e["metadata"]["product"]["name"], "posture");
        assert!(e["metadata"]["product"]["version"].is_string());
        let comp = &e["compliance"];
        assert_eq!(comp["standards"], serde_json::json!([STANDARD]));
        assert!(comp["control"].is_string());
        assert!([1, 2, 3, 99].contains(&comp["status_id"].as_i64().unwrap()), "{comp}");
        assert!(comp["status"].is_string() && comp["requirements"].is_array());
        let uid = e["finding_info"]["uid"].as_str().unwrap();
        assert!(uid.starts_with("posture-"), "{uid}");
        assert!(e["finding_info"]["title"].is_string());
        assert_eq!(e["cloud"]["provider"], "Azure");
        assert!(scopes.iter().any(|s| e["cloud"]["account"]["uid"] == s.as_str()), "{}", e["cloud"]);
        assert_eq!(e["cloud"]["account"]["type_id"], 13);
    }
    // Failing resources carry their resource, evidence and the fix.
    let finding = evs.iter().find(|e| !is_control(e)).expect("the demo has failing resources");
    let r = &finding["resources"][0];
    for k in ["uid", "name", "type", "region"] {
        assert!(r[k].is_string(), "resources[0].{k}: {finding}");
    }
    assert_eq!(finding["compliance"]["status_id"], 3);
    assert!(finding["evidences"][0]["data"].is_object(), "{finding}");
    assert!(finding["remediation"]["desc"].is_string());
    // A failed control's event is as severe as its worst failing check, a passed one informational.
    let failed = evs.iter().find(|e| is_control(e) && e["compliance"]["status"] == "Fail").unwrap();
    assert!(failed["severity_id"].as_i64().unwrap() >= 2, "{failed}");
    let passed = evs.iter().find(|e| is_control(e) && e["compliance"]["status"] == "Pass").unwrap();
    assert_eq!(passed["severity_id"], 1);
}

#[test]
fn one_event_per_control_and_scope_and_per_listed_failing_resource() {
    let (_d, db) = assessed("");
    let evs = events(&db, "", &[STANDARD, "--format", "ocsf"]);
    let scopes = model_scopes(&db);
    assert!(scopes.len() >= 2 && scopes.iter().any(|s| s == SCOPE_A), "{scopes:?}");
    let (controls, findings) = model_counts(&db, &scopes, 25);
    let control_events = evs.iter().filter(|e| is_control(e)).count();
    assert_eq!(control_events, controls);
    assert_eq!(evs.len() - control_events, findings);
    assert!(findings > 0);
    // Each control appears once per scope.
    let mut per_scope: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in evs.iter().filter(|e| is_control(e)) {
        let scope = e["cloud"]["account"]["uid"].as_str().unwrap().to_string();
        let control = e["compliance"]["control"].as_str().unwrap().to_string();
        assert!(per_scope.entry(scope).or_default().insert(control), "a control twice in one scope");
    }
    assert_eq!(per_scope.len(), scopes.len());
    assert!(per_scope.values().all(|c| *c == per_scope[SCOPE_A]), "every scope has every control");
    assert_eq!(per_scope[SCOPE_A].len() * scopes.len(), controls);
    // Every event has its own id.
    let uids: BTreeSet<&str> = evs.iter().map(|e| e["finding_info"]["uid"].as_str().unwrap()).collect();
    assert_eq!(uids.len(), evs.len());

    // --scope narrows to one scope.
    let narrowed = events(&db, "", &[STANDARD, "--format", "ocsf", "--scope", SCOPE_A]);
    let (controls_a, findings_a) = model_counts(&db, &[SCOPE_A.to_string()], 25);
    assert_eq!(narrowed.iter().filter(|e| is_control(e)).count(), controls_a);
    assert_eq!(narrowed.len() - controls_a, findings_a);
    assert!(narrowed.iter().all(|e| e["cloud"]["account"]["uid"] == SCOPE_A));

    // The cap of the report bounds the finding events; the rest are counted.
    let capped = events(&db, "report_max_resources_per_check = 1\n", &[STANDARD, "--format", "ocsf"]);
    let (_, findings_1) = model_counts(&db, &scopes, 1);
    assert_eq!(capped.len() - controls, findings_1);
    assert!(findings_1 < findings);
    let not_listed: u64 =
        capped.iter().filter(|e| is_control(e)).map(|e| e["unmapped"]["posture"]["not_listed"].as_u64().unwrap()).sum();
    assert_eq!(not_listed as usize, findings - findings_1, "what is not listed is counted");
}

#[test]
fn uids_are_stable_across_runs_of_the_same_estate() {
    let (_d, db) = assessed("");
    let first = events(&db, "", &[STANDARD, "--format", "ocsf"]);
    posture(&db, "").arg("assess").assert().success();
    let second = events(&db, "", &[STANDARD, "--format", "ocsf", "--run", "2"]);
    let again = events(&db, "", &[STANDARD, "--format", "ocsf", "--run", "1"]);
    assert_eq!(first, again, "rendering the same run twice gives the same events");
    let uids = |evs: &[Value]| -> BTreeSet<String> {
        evs.iter().map(|e| e["finding_info"]["uid"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(uids(&first), uids(&second), "the same estate gives the same uids in another run");
    assert_ne!(first[0]["unmapped"]["posture"]["run_id"], second[0]["unmapped"]["posture"]["run_id"]);
}

#[test]
fn out_file_with_ndjson_extension_is_ocsf() {
    let (d, db) = assessed("");
    let path = d.path().join("events.ndjson");
    posture(&db, "").args(["report", STANDARD, "--out"]).arg(&path).assert().success();
    let text = std::fs::read_to_string(&path).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["class_uid"], 2003);
    let listed = events(&db, "", &[STANDARD, "--format", "ocsf"]);
    assert_eq!(text.lines().count(), listed.len());
}
