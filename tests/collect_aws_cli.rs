//! `posture collect aws` as a user runs it: the environment's keys, `AWS_ENDPOINT_URL` to the
//! mock, the snapshot assessed offline into findings of the AWS checks, and the one message
//! when no credential works.

#[path = "collect_aws_support/mod.rs"]
mod support;

use assert_cmd::Command;
use support::*;

fn posture(args: Vec<String>, envs: Vec<(&'static str, String)>) -> std::process::Output {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.args(&args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        c.env_remove(k);
    }
    c.env_remove("POSTURE_CONFIG").env_remove("POSTURE_DB").env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// `posture --config C --db D ARGS... --format json` off the async runtime, as JSON.
async fn json_of(c: &str, d: &str, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<String> = ["--config", c, "--db", d].map(String::from).to_vec();
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--format".to_string(), "json".to_string()]);
    let out = tokio::task::spawn_blocking(move || posture(all, vec![])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environments_keys_collect_and_the_snapshot_assesses_into_aws_findings() {
    let aws = Aws::start(Estate {
        page_size: 10,
        throttle_once: ["GetAccountPasswordPolicy".to_string()].into(),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[aws]\nretry_base_delay = \"1ms\"\nmax_retry_wait = \"20ms\"\ncredential_report_poll_delay = \"1ms\"\n",
    )
    .unwrap();
    let (c, d, o) = (
        cfg.display().to_string(),
        dir.path().join("c.db").display().to_string(),
        dir.path().join("snap").display().to_string(),
    );
    let envs = vec![
        ("AWS_ACCESS_KEY_ID", CALLER_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", CALLER_SECRET.to_string()),
        ("AWS_ENDPOINT_URL", aws.server.uri()),
        ("AWS_REGION", "eu-west-1".to_string()),
        ("HOME", dir.path().display().to_string()),
    ];
    let args: Vec<String> =
        ["--config", &c, "--db", &d, "collect", "aws", "--region", "eu-west-1", "--out", &o, "--format", "json"]
            .map(String::from)
            .to_vec();
    let e = envs.clone();
    let out = tokio::task::spawn_blocking(move || posture(args, e)).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["manifest"]["status"], "complete", "{v:#}");
    assert_eq!(v["manifest"]["identity"]["credential"], "environment");
    assert!(v["manifest"]["requests"]["retried"].as_u64().unwrap() >= 1);
    assert_no_secret("stdout", &String::from_utf8_lossy(&out.stdout), &[CALLER]);

    let args: Vec<String> =
        ["--config", &c, "--db", &d, "assess", "--source", &o, "--format", "json"].map(String::from).to_vec();
    let out = tokio::task::spawn_blocking(move || posture(args, vec![])).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["status"], "complete", "{v:#}");
    assert!(v["run"]["resources"].as_u64().unwrap() >= 40, "{v:#}");
    // the mock's account: a short password policy, root keys, a console user without MFA
    for (check, resource) in [
        ("aws.iam.password_policy_min_length_14", "arn:aws:iam::111111111111:account-password-policy"),
        ("aws.iam.root_no_access_keys", "arn:aws:iam::111111111111:root"),
        ("aws.iam.user_console_mfa", "arn:aws:iam::111111111111:user/alice"),
    ] {
        let args: Vec<String> =
            ["--config", &c, "--db", &d, "findings", "--check", check, "--state", "unhealthy", "--format", "json"]
                .map(String::from)
                .to_vec();
        let out = tokio::task::spawn_blocking(move || posture(args, vec![])).await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(resource), "{check}: {text}");
    }
    // the collected rotation status decides the key the Config items say nothing of
    let v = json_of(&c, &d, &["findings", "--check", "aws.kms.cmk_rotation", "--state", "unhealthy"]).await;
    let failing: Vec<&str> = v.as_array().unwrap().iter().map(|f| f["resource"]["name"].as_str().unwrap()).collect();
    // the first is off as its items say; the second, of which the items say nothing, rotates
    assert_eq!(failing, ["728f9026-a298-47f0-8fa1-ef3a0509e3cf"], "{v:#}");
    // the collected trail status makes the multi-region trail count as logging (CIS 4.1, whose
    // checks are aws.cloudtrail.multi_region and ..._logging, judged once for the account)
    let v = json_of(&c, &d, &["controls", "cis-aws-7.0"]).await;
    let c41 = v.as_array().unwrap().iter().find(|c| c["id"] == "4.1").unwrap();
    assert!(c41["checks"].as_array().unwrap().contains(&"aws.cloudtrail.multi_region_logging".into()), "{c41:#}");
    assert_eq!((c41["state"].as_str(), c41["unhealthy_resources"].as_u64()), (Some("passed"), Some(0)), "{c41:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_exit_2_with_one_message_naming_the_ways() {
    let aws = Aws::start(Estate::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (d, o) = (dir.path().join("c.db").display().to_string(), dir.path().join("snap").display().to_string());
    let args: Vec<String> = ["--db", &d, "collect", "aws", "--out", &o].map(String::from).to_vec();
    let envs = vec![("AWS_ENDPOINT_URL", aws.server.uri()), ("HOME", dir.path().display().to_string())];
    let out = tokio::task::spawn_blocking(move || posture(args, envs)).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    for way in
        ["AWS_ACCESS_KEY_ID", "--profile", "AWS_WEB_IDENTITY_TOKEN_FILE", "container credentials", "instance metadata"]
    {
        assert!(err.contains(way), "{err}");
    }
    assert!(!dir.path().join("snap").exists());
    assert!(aws.server.received_requests().await.unwrap().is_empty());

    // the same from `assess` with a live source: bad setup, exit 2, nothing stored
    let args: Vec<String> = ["--db", &d, "assess", "--source", "aws-live:"].map(String::from).to_vec();
    let envs = vec![("AWS_ENDPOINT_URL", aws.server.uri()), ("HOME", dir.path().display().to_string())];
    let out = tokio::task::spawn_blocking(move || posture(args, envs)).await.unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_ACCESS_KEY_ID"));
}
