//! `posture assess --format sarif`: valid SARIF 2.1.0 (the official schema, vendored in
//! tests/data/sarif), rules and results consistent, within GitHub's 25,000 results per run.

use assert_cmd::Command;
use posture::catalog::Catalog;
use posture::model::FindingState;
use posture::report::sarif::{MAX_RESULTS, SarifRequest, build};
use posture::store::{FindingFilter, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn posture(db: &Path) -> Command {
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", &cfg).env_remove("NO_COLOR");
    c
}

fn sarif(db: &Path, args: &[&str]) -> Value {
    let out =
        posture(db).args(["assess", "--format", "sarif"]).args(args).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

fn schema_errors(log: &Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

const RANK: [&str; 3] = ["error", "warning", "note"];

/// Rules are unique, every result names a rule by id and index, its level is its rule's.
fn assert_consistent(log: &Value) -> (BTreeMap<String, Value>, Vec<Value>) {
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let by_id: BTreeMap<String, Value> =
        rules.iter().map(|r| (r["id"].as_str().unwrap().to_string(), r.clone())).collect();
    assert_eq!(by_id.len(), rules.len(), "rule ids are unique");
    for r in rules {
        let sev = r["properties"]["severity"].as_str().unwrap();
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        let want = match sev {
            "high" => ("error", "8.0"),
            "medium" => ("warning", "5.5"),
            "low" => ("note", "3.0"),
            other => panic!("severity {other}"),
        };
        assert_eq!((level, r["properties"]["security-severity"].as_str().unwrap()), want, "{r}");
        assert!(r["shortDescription"]["text"].is_string());
        assert!(r["properties"]["tags"].as_array().unwrap().len() <= 20);
    }
    let results = run["results"].as_array().unwrap().clone();
    let mut prints = BTreeSet::new();
    for res in &results {
        let id = res["ruleId"].as_str().unwrap();
        let rule = by_id.get(id).unwrap_or_else(|| panic!("result of unknown rule {id}"));
        assert_eq!(rules[res["ruleIndex"].as_u64().unwrap() as usize]["id"], id, "ruleIndex points at its rule");
        assert_eq!(res["level"], rule["defaultConfiguration"]["level"]);
        let loc = &res["locations"][0]["logicalLocations"][0];
        assert!(loc["fullyQualifiedName"].is_string() && loc["kind"] == "resource", "{res}");
        assert!(res["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(prints.insert(res["partialFingerprints"]["postureFinding/v1"].as_str().unwrap().to_string()));
    }
    (by_id, results)
}

#[test]
fn demo_sarif_is_valid_sarif_with_consistent_rules_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let log = sarif(&db, &[]);
    assert_eq!(log["version"], "2.1.0");
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0:\n{}", errors.join("\n"));
    let (rules, results) = assert_consistent(&log);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "posture");
    assert!(driver["version"].is_string());
    assert!(!rules.is_empty() && !results.is_empty());
    let levels: BTreeSet<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert!(levels.len() >= 2, "the demo fails checks of several severities: {levels:?}");
    assert_eq!(log["runs"][0]["properties"]["truncated"], false);

    // As many results as unhealthy findings in the store, the most severe first.
    let store = Store::open(&db).unwrap();
    let run = store.resolve_run(None).unwrap();
    let unhealthy = FindingFilter { states: Some(vec![FindingState::Unhealthy]), ..Default::default() };
    assert_eq!(results.len() as u64, store.count_findings(run.id, &unhealthy).unwrap());
    let ranks: Vec<usize> = results.iter().map(|r| RANK.iter().position(|l| *l == r["level"]).unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "results by severity");

    // Fingerprints do not change from one run to the next of the same estate.
    let again = sarif(&db, &[]);
    let prints = |l: &Value| -> BTreeSet<String> {
        l["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].to_string()).collect()
    };
    assert_eq!(prints(&log), prints(&again));
    assert_ne!(log["runs"][0]["properties"]["run_id"], again["runs"][0]["properties"]["run_id"]);
}

#[test]
fn standard_selection_limits_the_rules_to_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let log = sarif(&db, &["--standard", "cis-azure-2.0"]);
    let (rules, _) = assert_consistent(&log);
    let catalog = Catalog::load_with_dirs(&[]);
    let std = catalog.standard("cis-azure-2.0").unwrap();
    let checks: BTreeSet<&str> = std.controls.iter().flat_map(|c| c.checks.iter().map(String::as_str)).collect();
    assert!(!rules.is_empty());
    assert!(rules.keys().all(|id| checks.contains(id.as_str())), "{:?}", rules.keys());
}

#[test]
fn truncation_keeps_the_most_severe_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    posture(&db).arg("assess").assert().success();
    let store = Store::open(&db).unwrap();
    let catalog = Catalog::load_with_dirs(&[]);
    let run = store.resolve_run(None).unwrap();
    let full = build(&store, &catalog, &SarifRequest { run: &run, standards: &[], max_results: MAX_RESULTS }).unwrap();
    let all = full["runs"][0]["results"].as_array().unwrap().clone();
    let keep = all.len() / 2;
    assert!(keep > 1);
    let cut = build(&store, &catalog, &SarifRequest { run: &run, standards: &[], max_results: keep }).unwrap();
    let results = cut["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), keep);
    assert_eq!(results[..], all[..keep], "the cut keeps the head of the full order");
    let props = &cut["runs"][0]["properties"];
    assert_eq!(props["truncated"], true);
    assert_eq!(props["omitted_results"].as_u64().unwrap() as usize, all.len() - keep);
    let by_sev: u64 = props["omitted_by_severity"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(by_sev as usize, all.len() - keep);
    let note = &cut["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["descriptor"]["id"], "posture/results-truncated");
    assert!(note["message"]["text"].as_str().unwrap().contains(&(all.len() - keep).to_string()));
    assert!(schema_errors(&cut).is_empty());
}

/// Resources of the synthetic estate: enough unhealthy findings to pass GitHub's limit.
const SYNTH_RESOURCES: usize = 12_000;

#[test]
fn a_large_estate_stops_at_25000_results() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    posture::synth::generate_with(&estate, SYNTH_RESOURCES, 7, false).unwrap();
    let db = dir.path().join("c.db");
    let log = sarif(&db, &["--source", estate.to_str().unwrap()]);
    let store = Store::open(&db).unwrap();
    let run = store.resolve_run(None).unwrap();
    let unhealthy = FindingFilter { states: Some(vec![FindingState::Unhealthy]), ..Default::default() };
    let total = store.count_findings(run.id, &unhealthy).unwrap() as usize;
    assert!(total > MAX_RESULTS, "the estate must fail more than {MAX_RESULTS} times: {total}");
    let (_, results) = assert_consistent(&log);
    assert_eq!(results.len(), MAX_RESULTS);
    let props = &log["runs"][0]["properties"];
    assert_eq!(props["truncated"], true);
    assert_eq!(props["omitted_results"].as_u64().unwrap() as usize, total - MAX_RESULTS);
    // Nothing left out is more severe than what was kept.
    let worst_kept_out =
        ["high", "medium", "low"].iter().position(|s| props["omitted_by_severity"].get(s).is_some()).unwrap();
    let least_kept = results.iter().map(|r| RANK.iter().position(|l| *l == r["level"]).unwrap()).max().unwrap();
    assert!(least_kept <= worst_kept_out, "kept {least_kept}, left out {worst_kept_out}");
    assert!(schema_errors(&log).is_empty());
}
