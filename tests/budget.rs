//! A hostile condition in a user's standards dir cannot hang or starve a run (real binary).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const FIXTURE: &str = "fixtures/azure/resource-graph-dev.json";

/// `posture` with its cache and config in `dir`; `standards` (if any) as a user standards dir.
fn posture(dir: &Path, standards: Option<&Path>) -> Command {
    let cfg = dir.join("config.toml");
    let text = standards.map(|s| format!("standards_dirs = [{:?}]\n", s.display().to_string())).unwrap_or_default();
    std::fs::write(&cfg, text).unwrap();
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", dir.join("c.db")).env("POSTURE_CONFIG", &cfg).current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Assess the fixture, then list every finding as (check, resource, state, message).
fn assess_and_list(dir: &Path, standards: Option<&Path>) -> Vec<Value> {
    posture(dir, standards).args(["assess", "--source", FIXTURE]).assert().success();
    let out = posture(dir, standards).args(["findings", "--format", "json"]).assert().success().get_output().clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().unwrap().clone()
}

fn check(id: &str, resource_type: &str, condition: &str) -> String {
    format!(
        "[[check]]\nid = \"{id}\"\ntitle = \"hostile\"\nseverity = \"low\"\nresource_types = [\"{resource_type}\"]\n\
         condition = \"{condition}\"\naction = \"detective\"\nsecurity_control = \"enable-auditing-logging\"\n\n"
    )
}

#[test]
fn hostile_conditions_end_as_budget_errors_and_other_checks_are_unaffected() {
    let list = format!("[{}]", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
    // five nested loops over 100 elements: 10^10 steps, hours without a budget
    let loops =
        format!("{list}.all(a, {list}.all(b, {list}.all(c, {list}.all(d, {list}.all(e, a + b + c + d + e >= 0)))))");
    // every step builds a string of about 66 MB (|id|² boundaries × 20 ids): the 1,000 steps
    // would hold 66 GB; few steps and little interpreting, so memory trips long before time
    let ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
    let ids = vec!["resource.id"; 20].join(" + ");
    let memory = format!(
        "{ten}.map(a, {ten}.map(b, {ten}.map(c, resource.id.replace('', resource.id).replace('', {ids})))).size() > 0"
    );
    let root = tempfile::tempdir().unwrap();
    let std_dir = root.path().join("standards");
    std::fs::create_dir(&std_dir).unwrap();
    std::fs::write(
        std_dir.join("hostile.toml"),
        check("azure.hostile.loops", "microsoft.network/virtualnetworks", &loops)
            + &check("azure.hostile.memory", "microsoft.keyvault/vaults", &memory),
    )
    .unwrap();

    let base_dir = root.path().join("base");
    let hostile_dir = root.path().join("hostile");
    std::fs::create_dir(&base_dir).unwrap();
    std::fs::create_dir(&hostile_dir).unwrap();
    let base = assess_and_list(&base_dir, None);
    let hostile = assess_and_list(&hostile_dir, Some(&std_dir));

    let of = |check: &str| -> Vec<&Value> { hostile.iter().filter(|f| f["check"] == check).collect() };
    for (id, limit) in
        [("azure.hostile.loops", "evaluation budget exceeded"), ("azure.hostile.memory", "held more than 256 MiB")]
    {
        let findings = of(id);
        assert!(!findings.is_empty(), "{id}: no findings");
        for f in findings {
            assert_eq!(f["state"], "error", "{f}");
            let message = f["message"].as_str().unwrap_or_default();
            assert!(message.contains("evaluation budget exceeded") && message.contains(limit), "{id}: {message}");
        }
    }
    let key = |f: &Value| (f["check"].to_string(), f["resource"]["id"].to_string(), f["state"].to_string());
    let others: BTreeSet<_> =
        hostile.iter().filter(|f| !f["check"].as_str().unwrap().starts_with("azure.hostile.")).map(key).collect();
    let expected: BTreeSet<_> = base.iter().map(key).collect();
    assert!(!expected.is_empty());
    assert_eq!(others, expected, "the other checks' findings changed");
}
