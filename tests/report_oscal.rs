//! `posture report --format oscal-ar|oscal-poam`: the documents validate against NIST's OSCAL
//! 1.1.3 schema, and say what the run, its attestations, exemptions and actions say.

mod common;

use common::Cache;
use serde_json::Value;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const STANDARD: &str = "cis-azure-2.0";
const SCOPE_B: &str = "a92e5d04-1c7b-4f63-8e29-d4b01f6a7c58";
const AWS_ACCOUNT: &str = "418295730164";
/// 6.1: RDP from the internet, which three NSGs of the demo estate allow.
const FAILING_CHECK: &str = "azure.network.nsg_rdp_restricted";
const EVIDENCE: &[u8] = b"conditional access export";

/// The demo estate with an attestation backed by a file, one on a note alone (failed), an
/// exemption and an action with an owner and a due date.
struct Estate {
    cache: Cache,
    evidence_sha256: String,
    note_only_control: String,
}

fn estate() -> Estate {
    let cache = common::cache();
    let ev = cache.dir.path().join("mfa-policy.pdf");
    std::fs::write(&ev, EVIDENCE).unwrap();
    let attest = ["attest", STANDARD, "1.1.2", "--status", "passed", "--note", "MFA enforced\x1b[31m by CA"];
    cache.cmd().args(attest).arg("--evidence").arg(&ev).assert().success();
    let note_only_control = common::manual_control(&cache);
    cache
        .cmd()
        .args(["attest", STANDARD, &note_only_control, "--status", "failed", "--note", "asked the admins: not yet"])
        .assert()
        .success();
    cache
        .cmd()
        .args(["exempt", "azure.defender.databases_plan", "--scope", SCOPE_B, "--category", "waiver"])
        .args(["--reason", "databases move out in Q1", "--expires", "2099-01-01"])
        .assert()
        .success();
    cache.cmd().args(["assign", FAILING_CHECK, "--owner", "bob", "--due", "2030-06-30"]).assert().success();
    Estate { cache, evidence_sha256: hex::encode(sha2::Sha256::digest(EVIDENCE)), note_only_control }
}

impl Estate {
    fn render(&self, format: &str, extra: &[&str]) -> Value {
        let mut args = vec!["report", STANDARD, "--format", format];
        args.extend_from_slice(extra);
        self.cache.json(&args)
    }
}

/// NIST's complete schema for 1.1.3; CI has ../shared, so its absence is a failure.
fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/oscal-schema/oscal_complete_schema-1-1-3.json");
    assert!(p.exists(), "{} is absent: clone the repo with ../shared beside it (CI does)", p.display());
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// Every error of `doc` against the official schema. The schema's root is a oneOf over the
/// models, whose error says only that none matched, so the errors are listed against the
/// root narrowed to the document's own model; the document must pass the official root too.
fn schema_errors(schema: &Value, doc: &Value) -> Vec<String> {
    let strict = |s: &Value| jsonschema::options().should_validate_formats(true).build(s).unwrap();
    let model = doc.as_object().unwrap().keys().next().unwrap().clone();
    let mut narrowed = schema.clone();
    let branch = schema["oneOf"].as_array().unwrap().iter().find(|b| b["properties"].get(&model).is_some()).unwrap();
    let root = narrowed.as_object_mut().unwrap();
    root.remove("oneOf");
    for k in ["properties", "required", "additionalProperties"] {
        root.insert(k.to_string(), branch[k].clone());
    }
    let mut errors: Vec<String> =
        strict(&narrowed).iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() && !strict(schema).is_valid(doc) {
        errors.push("valid against the narrowed root but not the official oneOf".to_string());
    }
    errors
}

fn by_uuid<'a>(items: &'a Value, uuid: &Value) -> &'a Value {
    items.as_array().unwrap().iter().find(|i| i["uuid"] == *uuid).unwrap_or_else(|| panic!("no item {uuid}"))
}

/// Every `uuid` value in the document, in order.
fn uuids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if k == "uuid" => out.push(s.clone()),
                    _ => uuids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| uuids(x, out)),
        _ => {}
    }
}

#[test]
fn assessment_results_and_poam_of_the_demo_validate_against_the_oscal_1_1_3_schema() {
    let e = estate();
    let bare = common::cache();
    let schema = schema();
    for format in ["oscal-ar", "oscal-poam"] {
        let doc = e.render(format, &[]);
        let errors = schema_errors(&schema, &doc);
        assert!(errors.is_empty(), "{format}: {} schema errors:\n{}", errors.len(), errors.join("\n"));
        // The check is not vacuous: a malformed id and a missing metadata title are caught.
        let mut broken = doc.clone();
        let model = broken.as_object_mut().unwrap().values_mut().next().unwrap();
        model["uuid"] = Value::from("not-a-uuid");
        model["metadata"].as_object_mut().unwrap().remove("title");
        assert_eq!(schema_errors(&schema, &broken).len(), 2, "{format}: the broken copy passed");
        // The demo estate with no governance at all, whole and one scope of it.
        for extra in [&[][..], &["--scope", SCOPE_B][..]] {
            let mut args = vec!["report", STANDARD, "--format", format];
            args.extend_from_slice(extra);
            let errors = schema_errors(&schema, &bare.json(&args));
            assert!(errors.is_empty(), "{format} {extra:?}: {}", errors.join("\n"));
        }
    }
    // An AWS account has nothing of an Azure standard: results with no finding, and no POA&M,
    // which OSCAL wants at least one item in.
    let aws = ["report", STANDARD, "--scope", AWS_ACCOUNT, "--format"];
    let errors = schema_errors(&schema, &bare.json(&[&aws[..], &["oscal-ar"]].concat()));
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    bare.cmd()
        .args(aws)
        .arg("oscal-poam")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has no failed control in run 1: a POA&M needs at least one item"));
}

#[test]
fn a_failing_control_is_a_not_satisfied_finding_whose_test_observation_names_the_failing_resources() {
    let e = estate();
    let ar = &e.render("oscal-ar", &[])["assessment-results"];
    let result = &ar["results"][0];
    let finding = result["findings"].as_array().unwrap().iter().find(|f| f["target"]["target-id"] == "_6.1").unwrap();
    assert_eq!(finding["target"]["type"], "objective-id");
    assert_eq!(finding["target"]["status"]["state"], "not-satisfied");
    let passed = result["findings"].as_array().unwrap().iter().find(|f| f["target"]["target-id"] == "_1.1.2").unwrap();
    assert_eq!(passed["target"]["status"]["state"], "satisfied");
    let obs = finding["related-observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| by_uuid(&result["observations"], &r["observation-uuid"]))
        .find(|o| o["title"].as_str().unwrap().starts_with(FAILING_CHECK))
        .unwrap();
    assert_eq!(obs["methods"], serde_json::json!(["TEST"]));
    let items = &result["local-definitions"]["inventory-items"];
    let named: BTreeSet<String> = obs["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["type"], "inventory-item");
            let item = by_uuid(items, &s["subject-uuid"]);
            let asset = item["props"].as_array().unwrap().iter().find(|p| p["name"] == "asset-id").unwrap();
            asset["value"].as_str().unwrap().to_string()
        })
        .collect();
    // The same three NSGs the CSV report lists for 6.1, each with its evidence.
    let csv =
        e.cache.cmd().args(["report", STANDARD, "--format", "csv"]).assert().success().get_output().stdout.clone();
    let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(&csv[..]);
    let header = r.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let listed: BTreeSet<String> = r
        .records()
        .map(Result::unwrap)
        .filter(|row| &row[col("ROW")] == "resource" && &row[col("CHECKID")] == FAILING_CHECK)
        .map(|row| row[col("RESOURCEID")].to_string())
        .collect();
    assert_eq!(named.len(), 3);
    assert_eq!(named, listed);
    let evidence: Vec<&str> =
        obs["relevant-evidence"].as_array().unwrap().iter().map(|x| x["description"].as_str().unwrap()).collect();
    assert!(listed.iter().all(|id| evidence.iter().any(|d| d.starts_with(&format!("{id}: ")) && d.contains(" = "))));
    // Every control of the standard is reviewed.
    let reviewed = &result["reviewed-controls"]["control-selections"][0]["include-controls"];
    assert!(reviewed.as_array().unwrap().iter().any(|c| c["control-id"] == "_6.1"));
}

#[test]
fn failing_resources_beyond_the_cap_are_counted_in_the_observation() {
    let e = estate();
    std::fs::write(e.cache.dir.path().join("config.toml"), "report_max_resources_per_check = 1\n").unwrap();
    let result = &e.render("oscal-ar", &[])["assessment-results"]["results"][0];
    let obs = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["title"].as_str().unwrap().starts_with(FAILING_CHECK))
        .unwrap();
    assert_eq!(obs["subjects"].as_array().unwrap().len(), 1);
    assert!(obs["remarks"].as_str().unwrap().starts_with("2 more failing resources"), "{}", obs["remarks"]);
}

#[test]
fn an_attestation_with_a_file_is_an_examine_observation_whose_back_matter_carries_its_sha256() {
    let e = estate();
    let ar = &e.render("oscal-ar", &[])["assessment-results"];
    let observations = &ar["results"][0]["observations"];
    let attestation = |control: &str| {
        let title = format!("Attestation of {control}: ");
        observations.as_array().unwrap().iter().find(|o| o["title"].as_str().unwrap().starts_with(&title)).unwrap()
    };
    let examined = attestation("1.1.2");
    assert_eq!(examined["methods"], serde_json::json!(["EXAMINE"]));
    // Exactly the note minus its control character.
    assert_eq!(examined["description"], "MFA enforced\u{fffd}[31m by CA");
    let href = examined["relevant-evidence"][0]["href"].as_str().unwrap();
    let resource = by_uuid(&ar["back-matter"]["resources"], &Value::from(href.strip_prefix('#').unwrap()));
    assert_eq!(resource["title"], "mfa-policy.pdf");
    let hash = &resource["rlinks"][0]["hashes"][0];
    assert_eq!(
        (hash["algorithm"].as_str(), hash["value"].as_str()),
        (Some("SHA-256"), Some(e.evidence_sha256.as_str()))
    );
    // The attester is a party of the metadata and the observation's origin.
    let party = &examined["origins"][0]["actors"][0];
    assert_eq!(party["type"], "party");
    let parties = &ar["metadata"]["parties"];
    assert_eq!(by_uuid(parties, &party["actor-uuid"])["name"], common::ATTESTER);
    let interviewed = attestation(&e.note_only_control);
    assert_eq!(interviewed["methods"], serde_json::json!(["INTERVIEW"]));
    assert!(interviewed.get("relevant-evidence").is_none());
}

#[test]
fn an_exemption_is_an_approved_deviation_with_its_expiry_as_deadline_in_both_documents() {
    let e = estate();
    let ar = e.render("oscal-ar", &[]);
    let poam = e.render("oscal-poam", &[]);
    for risks in [&ar["assessment-results"]["results"][0]["risks"], &poam["plan-of-action-and-milestones"]["risks"]] {
        let risk = risks
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["title"].as_str().unwrap().starts_with("Exemption of azure.defender.databases_plan"))
            .unwrap();
        assert_eq!(risk["status"], "deviation-approved");
        assert_eq!(risk["deadline"], "2099-01-01T23:59:59Z");
        assert_eq!(risk["description"], "databases move out in Q1");
        assert_eq!(risk["remediations"][0]["lifecycle"], "completed");
        assert_eq!(risk["remediations"][0]["title"], "Risk accepted (waiver)");
    }
}

#[test]
fn an_actions_owner_and_due_date_are_a_milestone_of_the_failed_controls_poam_item() {
    let e = estate();
    let poam = &e.render("oscal-poam", &[])["plan-of-action-and-milestones"];
    let item = poam["poam-items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("6.1 "))
        .unwrap();
    let risks: Vec<&Value> =
        item["related-risks"].as_array().unwrap().iter().map(|r| by_uuid(&poam["risks"], &r["risk-uuid"])).collect();
    let risk = risks.iter().find(|r| r["status"] == "open").unwrap();
    assert_eq!(risk["deadline"], "2030-06-30T23:59:59Z");
    let fix =
        risk["remediations"].as_array().unwrap().iter().find(|r| r["title"] == format!("Fix {FAILING_CHECK}")).unwrap();
    assert_eq!(fix["lifecycle"], "planned");
    let task = &fix["tasks"][0];
    assert_eq!(task["type"], "milestone");
    assert_eq!(task["timing"]["on-date"]["date"], "2030-06-30T23:59:59Z");
    let role = &task["responsible-roles"][0];
    assert_eq!(role["role-id"], "action-owner");
    assert_eq!(by_uuid(&poam["metadata"]["parties"], &role["party-uuids"][0])["name"], "bob");
    // The item's observations are the failing check's test.
    let obs = by_uuid(&poam["observations"], &item["related-observations"][0]["observation-uuid"]);
    assert!(obs["title"].as_str().unwrap().starts_with(FAILING_CHECK));
    // A control failed by attestation has an item too, backed by the attester's word.
    let attested = poam["poam-items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with(&format!("{} ", e.note_only_control)))
        .unwrap();
    let said = by_uuid(&poam["observations"], &attested["related-observations"][0]["observation-uuid"]);
    assert_eq!(said["methods"], serde_json::json!(["INTERVIEW"]));
    assert!(poam["system-id"]["id"].is_string());
}

#[test]
fn rendering_the_same_run_again_gives_the_same_uuids_and_each_names_one_object() {
    let e = estate();
    for format in ["oscal-ar", "oscal-poam"] {
        let (mut first, mut again) = (Vec::new(), Vec::new());
        uuids(&e.render(format, &[]), &mut first);
        uuids(&e.render(format, &[]), &mut again);
        assert!(first.len() > 10, "{format}: {} uuids", first.len());
        assert_eq!(first, again, "{format}: ids changed between two renders of one run");
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for u in &first {
            *count.entry(u).or_default() += 1;
        }
        let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{format}: ids used twice: {twice:?}");
    }
    // Another run is another document, with other ids.
    e.cache.cmd().arg("assess").assert().success();
    let id = |extra: &[&str]| e.render("oscal-ar", extra)["assessment-results"]["uuid"].clone();
    assert_ne!(id(&[]), id(&["--run", "1"]));
    assert_eq!(id(&["--run", "1"]), id(&["--run", "1"]));
}
