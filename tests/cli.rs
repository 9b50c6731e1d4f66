//! The CLI contract, on the real binary with a temporary cache.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn posture(db: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", db.with_extension("config.toml")).env_remove("NO_COLOR");
    // an empty config file: defaults
    std::fs::write(db.with_extension("config.toml"), "").unwrap();
    c
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// A folder of the real public data in ../shared/data; CI has it, so its absence is a failure.
fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    assert!(p.exists(), "{} is absent: clone the repo with ../shared beside it (CI does)", p.display());
    Some(p)
}

#[test]
fn assess_demo_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = posture(&db).args(["assess", "--format", "json"]).assert().success().get_output().stdout.clone();
    let v = json_of(&out);
    for k in ["id", "started_at", "finished_at", "resources", "sources"] {
        assert!(v["run"].get(k).is_some(), "run.{k} missing: {v}");
    }
    let standards = v["standards"].as_array().unwrap();
    assert!(standards.len() >= 5, "{}", standards.len());
    for s in standards {
        for k in [
            "id",
            "name",
            "version",
            "state",
            "passed_controls",
            "failed_controls",
            "skipped_controls",
            "manual_controls",
            "unsupported_controls",
            "compliance_pct",
        ] {
            assert!(s.get(k).is_some(), "standard.{k} missing: {s}");
        }
    }
    for k in ["achieved", "possible", "percentage"] {
        assert!(v["compliance_score"].get(k).is_some());
    }
    for k in ["current", "max", "percentage"] {
        assert!(v["secure_score"].get(k).is_some());
    }
}

#[test]
fn assess_table_names_demo_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = posture(&db).arg("assess").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("DEMO DATA"), "{text}");
    assert!(text.contains("Compliance score"));
    assert!(text.contains("Secure score"));
    assert!(text.contains(" of "), "N of M controls: {text}");
}

#[test]
fn fail_under_exits_3_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    posture(&db).args(["assess", "--fail-under", "100"]).assert().code(3);
    posture(&db).args(["assess", "--fail-under", "0"]).assert().success();
    posture(&db).args(["assess", "--standard", "nope"]).assert().code(2);
    posture(&db).args(["assess", "--source", "/definitely/not/here"]).assert().code(2);
    posture(&db).args(["assess", "--fail-under", "250"]).assert().code(2);
}

#[test]
fn listings_read_the_latest_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    // no run yet: a clear message, exit 2
    let err = posture(&db).args(["controls", "cis-azure-2.0"]).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&err).contains("posture assess"));
    posture(&db).arg("assess").assert().success();

    let v =
        json_of(&posture(&db).args(["standards", "list", "--format", "json"]).assert().success().get_output().stdout);
    let first = &v.as_array().unwrap()[0];
    for k in ["id", "name", "version", "clouds", "controls", "origin"] {
        assert!(first.get(k).is_some(), "{first}");
    }

    let v = json_of(
        &posture(&db).args(["checks", "--format", "json", "--cloud", "azure"]).assert().success().get_output().stdout,
    );
    let checks = v.as_array().unwrap();
    assert!(checks.iter().all(|c| c["cloud"] == "azure"));
    if let Some(c) = checks.first() {
        for k in
            ["id", "title", "severity", "cloud", "resource_types", "aliases", "action", "mandatory", "security_control"]
        {
            assert!(c.get(k).is_some(), "{c}");
        }
    }

    let v = json_of(
        &posture(&db).args(["controls", "cis-azure-2.0", "--format", "json"]).assert().success().get_output().stdout,
    );
    let c = &v.as_array().unwrap()[0];
    for k in ["id", "section", "title", "state", "checks", "healthy_resources", "unhealthy_resources", "attestation"] {
        assert!(c.get(k).is_some(), "{c}");
    }

    let v = json_of(
        &posture(&db)
            .args(["findings", "--format", "json", "--state", "unhealthy"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    for f in v.as_array().unwrap() {
        assert_eq!(f["state"], "unhealthy");
        for k in ["check", "state", "resource", "evidence", "controls"] {
            assert!(f.get(k).is_some(), "{f}");
        }
        for k in ["id", "name", "type", "cloud", "scope", "region"] {
            assert!(f["resource"].get(k).is_some(), "{f}");
        }
        assert!(f["remediation"].get("text").is_some(), "{f}");
    }
    // The fix command is filled for the finding's resource (an Azure storage account here).
    let f = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "azure.storage.min_tls_12")
        .expect("the demo has an account that accepts TLS 1.0");
    let cmd = f["remediation"]["command"].as_str().unwrap();
    let name = f["resource"]["name"].as_str().unwrap();
    let rg = f["resource"]["id"].as_str().unwrap().split('/').nth(4).unwrap();
    let sub = f["resource"]["scope"].as_str().unwrap();
    assert_eq!(
        cmd,
        format!("az storage account update -n {name} -g {rg} --min-tls-version TLS1_2 --subscription {sub}")
    );
    posture(&db).args(["findings", "--state", "healthy"]).assert().code(2);
    posture(&db).args(["findings", "--control", "1.1"]).assert().code(2);

    let v = json_of(&posture(&db).args(["actions", "--format", "json"]).assert().success().get_output().stdout);
    let a = &v.as_array().unwrap()[0];
    for k in ["id", "kind", "title", "points", "achieved", "state", "owner", "due"] {
        assert!(a.get(k).is_some(), "{a}");
    }
    // ordered by points at stake
    let stakes: Vec<i64> =
        v.as_array().unwrap().iter().map(|a| a["points"].as_i64().unwrap() - a["achieved"].as_i64().unwrap()).collect();
    assert!(stakes.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn validate_reports_file_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let std_dir = dir.path().join("mine");
    std::fs::create_dir(&std_dir).unwrap();
    std::fs::write(std_dir.join("good.toml"), "[standard]\nid = \"mine\"\nname = \"Mine\"\nversion = \"1\"\nclouds = [\"azure\"]\n\n[[control]]\nid = \"1\"\ntitle = \"A manual control\"\n").unwrap();
    posture(&db).args(["standards", "validate"]).arg(&std_dir).assert().success();
    std::fs::write(std_dir.join("bad.toml"), "[standard]\nid = \"bad\"\nname = \"Bad\"\nversion = \"1\"\n\n[[control]]\nid = \"1\"\ntitle = \"x\"\nchecks = [\"no_such_check\"]\n").unwrap();
    let out = posture(&db).args(["standards", "validate"]).arg(&std_dir).assert().code(2).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("bad.toml:9:"), "{text}");
    assert!(text.contains("unknown check id 'no_such_check'"), "{text}");
    // the shipped catalog validates
    posture(&db)
        .args(["standards", "validate"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("standards"))
        .assert()
        .success();
}

#[test]
fn user_standards_dir_extends_the_catalog_and_a_broken_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let sd = dir.path().join("std");
    std::fs::create_dir(&sd).unwrap();
    std::fs::write(sd.join("mine.toml"), "[standard]\nid = \"mine\"\nname = \"Mine\"\nversion = \"1\"\nclouds = [\"azure\"]\n[[control]]\nid = \"1\"\ntitle = \"t\"\n").unwrap();
    std::fs::write(sd.join("broken.toml"), "[standard\n").unwrap();
    let cfg = db.with_extension("config.toml");
    let mut cmd = Command::cargo_bin("posture").unwrap();
    std::fs::write(&cfg, format!("standards_dirs = [{:?}]\n", sd.display().to_string())).unwrap();
    let out = cmd
        .env("POSTURE_DB", &db)
        .env("POSTURE_CONFIG", &cfg)
        .args(["standards", "list", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json_of(&out.stdout);
    assert!(v.as_array().unwrap().iter().any(|s| s["id"] == "mine" && s["origin"] == "user"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken.toml:1:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn real_exports_assess_and_partial_runs_are_marked() {
    let Some(aws) = shared("aws-config-rdk-example-ci") else {
        return;
    };
    let Some(gcp) = shared("gcp-policy-library-cai") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let out = posture(&db)
        .args(["assess", "--format", "json", "--source"])
        .arg(&aws)
        .arg("--source")
        .arg(format!("gcp:{}", gcp.display()))
        .arg("--source")
        .arg(&bad)
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json_of(&out.stdout);
    assert_eq!(v["run"]["status"], "partial");
    assert!(v["run"]["resources_seen"].as_u64().unwrap() >= 70 + 40);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn history_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    posture(&db).args(["diff"]).assert().code(2);
    posture(&db).arg("assess").assert().success();
    posture(&db).arg("assess").assert().success();
    let v = json_of(&posture(&db).args(["history", "--format", "json"]).assert().success().get_output().stdout);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v[0]["standards"].as_object().unwrap().len() >= 5);
    let d = json_of(&posture(&db).args(["diff", "--format", "json"]).assert().success().get_output().stdout);
    assert_eq!(d["new_failures"].as_array().unwrap().len(), 0, "same estate twice: nothing new");
    assert_eq!(d["compliance_delta"], 0.0);
    // as text: times a person reads, and one line instead of six empty sections
    let text = posture(&db).arg("diff").assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&text);
    let head = text.lines().next().unwrap();
    let stamp = regex::Regex::new(r"^Run 1 \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\) → run 2 \(").unwrap();
    assert!(stamp.is_match(head), "{text}");
    assert!(text.contains("Nothing changed") && !text.contains("(0)"), "{text}");
}

#[test]
fn a_text_diff_shows_only_the_sections_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let root = env!("CARGO_MANIFEST_DIR");
    posture(&db).args(["assess", "--source", &format!("{root}/fixtures/aws/dev")]).assert().success();
    posture(&db)
        .args(["assess", "--source", &format!("{root}/fixtures/azure/resource-graph-dev.json")])
        .assert()
        .success();
    let text = posture(&db).arg("diff").assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&text);
    for shown in ["New failures (", "Resources appeared (", "Resources disappeared ("] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    // nothing unhealthy in the first run is still there in the second: no "Fixed" section
    assert!(!text.contains("Fixed") && !text.contains("(0)"), "{text}");
}

#[test]
fn not_a_cache_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    std::fs::write(&db, "this is not sqlite at all, just text that is long enough to be a header.............")
        .unwrap();
    let err = posture(&db).args(["history"]).assert().code(1).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&err).contains("not a posture cache"), "{}", String::from_utf8_lossy(&err));
}

#[test]
fn import_prowler_and_oscal_frameworks_that_then_validate() {
    let Some(prowler) = shared("prowler/compliance/azure/cis_6.0_azure.json") else { return };
    let Some(oscal) = shared(
        "oscal-content/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = dir.path().join("std");
    std::fs::create_dir(&out).unwrap();
    posture(&db)
        .args(["standards", "import", "prowler"])
        .arg(&prowler)
        .arg("--out")
        .arg(out.join("cis6.toml"))
        .assert()
        .success();
    posture(&db)
        .args(["standards", "import", "oscal"])
        .arg(&oscal)
        .args(["--id", "nist-low", "--out"])
        .arg(out.join("low.toml"))
        .assert()
        .success();
    posture(&db).args(["standards", "validate"]).arg(&out).assert().success();
    let text = std::fs::read_to_string(out.join("low.toml")).unwrap();
    assert_eq!(text.matches("[[control]]").count(), 149, "131 controls and 18 enhancements");
    assert!(text.contains("id = \"AC-2\""));
    posture(&db).args(["standards", "import", "bogus"]).arg(&prowler).assert().code(2);
}

#[test]
fn the_demo_is_never_assessed_into_a_cache_of_real_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let azure = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure");
    posture(&db).args(["assess", "--source"]).arg(format!("azure:{}", azure.display())).assert().success();
    let out = posture(&db).args(["assess"]).assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("demo estate is not assessed into it"));
    let runs = json_of(&posture(&db).args(["history", "--format", "json"]).assert().success().get_output().stdout);
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    // A demo cache takes demo runs as before.
    let demo = dir.path().join("demo.db");
    posture(&demo).arg("assess").assert().success();
    posture(&demo).arg("assess").assert().success();
}

#[test]
fn the_evaluation_budget_comes_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut c = posture(&db);
    // posture() wrote an empty config; this one allows a single comprehension step.
    std::fs::write(db.with_extension("config.toml"), "eval_max_steps = 1\neval_max_time = \"2s\"\n").unwrap();
    c.args(["assess"]).assert().success();
    let v = json_of(
        &posture_keep_config(&db)
            .args(["findings", "--format", "json", "--state", "error"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let budget = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap_or_default().contains("evaluation budget exceeded"))
        .count();
    assert!(budget > 0, "{v}");
    std::fs::write(db.with_extension("config.toml"), "eval_max_time = \"2h\"\n").unwrap();
    let out = posture_keep_config(&db).arg("assess").assert().code(2).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("config.toml:1:"), "{}", String::from_utf8_lossy(&out));
}

/// The binary on `db` with the config file already beside it.
fn posture_keep_config(db: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", db.with_extension("config.toml")).env_remove("NO_COLOR");
    c
}
