//! Results you can trust on a small real-shaped estate: things that must exist and do not fail,
//! partners are found wherever they lie, and nothing-to-judge earns no points.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const ACCOUNT: &str = "111122223333";

fn posture(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    let cfg = dir.join("config.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    c.env("POSTURE_DB", dir.join("c.db")).env("POSTURE_CONFIG", cfg);
    c
}

fn json_out(c: &mut Command) -> Value {
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// An Azure subscription with a key vault and a storage account, no alerts, no diagnostic
/// settings (ARM resources as `az resource list` gives them).
fn azure() -> Value {
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers");
    json!([
        {"id": format!("{rg}/Microsoft.KeyVault/vaults/kv-app"), "name": "kv-app", "type": "Microsoft.KeyVault/vaults",
         "location": "westeurope", "subscriptionId": SUB, "resourceGroup": "rg-app",
         "properties": {"tenantId": "11111111-1111-1111-1111-111111111111", "enableSoftDelete": true,
                        "enablePurgeProtection": true, "enableRbacAuthorization": true}},
        {"id": format!("{rg}/Microsoft.Storage/storageAccounts/stapp"), "name": "stapp",
         "type": "Microsoft.Storage/storageAccounts", "kind": "StorageV2", "location": "westeurope",
         "subscriptionId": SUB, "resourceGroup": "rg-app",
         "properties": {"supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_2"}}
    ])
}

fn item(rtype: &str, id: &str, configuration: Value) -> Value {
    json!({"version": "1.3", "accountId": ACCOUNT, "configurationItemCaptureTime": "2026-11-20T10:00:00.000Z",
           "configurationItemStatus": "OK", "resourceType": rtype, "resourceId": id, "awsRegion": "eu-west-1",
           "arn": format!("arn:aws:ec2:eu-west-1:{ACCOUNT}:{id}"), "relationships": [], "tags": {},
           "configuration": configuration, "supplementaryConfiguration": {}})
}

/// An AWS account with two VPCs, one flow log (on the first, in a file of its own) and no trail.
fn aws(dir: &Path) {
    let vpcs = json!([
        item("AWS::EC2::VPC", "vpc-0aaa", json!({"vpcId": "vpc-0aaa", "state": "available", "isDefault": false})),
        item("AWS::EC2::VPC", "vpc-0bbb", json!({"vpcId": "vpc-0bbb", "state": "available", "isDefault": false})),
    ]);
    let flow = json!([item(
        "AWS::EC2::FlowLog",
        "fl-0aaa",
        json!({"flowLogId": "fl-0aaa", "flowLogStatus": "ACTIVE", "resourceId": "vpc-0aaa", "trafficType": "ALL"})
    )]);
    std::fs::create_dir_all(dir).unwrap();
    // The flow log sorts after the VPCs: it is read after them and still found.
    std::fs::write(dir.join("1-vpcs.json"), vpcs.to_string()).unwrap();
    std::fs::write(dir.join("2-flow-logs.json"), flow.to_string()).unwrap();
}

fn states(findings: &Value, check: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| (f["resource"]["name"].as_str().unwrap().to_string(), f["state"].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn the_small_estate_gets_the_true_answers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("azure.json"), azure().to_string()).unwrap();
    aws(&dir.path().join("aws"));
    let run = json_out(
        posture(dir.path())
            .args(["assess", "--format", "json", "--source"])
            .arg(format!("azure:{}", dir.path().join("azure.json").display()))
            .arg("--source")
            .arg(format!("aws:{}", dir.path().join("aws").display())),
    );
    let findings = json_out(posture(dir.path()).args(["findings", "--format", "json"]));

    // The vault without any diagnostic setting fails its logging check (the finding is the vault's).
    assert_eq!(states(&findings, "azure.keyvault.logging_enabled"), [("kv-app".into(), "unhealthy".into())]);
    // Only the VPC without a flow log fails.
    assert_eq!(states(&findings, "aws.vpc.flow_logs_enabled"), [("vpc-0bbb".into(), "unhealthy".into())]);
    // No trail at all: the account fails the multi-region trail check, and says what it looked for.
    let trail: Vec<&Value> =
        findings.as_array().unwrap().iter().filter(|f| f["check"] == "aws.cloudtrail.multi_region").collect();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(
        (trail[0]["resource"]["id"].as_str(), trail[0]["resource"]["type"].as_str()),
        (Some(ACCOUNT), Some("aws.account"))
    );
    let ev = trail[0]["evidence"].to_string();
    assert!(ev.contains("related['AWS::CloudTrail::Trail']") && ev.contains(&format!("none in {ACCOUNT}")), "{ev}");
    let why = trail[0]["message"].as_str().unwrap_or_default();
    assert!(why.starts_with(&format!("found AWS::CloudTrail::Trail none in {ACCOUNT}; looked for: ")), "{why}");

    let control = |standard: &str, id: &str| -> Value {
        let v = json_out(posture(dir.path()).args(["controls", standard, "--format", "json"]));
        v.as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
    };
    assert_eq!(control("cis-aws-7.0", "4.1")["state"], "failed");
    // The activity-log alert controls of CIS Azure fail for the subscription with no alerts.
    assert_eq!(control("cis-azure-2.0", "5.2.1")["state"], "failed");
    assert_eq!(control("cis-azure-2.0", "5.1.5")["state"], "failed");

    // Skipped controls and actions earn no points: possible counts only what was judged.
    let actions = json_out(posture(dir.path()).args(["actions", "--format", "json"]));
    let mut possible = 0;
    for a in actions.as_array().unwrap() {
        if a["state"] == "skipped" {
            assert_eq!(a["achieved"], 0, "{a}");
        } else if a["state"] != "unsupported" {
            possible += a["points"].as_u64().unwrap();
        }
    }
    assert_eq!(run["compliance_score"]["possible"].as_u64(), Some(possible), "{}", run["compliance_score"]);
    assert!(run["compliance_score"]["percentage"].as_f64().unwrap() < 50.0, "{}", run["compliance_score"]);
}
