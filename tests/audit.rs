//! The audit log tells the truth: removed records, kept heads, and SSH-signed decisions checked
//! against an allowed_signers file, through the real binary (and a real ssh-agent).

mod common;

use common::{ATTESTER, Agent, Cache, cache, key_only, manual_control, openssh, write};

fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// A waiver of one check everywhere.
const EXEMPT: [&str; 8] =
    ["exempt", "aws.cloudfront.viewer_https", "--category", "waiver", "--reason", "r", "--expires", "2099-01-01"];

fn attest(c: &Cache, agent: Option<&Agent>, status: &str, note: &str) -> assert_cmd::assert::Assert {
    let ctl = manual_control(c);
    let mut cmd = c.cmd();
    if let Some(a) = agent {
        cmd.env("SSH_AUTH_SOCK", &a.sock);
    }
    cmd.args(["attest", "cis-azure-2.0", &ctl, "--status", status, "--note", note])
        .args(["--evidence", "https://wiki.example.com/review"])
        .assert()
        .success()
}

#[test]
fn deleting_a_failed_attestation_no_longer_verifies() {
    let c = cache();
    attest(&c, None, "failed", "MFA is not enforced for break-glass accounts");
    c.cmd().args(["audit", "verify"]).assert().success();
    c.sql("DROP TRIGGER attestations_no_delete; DELETE FROM attestations WHERE id = 1;");
    let out = stdout_of(&c.cmd().args(["audit", "verify"]).assert().code(4));
    assert!(out.contains("entry 1") && out.contains("attestation 1 was removed"), "{out}");
}

#[test]
fn an_edited_revocation_no_longer_verifies() {
    let c = cache();
    attest(&c, None, "passed", "reviewed");
    c.cmd().args(["revoke", "attestation", "1", "--reason", "wrong evidence"]).assert().success();
    c.sql("DROP TRIGGER IF EXISTS revocations_no_update; UPDATE revocations SET reason = 'routine cleanup';");
    let out = stdout_of(&c.cmd().args(["audit", "verify"]).assert().code(4));
    assert!(out.contains("entry 2") && out.contains("revocation of attestation 1 differs"), "{out}");
}

#[test]
fn a_kept_head_catches_entries_removed_from_the_end() {
    let c = cache();
    attest(&c, None, "passed", "first");
    attest(&c, None, "failed", "second: a gap was found");
    let head = c.json(&["audit", "head", "--format", "json"]);
    assert_eq!(head["entries"], 2);
    let hash = head["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    let table = stdout_of(&c.cmd().args(["audit", "head"]).assert().success());
    assert!(table.contains("2 entries") && table.contains(&hash), "{table}");
    let kept = write(c.dir.path(), "head.json", &head.to_string());
    c.cmd().args(["audit", "verify", "--head"]).arg(&kept).assert().success();
    c.cmd().args(["audit", "verify", "--head", &hash]).assert().success();
    // a later entry does not disturb the kept head
    attest(&c, None, "passed", "third");
    c.cmd().args(["audit", "verify", "--head"]).arg(&kept).assert().success();

    // the failed attestation and the entries after it are cut off the end: consistent inside
    c.sql(
        "DROP TRIGGER audit_log_no_delete; DROP TRIGGER attestations_no_delete;
         DELETE FROM audit_log WHERE seq >= 2; DELETE FROM attestations WHERE id >= 2;",
    );
    c.cmd().args(["audit", "verify"]).assert().success();
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--head"]).arg(&kept).assert().code(4));
    assert!(out.contains("entries were removed"), "{out}");
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--head", &hash]).assert().code(4));
    assert!(out.contains("no entry has the kept hash"), "{out}");
    let v: serde_json::Value = serde_json::from_slice(
        &c.cmd()
            .args(["audit", "verify", "--format", "json", "--head"])
            .arg(&kept)
            .assert()
            .code(4)
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["head_checked"], true);
    c.cmd().args(["audit", "verify", "--head", "not-a-hash"]).assert().code(2);
}

#[test]
fn without_an_agent_decisions_are_unsigned_and_verify_says_how_many() {
    let c = cache();
    attest(&c, None, "passed", "reviewed");
    let out = stdout_of(&c.cmd().args(["audit", "verify"]).assert().success());
    assert!(out.contains("0 signed, 1 unsigned"), "{out}");
    // an agent that is not there: recorded unsigned, and said
    let a = c.cmd().env("SSH_AUTH_SOCK", c.dir.path().join("no-agent.sock")).args(EXEMPT).assert().success();
    assert!(stderr_of(&a).contains("recorded unsigned"), "{}", stderr_of(&a));
    // asking for signatures: an unsigned decision is not proven, so it fails
    let agent = Agent::start();
    let alice = agent.add_key("alice", ATTESTER);
    let allowed = write(c.dir.path(), "allowed_signers", &format!("{ATTESTER} {}\n", key_only(&alice)));
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&allowed).assert().code(4));
    assert!(out.contains("entry 1") && out.contains("not signed (2 unsigned"), "{out}");
}

#[test]
fn decisions_are_signed_by_the_agent_and_verify_against_allowed_signers() {
    let c = cache();
    let agent = Agent::start();
    let other = agent.add_key("ci", "ci@build");
    let alice = agent.add_key("alice", ATTESTER);
    // an attestation, an exemption and a revocation, each through the agent
    let a = attest(&c, Some(&agent), "passed", "quarterly access review");
    let said = stderr_of(&a);
    assert!(said.contains("signed with ssh-ed25519 SHA256:") && said.contains("its comment is the attester"), "{said}");
    assert!(said.contains(ATTESTER), "{said}");
    c.cmd().env("SSH_AUTH_SOCK", &agent.sock).args(EXEMPT).assert().success();
    c.cmd()
        .env("SSH_AUTH_SOCK", &agent.sock)
        .args(["revoke", "exemption", "1", "--reason", "no longer accepted"])
        .assert()
        .success();
    let log = c.json(&["audit", "--format", "json"]);
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert!(e["signature"].as_str().unwrap().starts_with("-----BEGIN SSH SIGNATURE-----"), "{e}");
    }
    let listing = stdout_of(&c.cmd().arg("audit").assert().success());
    assert!(listing.contains("SIGNED") && listing.contains("yes"), "{listing}");

    // the right allowed_signers: every signature verifies
    let good = write(
        c.dir.path(),
        "allowed_signers",
        &format!("# posture attesters\n{ATTESTER} namespaces=\"git,posture\" {}\n", key_only(&alice)),
    );
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&good).assert().success());
    assert!(out.contains("3 signed (checked against the allowed signers), 0 unsigned"), "{out}");
    // another key for alice, or alice's key for someone else: no
    let wrong_key = write(c.dir.path(), "wrong_key", &format!("{ATTESTER} {}\n", key_only(&other)));
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&wrong_key).assert().code(4));
    assert!(out.contains("entry 1") && out.contains("is not in the allowed signers"), "{out}");
    let wrong_principal = write(c.dir.path(), "wrong_principal", &format!("bob@example.com {}\n", key_only(&alice)));
    let out = stdout_of(&c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&wrong_principal).assert().code(4));
    assert!(out.contains(&format!("not allowed to sign for '{ATTESTER}'")), "{out}");
    let git_only = write(c.dir.path(), "git_only", &format!("{ATTESTER} namespaces=\"git\" {}\n", key_only(&alice)));
    c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&git_only).assert().code(4);
    c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(c.dir.path().join("missing")).assert().code(2);

    // OpenSSH agrees: the signature is ssh-keygen -Y sign's format over the entry's hash
    let sig = write(c.dir.path(), "entry1.sig", entries[0]["signature"].as_str().unwrap());
    let keygen_verify = |message: &str| {
        let mut child = openssh("ssh-keygen")
            .args(["-Y", "verify", "-n", "posture", "-I", ATTESTER, "-f"])
            .arg(&good)
            .arg("-s")
            .arg(&sig)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = keygen_verify(entries[0]["hash"].as_str().unwrap());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!keygen_verify(entries[1]["hash"].as_str().unwrap()).status.success(), "another entry's hash");

    // a signature moved onto another entry is caught, even without allowed_signers
    c.sql(&format!(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET signature = '{}' WHERE seq = 2;",
        entries[0]["signature"].as_str().unwrap()
    ));
    let out = stdout_of(&c.cmd().args(["audit", "verify"]).assert().code(4));
    assert!(out.contains("entry 2") && out.contains("signature does not match the entry"), "{out}");
    c.sql("UPDATE audit_log SET signature = 'garbage' WHERE seq = 2;");
    let out = stdout_of(&c.cmd().args(["audit", "verify"]).assert().code(4));
    assert!(out.contains("does not decode"), "{out}");
}

#[test]
fn with_no_key_for_the_attester_the_first_key_signs_and_says_so() {
    let c = cache();
    let agent = Agent::start();
    let first = agent.add_key("ci", "ci@build");
    agent.add_key("bob", "bob@example.com");
    let said = stderr_of(&attest(&c, Some(&agent), "passed", "reviewed"));
    assert!(said.contains("ci@build") && said.contains("the agent's first key"), "{said}");
    let allowed = write(c.dir.path(), "allowed", &format!("{ATTESTER} {}\n", key_only(&first)));
    c.cmd().args(["audit", "verify", "--allowed-signers"]).arg(&allowed).assert().success();
}
