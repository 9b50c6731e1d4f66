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
    // the mock's resources, subscriptions and Entra data (Defender rows are findings, not resources)
    assert!(v["run"]["resources"].as_u64().unwrap() >= 8, "{v:#}");

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
