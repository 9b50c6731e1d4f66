//! Helpers shared by the integration tests: a temporary cache driven through the real
//! binary, and a real `ssh-agent` holding keys made with `ssh-keygen`.
#![allow(dead_code)]

pub mod console;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A cache with the demo estate assessed, and a config naming the attester.
pub struct Cache {
    pub db: PathBuf,
    pub dir: tempfile::TempDir,
}

/// The attester every test's config names.
pub const ATTESTER: &str = "alice@example.com";

/// The binary on the cache `db`, with `config` written beside it.
pub fn posture_on(db: &Path, config: &str) -> Command {
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, config).unwrap();
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", &cfg).env_remove("NO_COLOR");
    c
}

/// A fresh cache with the demo estate assessed under `config`: (its folder, the cache).
pub fn assessed_with(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    posture_on(&db, config).arg("assess").assert().success();
    (dir, db)
}

pub fn cache() -> Cache {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    std::fs::write(dir.path().join("config.toml"), format!("attester = \"{ATTESTER}\"\n")).unwrap();
    let c = Cache { db, dir };
    c.cmd().arg("assess").assert().success();
    c
}

impl Cache {
    /// The binary on this cache, with no SSH agent unless a test sets one.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("posture").unwrap();
        c.env("POSTURE_DB", &self.db).env("POSTURE_CONFIG", self.dir.path().join("config.toml"));
        c.env_remove("SSH_AUTH_SOCK");
        c
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).assert().success().get_output().stdout.clone();
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
    }

    pub fn control(&self, standard: &str, id: &str) -> Value {
        let v = self.json(&["controls", standard, "--format", "json"]);
        v.as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
    }

    pub fn compliance(&self, standard: &str) -> (f64, i64) {
        let v = self.json(&["actions", "--standard", standard, "--format", "json"]);
        let achieved: i64 = v.as_array().unwrap().iter().map(|a| a["achieved"].as_i64().unwrap()).sum();
        let c = self.json(&["controls", standard, "--format", "json"]);
        let passed = c.as_array().unwrap().iter().filter(|c| c["state"] == "passed").count() as f64;
        (passed, achieved)
    }

    /// Plain SQL on the cache, as someone with write access to the file could run it.
    pub fn sql(&self, sql: &str) {
        rusqlite::Connection::open(&self.db).unwrap().execute_batch(sql).unwrap();
    }
}

pub fn manual_control(c: &Cache) -> String {
    let v = c.json(&["controls", "cis-azure-2.0", "--format", "json"]);
    v.as_array().unwrap().iter().find(|c| c["state"] == "manual").unwrap()["id"].as_str().unwrap().to_string()
}

/// Run an OpenSSH client program; a missing one is a clear failure, not a skip.
pub fn openssh(program: &str) -> std::process::Command {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: the signature tests need OpenSSH's client programs (Debian: apt-get install openssh-client)"
    );
    std::process::Command::new(program)
}

/// A running `ssh-agent -D` on a socket in its own folder, stopped on drop.
pub struct Agent {
    pub sock: PathBuf,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Agent {
    pub fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("agent.sock");
        let child = openssh("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Bounded by a count of polls, not by a deadline.
        for _ in 0..400 {
            if sock.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert!(sock.exists(), "ssh-agent did not create {}", sock.display());
        Agent { sock, dir, child }
    }

    /// Make an ed25519 key with `comment`, add it to the agent, return its public key line.
    pub fn add_key(&self, name: &str, comment: &str) -> String {
        let key = self.dir.path().join(name);
        let ok = openssh("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"]).arg(&key).status();
        assert!(ok.unwrap().success(), "ssh-keygen failed");
        let ok = openssh("ssh-add").arg("-q").arg(&key).env("SSH_AUTH_SOCK", &self.sock).status();
        assert!(ok.unwrap().success(), "ssh-add failed");
        std::fs::read_to_string(key.with_extension("pub")).unwrap().trim().to_string()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ssh-ed25519 AAAA…` without the comment.
pub fn key_only(pub_line: &str) -> String {
    pub_line.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
