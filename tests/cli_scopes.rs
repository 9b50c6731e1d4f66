//! Assessments (`[[assessment]]`: a standard over chosen scopes) on the real binary over the
//! demo estate: `report`, `controls` and `actions` with `--assessment` count only its scopes.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{assessed_with as assessed, posture_on as posture};

const SCOPE_A: &str = "3f6c2a1e-8b4d-4e27-9a15-6c0d7e2f9b31";
const SCOPE_B: &str = "a92e5d04-1c7b-4f63-8e29-d4b01f6a7c58";

fn config() -> String {
    format!("[[assessment]]\nname = \"prod\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"{SCOPE_A}\"]\n")
}

fn stdout(db: &Path, cfg: &str, args: &[&str]) -> String {
    let out = posture(db, cfg).args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn json(db: &Path, cfg: &str, args: &[&str]) -> Value {
    serde_json::from_str(&stdout(db, cfg, args)).unwrap()
}

/// (healthy, unhealthy) resources summed over the controls.
fn sums(v: &Value) -> (u64, u64) {
    let list = v.as_array().unwrap();
    let sum = |k: &str| list.iter().map(|c| c[k].as_u64().unwrap()).sum::<u64>();
    (sum("healthy_resources"), sum("unhealthy_resources"))
}

#[test]
fn an_assessments_controls_count_only_its_scopes() {
    let cfg = config();
    let (_d, db) = assessed(&cfg);
    let by_assessment = json(&db, &cfg, &["controls", "--assessment", "prod", "--format", "json"]);
    let by_scope = json(&db, &cfg, &["controls", "cis-azure-2.0", "--scope", SCOPE_A, "--format", "json"]);
    let other = json(&db, &cfg, &["controls", "cis-azure-2.0", "--scope", SCOPE_B, "--format", "json"]);
    let whole = json(&db, &cfg, &["controls", "cis-azure-2.0", "--format", "json"]);
    assert_eq!(by_assessment, by_scope);
    let (a, b, w) = (sums(&by_assessment), sums(&other), sums(&whole));
    assert!(a.0 + a.1 > 0 && a.0 + a.1 < w.0 + w.1, "{a:?} of {w:?}");
    // The other subscription's resources are not counted (the whole run also has the tenant's).
    assert!(a.0 + b.0 <= w.0 && a.1 + b.1 <= w.1 && b.0 + b.1 > 0, "{a:?} + {b:?} > {w:?}");
    let table = stdout(&db, &cfg, &["controls", "--assessment", "prod"]);
    assert!(table.contains(&format!("assessment prod: 1 scope(s): {SCOPE_A}")), "{table}");
    // Named with its own standard it is the same; with another, bad input.
    let named = json(&db, &cfg, &["controls", "cis-azure-2.0", "--assessment", "prod", "--format", "json"]);
    assert_eq!(named, by_assessment);
    posture(&db, &cfg)
        .args(["controls", "cis-aws-7.0", "--assessment", "prod"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is of standard 'cis-azure-2.0'"));
    posture(&db, &cfg)
        .args(["controls", "--assessment", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no assessment 'nope' in the config; its assessments: prod"));
}

#[test]
fn an_assessments_report_covers_its_scopes_and_says_so() {
    let cfg = config();
    let (_d, db) = assessed(&cfg);
    let md = stdout(&db, &cfg, &["report", "--assessment", "prod", "--format", "md"]);
    assert!(md.contains(&format!("| Covers | assessment prod: 1 scope ({SCOPE_A}) |")), "no coverage line");
    assert!(!md.contains(SCOPE_B), "a resource or scope of another subscription is in the report");
    let by_scope = stdout(&db, &cfg, &["report", "cis-azure-2.0", "--scope", SCOPE_A, "--format", "md"]);
    let summary = |t: &str| t.lines().filter(|l| l.starts_with("| Controls |")).collect::<Vec<_>>().join("\n");
    assert_eq!(summary(&md), summary(&by_scope));
    assert!(by_scope.contains(&format!("| Covers | 1 scope of the run ({SCOPE_A}) |")));
    let whole = stdout(&db, &cfg, &["report", "cis-azure-2.0", "--format", "md"]);
    assert!(!whole.contains("| Covers |"));
}

#[test]
fn an_assessments_actions_are_its_standards_over_its_scopes() {
    let cfg = config();
    let (_d, db) = assessed(&cfg);
    let by_assessment = json(&db, &cfg, &["actions", "--assessment", "prod", "--format", "json"]);
    let by_scope = json(&db, &cfg, &["actions", "--standard", "cis-azure-2.0", "--scope", SCOPE_A, "--format", "json"]);
    assert_eq!(by_assessment, by_scope);
    let whole = json(&db, &cfg, &["actions", "--standard", "cis-azure-2.0", "--format", "json"]);
    assert_ne!(by_assessment, whole, "the other subscription's failures count");
}

#[test]
fn a_config_naming_an_unknown_standard_or_a_missing_scope_is_bad_input() {
    let (_d, db) = assessed("");
    posture(&db, "standards_disabled = [\"cis-azure-2.0\", \"nope-9\"]\n")
        .args(["controls", "cis-azure-2.0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(":1:"))
        .stderr(predicates::str::contains("unknown standard 'nope-9'"));
    let cfg = "[[assessment]]\nname = \"gone\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"deadbeef\"]\n";
    posture(&db, cfg)
        .args(["report", "--assessment", "gone"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("has none of the scopes of assessment 'gone'"));
}
