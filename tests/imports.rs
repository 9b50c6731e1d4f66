//! Other tools' findings through the real binary: Prowler OCSF and CSV, Security Hub ASFF,
//! Defender for Cloud REST responses, with a temporary cache.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn posture(db: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", db.with_extension("config.toml"));
    std::fs::write(db.with_extension("config.toml"), "").unwrap();
    c
}

fn json(db: &Path, args: &[&str]) -> Value {
    let out = posture(db).args(args).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
}

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    assert!(p.exists(), "{} is absent: clone the repo with ../shared beside it", p.display());
    p
}

fn findings(db: &Path) -> Vec<Value> {
    json(db, &["findings", "--format", "json"]).as_array().unwrap().clone()
}

#[test]
fn prowler_ocsf_and_csv_become_findings_of_posture_checks_and_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let ocsf = shared("prowler/outputs/example_output_azure.ocsf.json");
    let csv = shared("prowler/outputs/example_output_aws.csv");
    let v = json(
        &db,
        &[
            "assess",
            "--source",
            &format!("prowler:{}", ocsf.display()),
            "--source",
            &csv.display().to_string(),
            "--format",
            "json",
        ],
    );
    let imported: Vec<u64> =
        v["run"]["sources"].as_array().unwrap().iter().map(|s| s["imported"].as_u64().unwrap()).collect();
    assert_eq!(imported, [5, 4]);
    assert!(v["imported"]["decided"].as_u64().unwrap() >= 9, "{}", v["imported"]);
    let all = findings(&db);
    assert!(all.iter().all(|f| f["origin"] == "prowler"), "{all:?}");
    // An aliased Prowler check counts for posture's own check, and rolls up into its control.
    let app = all.iter().find(|f| f["check"] == "azure.monitor.appinsights_workspace_based").expect("aliased");
    assert_eq!(app["state"], "unhealthy");
    let controls = json(&db, &["controls", "cis-azure-2.0", "--format", "json"]);
    let c = controls.as_array().unwrap().iter().find(|c| c["id"] == "5.3.1").unwrap();
    assert_eq!(c["state"], "failed", "{c}");
    // Access Analyzer is now one of posture's checks (a regional scope check): Prowler's result counts for it.
    assert!(all.iter().any(|f| f["check"] == "aws.accessanalyzer.enabled" && f["state"] == "unhealthy"));
    // A check posture lacks is Prowler's own, with Prowler's metadata; MANUAL stays manual.
    let own = "prowler.account_maintain_different_contact_details_to_security_billing_and_operations";
    let aa = all.iter().find(|f| f["check"] == own).expect("synthetic");
    assert_eq!(aa["tool_check"]["title"], "Maintain different contact details to security, billing and operations.");
    assert_eq!(aa["tool_check"]["severity"], "medium");
    assert!(all.iter().any(|f| f["state"] == "manual"));
    let only = json(&db, &["findings", "--check", own, "--format", "json"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
}

#[test]
fn security_hub_findings_map_through_control_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let hub = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/securityhub/findings.json");
    json(&db, &["assess", "--source", &hub.display().to_string(), "--format", "json"]);
    let all = findings(&db);
    let by =
        |check: &str| all.iter().find(|f| f["check"] == check).unwrap_or_else(|| panic!("{check}: {all:?}")).clone();
    assert_eq!(
        by("aws.cloudtrail.multi_region")["state"],
        "unhealthy",
        "CloudTrail.1 → cloudtrail_multi_region_enabled"
    );
    assert_eq!(by("aws.s3.bucket_public_access_block")["state"], "exempt", "suppressed in Security Hub");
    // IAM.6 (hardware MFA for root) is posture's own check now, through Prowler's mapping.
    let iam = by("aws.iam.root_hardware_mfa");
    assert_eq!(iam["origin"], "securityhub");
    assert!(all.iter().all(|f| !f["message"].as_str().unwrap_or("").contains('\u{1b}')), "sanitized");
    assert!(
        all.iter().all(|f| f["resource"]["id"] != "arn:aws:ec2:eu-west-1:111111111111:instance/i-0123"),
        "GuardDuty left out"
    );
}

#[test]
fn defender_standards_controls_and_secure_score_beside_posture() {
    let dir = tempfile::tempdir().unwrap();
    // REST list responses from Microsoft's examples; Defender's CIS Azure 2.0 fails control 1.1.1.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/defender");
    let db = dir.path().join("c.db");
    let v = json(&db, &["assess", "--source", &format!("defender:{}", data.display()), "--format", "json"]);
    assert!(
        (v["defender_secure_score"]["percentage"].as_f64().unwrap() - 60.3).abs() < 0.05,
        "{}",
        v["defender_secure_score"]
    );
    assert!(v["secure_score"].is_object(), "posture's own stays");
    let standards = v["standards"].as_array().unwrap();
    let d = standards.iter().find(|s| s["id"] == "defender:CIS-Azure-2.0.0").expect("Defender's standard");
    assert_eq!((d["origin"].as_str(), d["state"].as_str()), (Some("defender"), Some("failed")));
    assert!(standards.iter().any(|s| s["id"] == "cis-azure-2.0" && s["origin"] == "posture"));
    // posture's control shows Defender's state beside its own
    let controls = json(&db, &["controls", "cis-azure-2.0", "--format", "json"]);
    let c = controls.as_array().unwrap().iter().find(|c| c["id"] == "1.1.1").unwrap();
    assert_eq!(c["defender"]["state"], "failed", "{c}");
    assert_eq!(c["defender"]["passed"], 7);
    let table = posture(&db).args(["controls", "cis-azure-2.0"]).assert().success().get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&table).contains("Defender: failed"));
    // Defender's own standard lists its controls
    let dc = json(&db, &["controls", "defender:CIS-Azure-2.0.0", "--format", "json"]);
    let ids: Vec<&str> = dc.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1.1.1", "2", "2.1"]);
    assert!(dc.as_array().unwrap().iter().all(|c| c["origin"] == "defender"));
    // Defender's assessments (Healthy, NotApplicable) decide its own checks; the rows of its
    // standards and scores are not resources posture evaluates.
    assert_eq!(v["imported"]["decided"], 2, "{}", v["imported"]);
    assert_eq!(v["run"]["resources_seen"], 2, "only the two assessments are resources");
    let all = findings(&db);
    assert!(!all.iter().any(|f| f["origin"] == "defender" && f["state"] == "healthy"), "{all:?}");
    let hist = json(&db, &["history", "--format", "json"]);
    assert!((hist[0]["defender_secure"]["percentage"].as_f64().unwrap() - 60.3).abs() < 0.05, "{hist}");
}
