//! `posture collect gcp` as a user runs it: the metadata server and gcloud's ADC file as
//! credentials, `[gcp]` endpoints in config, the snapshot assessed offline, and the one message
//! (exit 2) when no credential works.

#[path = "collect_gcp_support/mod.rs"]
mod support;

use assert_cmd::Command;
use serde_json::Value;
use support::*;

fn posture(args: Vec<String>, envs: Vec<(&'static str, String)>) -> std::process::Output {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.args(&args);
    for k in [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CLOUDSDK_CONFIG",
        "GCE_METADATA_HOST",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDASSET",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER",
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

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A config pointing `[gcp]` (its token endpoint too) at the mock, under `dir`; returns the
/// config, cache and snapshot paths.
fn paths_with_token_uri(gcp: &Gcp, dir: &std::path::Path) -> (String, String, String) {
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, format!("{}token_uri = \"{}\"\n", config_toml(&gcp.server.uri()), gcp.token_uri())).unwrap();
    let p = |n: &str| dir.join(n).display().to_string();
    (p("c.toml"), p("c.db"), p("snap"))
}

fn project_101() -> Estate {
    let mut e = Estate::default();
    e.assets.insert(("projects/101".into(), "RESOURCE".into()), vec![project(101), bucket(101, 1), bucket(101, 2)]);
    e.assets.insert(("projects/101".into(), "IAM_POLICY".into()), vec![bucket_iam(101, 1, true)]);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_server_credential_collects_and_the_snapshot_assesses() {
    let gcp = Gcp::start(project_101()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    // the metadata host comes from GCE_METADATA_HOST, as in Google's libraries
    std::fs::write(&cfg, config_toml(&gcp.server.uri()).replace("metadata_host = \"127.0.0.1:9\"\n", "")).unwrap();
    let (c, d, o) = (
        cfg.display().to_string(),
        dir.path().join("c.db").display().to_string(),
        dir.path().join("snap").display().to_string(),
    );
    let envs = vec![("HOME", dir.path().display().to_string()), ("GCE_METADATA_HOST", gcp.host())];
    let args =
        strings(&["--config", &c, "--db", &d, "collect", "gcp", "--project", "101", "--out", &o, "--format", "json"]);
    let e2 = envs.clone();
    let out = tokio::task::spawn_blocking(move || posture(args, e2)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["manifest"]["identity"]["credential"], "metadata server");
    assert_eq!(v["manifest"]["status"], "complete", "{v:#}");
    assert_eq!(v["manifest"]["scopes"]["projects/101"]["datasets"]["assets:RESOURCE"]["rows"], 3);

    let args = strings(&["--config", &c, "--db", &d, "assess", "--source", &o, "--format", "json"]);
    let e2 = envs.clone();
    let out = tokio::task::spawn_blocking(move || posture(args, e2)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["run"]["resources"].as_u64(), v["run"]["status"].as_str()), (Some(3), Some("complete")), "{v:#}");
    // the public bucket (its IAM policy merged from the IAM_POLICY listing) is a finding
    let check = "gcp.storage.bucket_not_public";
    let args = strings(&[
        "--config",
        &c,
        "--db",
        &d,
        "findings",
        "--check",
        check,
        "--state",
        "unhealthy",
        "--format",
        "json",
    ]);
    let out = tokio::task::spawn_blocking(move || posture(args, envs)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("//storage.googleapis.com/bucket-101-00001") && !text.contains("bucket-101-00002"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gclouds_adc_file_refreshes_its_token_and_bills_its_quota_project() {
    let gcp = Gcp::start(project_101()).await;
    let dir = tempfile::tempdir().unwrap();
    adc_file(dir.path());
    let (c, d, o) = paths_with_token_uri(&gcp, dir.path());
    let args = strings(&["--config", &c, "--db", &d, "collect", "gcp", "--project", "101", "--out", &o]);
    let envs = vec![("HOME", dir.path().display().to_string())];
    let out = tokio::task::spawn_blocking(move || posture(args, envs)).await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("1 scopes") && stdout.contains("assess it with: posture assess --source"), "{stdout}");
    assert!(gcp.quota_projects().await.iter().all(|q| q.as_deref() == Some("billing-1")));
    for (p, text) in all_files(&dir.path().join("snap")) {
        for secret in [REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN] {
            assert!(!text.contains(secret), "{} holds a secret", p.display());
        }
    }
    assert!(![REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN].iter().any(|s| stdout.contains(s) || stderr.contains(s)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_refresh_token_is_an_input_error_that_never_quotes_it() {
    let gcp = Gcp::start(project_101()).await;
    let dir = tempfile::tempdir().unwrap();
    let adc = adc_file(dir.path());
    let text = std::fs::read_to_string(&adc).unwrap().replace(CLIENT_SECRET, "wrong-secret-0123456789");
    std::fs::write(&adc, text).unwrap();
    let (c, d, o) = paths_with_token_uri(&gcp, dir.path());
    let args = strings(&["--config", &c, "--db", &d, "collect", "gcp", "--out", &o]);
    let envs = vec![("HOME", dir.path().display().to_string())];
    let out = tokio::task::spawn_blocking(move || posture(args, envs)).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gcloud application default credentials") && stderr.contains("invalid_grant"), "{stderr}");
    assert!(!stderr.contains(REFRESH_TOKEN) && !stderr.contains("wrong-secret-0123456789"), "{stderr}");
    assert!(!dir.path().join("snap").exists());
}

#[test]
fn no_credentials_exit_2_with_one_message_naming_the_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (d, o) = (dir.path().join("c.db").display().to_string(), dir.path().join("snap").display().to_string());
    // no key file, no gcloud ADC file under HOME, and nothing listening where the metadata server would be
    let envs = vec![("HOME", dir.path().display().to_string()), ("GCE_METADATA_HOST", "127.0.0.1:9".to_string())];
    let out = posture(strings(&["--db", &d, "collect", "gcp", "--out", &o]), envs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no GCP credentials"), "{stderr}");
    for way in ["GOOGLE_APPLICATION_CREDENTIALS", "gcloud auth application-default login", "metadata server"] {
        assert!(stderr.contains(way), "{way}: {stderr}");
    }
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!dir.path().join("snap").exists());
}
