//! Continuous export and triggers through the real binary, with a receiver on 127.0.0.1.

mod export_support;

use assert_cmd::Command;
use export_support::{Receiver, estate};
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::path::{Path, PathBuf};

const SECRET: &str = "s3cret-for-the-export-tests-only";

/// A temporary cache and config.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(config: &str) -> Env {
        let e = Env { dir: tempfile::tempdir().unwrap() };
        e.config(config);
        e
    }
    fn config(&self, text: &str) {
        std::fs::write(self.path("config.toml"), text).unwrap();
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("posture").unwrap();
        c.env("POSTURE_DB", self.path("c.db")).env("POSTURE_CONFIG", self.path("config.toml"));
        c.env("TEST_EXPORT_SECRET", SECRET).env_remove("SSH_AUTH_SOCK");
        c
    }
    /// `posture assess` of the one storage account, with or without secure transfer; stderr.
    fn assess(&self, https: bool) -> String {
        let src = estate(self.dir.path(), https);
        let out = self.cmd().args(["assess", "--source"]).arg(src).assert().success().get_output().clone();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
    fn status(&self) -> Vec<Value> {
        let out = self.cmd().args(["exports", "status", "--format", "json"]).assert().success().get_output().clone();
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
    }
}

fn lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn hmac_hex(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn webhook_export(url: &str, retries: u32) -> String {
    format!(
        "[[export]]\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"TEST_EXPORT_SECRET\"\nmax_retries = {retries}\nretry_base_delay = \"1ms\"\ntimeout = \"20s\"\n"
    )
}

#[test]
fn a_webhook_is_retried_after_a_500_and_its_signature_verifies() {
    let rx = Receiver::start(&[500]);
    let env = Env::new(&webhook_export(&rx.url, 2));
    let stderr = env.assess(true);
    let got = rx.received();
    assert_eq!(got.len(), 2, "one 500, then delivered: {stderr}");
    assert_eq!(got[0].body, got[1].body, "the retry sends the same payload");
    let last = &got[1];
    assert_eq!(last.headers["x-posture-signature"], hmac_hex(&last.body));
    let body = last.json();
    assert_eq!(body["schema"], "posture.export/1");
    assert_eq!(body["run"]["id"], 1);
    assert!(body["run"]["audit_head"]["hash"].as_str().unwrap().len() == 64, "{body}");
    assert!(env.status().is_empty(), "delivered: nothing left in the spool");
    // The secret is used, never kept.
    let cache = std::fs::read(env.path("c.db")).unwrap();
    assert!(!cache.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert!(!stderr.contains(SECRET));
}

#[test]
fn a_failing_webhook_is_spooled_and_delivered_at_the_next_run_with_the_same_ids() {
    let rx = Receiver::start(&[]);
    let env = Env::new("");
    let stream = env.path("stream.jsonl");
    env.config(&format!(
        "{}[[export]]\nkind = \"jsonl\"\npath = \"{}\"\n",
        webhook_export(&rx.url, 1),
        stream.display()
    ));
    env.assess(true);
    assert_eq!(rx.received().len(), 1);

    // Run 2 breaks secure transfer while the receiver is down: the run still succeeds.
    rx.always(503);
    let stderr = env.assess(false);
    assert!(stderr.contains("kept in the spool") && stderr.contains("503"), "{stderr}");
    let pending = env.status();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let p = &pending[0];
    assert_eq!(
        (p["state"].as_str(), p["run_id"].as_i64(), p["attempts"].as_i64()),
        (Some("pending"), Some(2), Some(1))
    );
    assert!(p["destination"].as_str().unwrap().starts_with("export webhook http://127.0.0.1:"), "{p}");
    assert!(p["last_error"].as_str().unwrap().contains("503"), "{p}");
    let table = env.cmd().args(["exports", "status"]).assert().success().get_output().stdout.clone();
    let table = String::from_utf8(table).unwrap();
    assert!(table.contains("pending") && table.contains("503"), "{table}");
    assert!(!table.contains(SECRET) && !p.to_string().contains(SECRET));
    let spooled_ids: Vec<String> =
        p["event_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert!(!spooled_ids.is_empty());

    // Run 3: the receiver is back; run 2's payload arrives first, then run 3's.
    rx.always(200);
    env.assess(true);
    let got = rx.received();
    let runs: Vec<i64> = got.iter().map(|r| r.json()["run"]["id"].as_i64().unwrap()).collect();
    assert_eq!(runs.iter().filter(|r| **r == 2).count(), 3, "two failed attempts and one delivery: {runs:?}");
    assert_eq!(runs.last(), Some(&3));
    let delivered = got.iter().rev().find(|r| r.json()["run"]["id"] == 2).unwrap();
    assert_eq!(delivered.headers["x-posture-signature"], hmac_hex(&delivered.body));
    let kinds: Vec<String> =
        delivered.json()["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().into()).collect();
    assert!(
        kinds.contains(&"finding.new_unhealthy".to_string()) && kinds.contains(&"control.failed".to_string()),
        "{kinds:?}"
    );
    let ids: Vec<String> =
        delivered.json()["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids, spooled_ids, "re-delivery keeps the ids");
    // The same events, with the same ids, went to the stream when run 2 happened.
    let stream_ids: Vec<String> = lines(&stream)
        .iter()
        .filter(|l| l["type"] == "event" && l["run"] == 2)
        .map(|l| l["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(stream_ids, ids);
    assert!(env.status().is_empty());
}

#[test]
fn jsonl_appends_every_run_and_keeps_what_was_there() {
    let env = Env::new("");
    let stream = env.path("out/stream.jsonl");
    std::fs::create_dir_all(stream.parent().unwrap()).unwrap();
    std::fs::write(&stream, "{\"type\":\"kept\"}\n").unwrap();
    env.config(&format!("[[export]]\nkind = \"jsonl\"\npath = \"{}\"\n", stream.display()));
    env.assess(true);
    env.assess(false);
    let l = lines(&stream);
    assert_eq!(l[0]["type"], "kept");
    let runs: Vec<i64> = l.iter().filter(|x| x["type"] == "run").map(|x| x["id"].as_i64().unwrap()).collect();
    assert_eq!(runs, vec![1, 2]);
    let new: Vec<&Value> = l.iter().filter(|x| x["kind"] == "finding.new_unhealthy").collect();
    assert_eq!(new.len(), 1, "{l:?}");
    assert_eq!(new[0]["check"], "azure.storage.secure_transfer");
    assert_eq!(new[0]["severity"], "high");
    assert_eq!(new[0]["previous_run"], 1);
    assert!(l.iter().filter(|x| x["type"] == "run").all(|x| x["audit_head"]["entries"].is_i64()));
}

#[test]
fn a_snapshot_is_written_once_per_period() {
    let env = Env::new("");
    let dir = env.path("snaps");
    env.config(&format!("[[export]]\nkind = \"snapshot\"\ndir = \"{}\"\nevery = \"7d\"\n", dir.display()));
    env.assess(false);
    env.assess(true);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("posture-snapshot-20") && name.ends_with(".json"), "{name}");
    let snap: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(snap["run"]["id"], 1, "the first run of the period is kept");
    let findings = snap["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["check"] == "azure.storage.secure_transfer" && f["state"] == "unhealthy"));
    assert!(snap["controls"].as_array().unwrap().iter().any(|c| c["state"] == "failed"));
}

#[cfg(unix)]
#[test]
fn a_command_trigger_gets_the_event_on_stdin_and_a_failing_one_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("");
    let script = env.path("page.sh");
    let got = env.path("got.jsonl");
    std::fs::write(&script, format!("#!/bin/sh\ncat >> '{}'\necho >> '{}'\n", got.display(), got.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.config(&format!(
        "[[trigger]]\non = [\"finding.new_unhealthy\"]\nmin_severity = \"high\"\ncommand = [\"{}\"]\n\
         [[trigger]]\non = [\"finding.new_unhealthy\"]\ncommand = [\"/bin/sh\", \"-c\", \"cat >/dev/null; echo oncall is down >&2; exit 3\"]\n",
        script.display()
    ));
    env.assess(true);
    assert!(!got.exists(), "nothing new on the first run");
    let stderr = env.assess(false);
    let events = lines(&got);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "finding.new_unhealthy");
    assert_eq!(events[0]["resource"]["name"], "stexport");
    assert_eq!(events[0]["id"].as_str().unwrap().len(), 64);
    assert!(stderr.contains("status 3") && stderr.contains("oncall is down"), "{stderr}");
    let pending = env.status();
    assert_eq!(pending.len(), 1);
    assert!(pending[0]["destination"].as_str().unwrap().starts_with("trigger 2 command /bin/sh"), "{:?}", pending[0]);
}

#[test]
fn an_unknown_trigger_name_is_a_config_error_naming_file_line_and_the_allowed_names() {
    let env = Env::new(
        "retention_days = 30\n[[trigger]]\non = [\"control.failed\", \"control.broke\"]\nwebhook = \"http://127.0.0.1:9/\"\n",
    );
    let out = env.cmd().arg("assess").assert().code(2).get_output().clone();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("config.toml:3:"), "{e}");
    assert!(e.contains("control.broke") && e.contains("finding.new_unhealthy") && e.contains("score.dropped"), "{e}");
}
