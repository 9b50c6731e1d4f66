//! `posture collect azure` as a user runs it: the Azure CLI credential through a fake `az` on
//! PATH, the snapshot assessed offline, and the one message when no credential works.

#[path = "collect_azure_support/mod.rs"]
mod support;

use assert_cmd::Command;
use support::*;

fn posture(args: Vec<String>, envs: Vec<(&'static str, String)>) -> std::process::Output {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.args(&args);
    for k in [
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "POSTURE_CONFIG",
        "POSTURE_DB",
    ] {
        c.env_remove(k);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_credential_collects_and_the_snapshot_assesses() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_az(&bin);
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config_toml(&az.server.uri(), "")).unwrap();
    let out_dir = dir.path().join("snap");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let (c, d, o) =
        (cfg.display().to_string(), dir.path().join("c.db").display().to_string(), out_dir.display().to_string());
    let args: Vec<String> =
        ["--config", &c, "--db", &d, "collect", "azure", "--out", &o, "--format", "json"].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![("PATH", path)])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["manifest"]["identity"]["credential"], "azure cli");
    assert_eq!(v["manifest"]["status"], "complete", "{v:#}");
    let logged = std::fs::read_to_string(bin.join("az-args.log")).unwrap();
    assert!(
        logged.contains("account get-access-token --output json --resource https://management.azure.com/"),
        "{logged}"
    );
    assert!(logged.contains("--resource https://graph.microsoft.com"), "{logged}");

    let args: Vec<String> =
        ["--config", &c, "--db", &d, "assess", "--source", &o, "--format", "json"].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["status"], "complete", "{v:#}");
    // the mock's resources, subscriptions and Entra data judged as subjects (Defender rows are
    // findings, not resources; the vault's diagnostic setting is read by related and scope
    // checks only, so it is seen but not a subject)
    assert!(v["run"]["resources"].as_u64().unwrap() >= 7, "{v:#}");
    assert!(v["run"]["resources_seen"].as_u64().unwrap() >= 8, "{v:#}");

    // a second collection into the same, now full, folder is refused (exit 2)
    let args: Vec<String> = ["--config", &c, "--db", &d, "collect", "azure", "--out", &o].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![])).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_exit_2_with_one_message_naming_the_three_ways() {
    let az = Azure::start(Estate::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config_toml(&az.server.uri(), "").replace("credential = \"cli\"", "credential = \"auto\""))
        .unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (c, d, o) = (
        cfg.display().to_string(),
        dir.path().join("c.db").display().to_string(),
        dir.path().join("snap").display().to_string(),
    );
    let args: Vec<String> = ["--config", &c, "--db", &d, "collect", "azure", "--out", &o].map(String::from).to_vec();
    let path = empty.display().to_string();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![("PATH", path)])).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    for way in ["AZURE_CLIENT_SECRET", "managed identity", "az login"] {
        assert!(err.contains(way), "{err}");
    }
    assert!(!dir.path().join("snap").exists());
    // nothing but the configured endpoints was asked: the mock saw no request at all
    assert!(az.server.received_requests().await.unwrap().is_empty());
}

/// A Defender assessment as Resource Graph's `securityresources` returns it (lowercase type,
/// `resourceDetails.Id`), unhealthy on the first storage account.
fn defender_row(sub: &str) -> serde_json::Value {
    let st = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st00000");
    serde_json::json!({
        "id": format!("{st}/providers/Microsoft.Security/assessments/1c5de8e1-f68d-6a17-e0d2-ec259c42768c"),
        "name": "1c5de8e1-f68d-6a17-e0d2-ec259c42768c",
        "type": "microsoft.security/assessments",
        "subscriptionId": sub,
        "properties": {
            "resourceDetails": {"Source": "Azure", "Id": st},
            "displayName": "Storage accounts should restrict network access",
            "status": {"code": "Unhealthy"},
            "metadata": {"severity": "Medium", "remediationDescription": "Deny public network access."}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assess_with_a_live_source_in_config_collects_then_assesses_with_defender_findings() {
    let az = Azure::start(Estate::default()).await;
    az.set(|e| {
        *e = small_estate(&az.server.uri());
        e.tables.get_mut("securityresources").unwrap().push(defender_row(&sub(1)));
    });
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_az(&bin);
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("sources = [\"azure-live:\"]\n{}", config_toml(&az.server.uri(), ""))).unwrap();
    let (c, d) = (cfg.display().to_string(), dir.path().join("c.db").display().to_string());
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let args: Vec<String> = ["--config", &c, "--db", &d, "assess", "--format", "json"].map(String::from).to_vec();
    let p = path.clone();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![("PATH", p)])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["status"], "complete", "{v:#}");
    assert!(v["run"]["resources_seen"].as_u64().unwrap() >= 8, "the mock's estate, not the demo: {v:#}");
    // the run read one snapshot, under `snapshots/` beside the cache, holding a manifest
    let sources = v["run"]["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{v:#}");
    let given = sources[0]["source"].as_str().unwrap();
    let snap = std::path::PathBuf::from(given.trim_start_matches("azure:"));
    assert!(snap.starts_with(dir.path().join("snapshots")), "{snap:?}");
    assert!(snap.join("manifest.json").is_file());

    // Defender's verdict became a finding of its own check, on the resource it names
    let args: Vec<String> =
        ["--config", &c, "--db", &d, "findings", "--state", "unhealthy", "--format", "json"].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![("PATH", path)])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().or_else(|| v["findings"].as_array()).unwrap();
    let defender: Vec<&serde_json::Value> =
        rows.iter().filter(|f| f["check"] == "defender.1c5de8e1-f68d-6a17-e0d2-ec259c42768c").collect();
    assert_eq!(defender.len(), 1, "{v:#}");
    assert!(defender[0]["resource"].to_string().contains("storageAccounts/st00000"), "{:#}", defender[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_collection_stops_at_once_and_leaves_no_half_snapshot() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let az = Azure::start(Estate::default()).await;
    az.set(|e| *e = small_estate(&az.server.uri()));
    // Resource Graph hangs: without cancellation the command would wait out the response.
    Mock::given(method("POST"))
        .and(path("/arm/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(600)))
        .with_priority(1)
        .mount(&az.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_az(&bin);
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config_toml(&az.server.uri(), "timeout = \"900s\"\n")).unwrap();
    let out_dir = dir.path().join("snaps").join("snap");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("posture"))
        .args(["--config", &cfg.display().to_string(), "--db", &dir.path().join("c.db").display().to_string()])
        .args(["collect", "azure", "--out", &out_dir.display().to_string()])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env_remove("POSTURE_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        let asked = az.server.received_requests().await.unwrap();
        if asked.iter().any(|r| r.url.path().ends_with("ResourceGraph/resources")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let partial: Vec<_> = std::fs::read_dir(dir.path().join("snaps")).unwrap().flatten().collect();
    assert_eq!(partial.len(), 1, "the temporary folder exists while collecting");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    assert_eq!(status.0.code(), Some(130), "{}", status.1);
    assert!(status.1.contains("interrupted"), "{}", status.1);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("snaps")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "nothing is left behind: {left:?}");
}
