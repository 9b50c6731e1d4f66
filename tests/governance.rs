//! Attestation, exemptions, ownership and the audit log through the real binary.

mod common;

use common::{cache, manual_control};
use std::path::Path;

#[test]
fn an_attestation_changes_state_and_score_at_once_and_keeps_its_evidence() {
    let c = cache();
    let ctl = manual_control(&c);
    let (passed_before, points_before) = c.compliance("cis-azure-2.0");
    let evidence = c.dir.path().join("review.txt");
    std::fs::write(&evidence, "Q3 access review signed off").unwrap();
    let att = c.json(&[
        "attest",
        "cis-azure-2.0",
        &ctl,
        "--status",
        "passed",
        "--note",
        "reviewed",
        "--evidence",
        evidence.to_str().unwrap(),
        "--evidence",
        "https://wiki.example.com/review",
        "--format",
        "json",
    ]);
    assert_eq!(att["attester"], "alice@example.com");
    assert_eq!(att["evidence"][0]["kind"], "file");
    assert_eq!(att["evidence"][0]["size"], 27);
    let ctl_now = c.control("cis-azure-2.0", &ctl);
    assert_eq!(ctl_now["state"], "passed");
    assert_eq!(ctl_now["attestation"], "passed");
    let (passed_after, points_after) = c.compliance("cis-azure-2.0");
    assert_eq!(passed_after, passed_before + 1.0);
    assert!(points_after > points_before, "the manual action earns its points");
    // the assess summary shows it too, without re-reading sources differently
    let a = c.json(&["assess", "--standard", "cis-azure-2.0", "--format", "json"]);
    assert_eq!(a["standards"][0]["passed_controls"].as_f64().unwrap(), passed_after);
    // editing the original is detected; the stored copy stays
    std::fs::write(&evidence, "edited later").unwrap();
    let list = c.json(&["attestations", "--format", "json"]);
    assert_eq!(list[0]["evidence"][0]["status"], "original_changed");
    // an automated control can be attested as a compensating control
    let v = c.json(&["controls", "cis-azure-2.0", "--format", "json"]);
    let failed =
        v.as_array().unwrap().iter().find(|c| c["state"] == "failed").unwrap()["id"].as_str().unwrap().to_string();
    c.cmd()
        .args(["attest", "cis-azure-2.0", &failed, "--status", "passed", "--note", "compensating control: WAF"])
        .args(["--evidence", "https://wiki.example.com/waf"])
        .assert()
        .success();
    assert_eq!(c.control("cis-azure-2.0", &failed)["state"], "passed");
}

#[test]
fn bad_attestation_input_is_exit_2_and_saves_nothing() {
    let c = cache();
    let ctl = manual_control(&c);
    for (args, needle) in [
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--expires", "2001-01-01"], "in the past"),
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--expires", "next week"], "not a date"),
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--evidence", "/no/such/file"], "evidence"),
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--evidence", "ftp://example.com/x"], "http"),
        (vec!["attest", "nope", "1.1", "--status", "passed"], "unknown standard"),
        (vec!["attest", "cis-azure-2.0", "99.99", "--status", "passed"], "no control"),
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "failed"], "needs a note"),
        (vec!["attest", "cis-azure-2.0", &ctl, "--status", "maybe"], "status"),
    ] {
        let out = c.cmd().args(&args).assert().code(2).get_output().stderr.clone();
        assert!(String::from_utf8_lossy(&out).contains(needle), "{args:?}: {}", String::from_utf8_lossy(&out));
    }
    assert_eq!(c.json(&["attestations", "--format", "json"]).as_array().unwrap().len(), 0);
    assert_eq!(c.json(&["audit", "--format", "json"]).as_array().unwrap().len(), 0);
}

#[test]
fn attest_has_the_forms_rules_and_says_every_problem_at_once() {
    let c = cache();
    let ctl = manual_control(&c);
    // Passed with no note, no evidence and a date gone by: three problems, one line each.
    let args = ["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--expires", "2001-01-01"];
    let out = c.cmd().args(args).assert().code(2).get_output().stderr.clone();
    let said = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 3, "{said}");
    assert!(lines[0].starts_with("error: --note: say what was reviewed"), "{said}");
    assert!(lines[1].starts_with("--expires: ") && lines[1].contains("in the past"), "{said}");
    assert_eq!(lines[2], "--evidence: needed when passed: a file or a link");
    // A note alone is not enough for passed; not applicable needs no evidence.
    let args = ["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--note", "reviewed"];
    let out = c.cmd().args(args).assert().code(2).get_output().stderr.clone();
    assert_eq!(String::from_utf8_lossy(&out).trim(), "error: --evidence: needed when passed: a file or a link");
    assert_eq!(c.json(&["attestations", "--format", "json"]).as_array().unwrap().len(), 0, "nothing saved");
    let args = ["attest", "cis-azure-2.0", &ctl, "--status", "not_applicable", "--note", "no such tenant"];
    c.cmd().args(args).assert().success();
}

#[test]
fn exemptions_apply_at_once_and_revocation_counts_again() {
    let c = cache();
    let f = c.json(&["findings", "--state", "unhealthy", "--format", "json"]);
    let first = &f[0];
    let check = first["check"].as_str().unwrap();
    let rid = first["resource"]["id"].as_str().unwrap();
    let before =
        c.json(&["findings", "--check", check, "--state", "unhealthy", "--format", "json"]).as_array().unwrap().len();
    let e = c.json(&[
        "exempt",
        check,
        "--resource",
        rid,
        "--category",
        "waiver",
        "--reason",
        "accepted risk",
        "--expires",
        "2099-12-31",
        "--format",
        "json",
    ]);
    let after =
        c.json(&["findings", "--check", check, "--state", "unhealthy", "--format", "json"]).as_array().unwrap().len();
    assert_eq!(after, before - 1);
    let exempt = c.json(&["findings", "--check", check, "--state", "exempt", "--format", "json"]);
    assert_eq!(exempt[0]["resource"]["id"], rid);
    // a new run applies it in the engine
    c.cmd().arg("assess").assert().success();
    assert_eq!(
        c.json(&["findings", "--check", check, "--state", "exempt", "--format", "json"]).as_array().unwrap().len(),
        1
    );
    // revoke: it counts again at once, and the exemption stays in the history
    c.cmd()
        .args(["revoke", "exemption", &e["id"].to_string(), "--reason", "risk no longer accepted"])
        .assert()
        .success();
    assert_eq!(
        c.json(&["findings", "--check", check, "--state", "unhealthy", "--format", "json"]).as_array().unwrap().len(),
        before
    );
    let all = c.json(&["exemptions", "--all", "--format", "json"]);
    assert_eq!(all[0]["revoked"], true);
    c.cmd().args(["exempt", check, "--category", "nope", "--reason", "x", "--expires", "2099-01-01"]).assert().code(2);
    c.cmd()
        .args(["exempt", check, "--category", "waiver", "--reason", "x", "--expires", "1999-01-01"])
        .assert()
        .code(2);
    c.cmd()
        .args(["exempt", "no.such.check", "--category", "waiver", "--reason", "x", "--expires", "2099-01-01"])
        .assert()
        .code(2);
}

#[test]
fn prowler_mutelists_import_and_say_what_they_could_not_map() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/prowler/mutelist");
    if !dir.exists() {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    }
    let c = cache();
    for cloud in ["aws", "azure", "gcp"] {
        let file = dir.join(format!("{cloud}_mutelist_example.yaml"));
        let v = c.json(&["exemptions", "import", "prowler-mutelist", file.to_str().unwrap(), "--format", "json"]);
        assert!(v["imported"].as_u64().unwrap() > 0, "{cloud}: {v}");
        let unmapped: Vec<String> =
            v["unmapped"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
        assert!(unmapped.iter().any(|u| u.contains("tag conditions")), "{cloud}: {unmapped:?}");
    }
    let all = c.json(&["exemptions", "--format", "json"]);
    assert!(all.as_array().unwrap().iter().all(|e| e["category"] == "waiver"));
    // the wildcard "ec2_*" for one account maps to the EC2 checks, scoped to that account
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["scope"] == "123456789012" && e["check"].as_str().unwrap().starts_with("aws.ec2."))
    );
    c.cmd().args(["exemptions", "import", "prowler-mutelist", "/no/such.yaml"]).assert().code(2);
}

#[test]
fn owners_due_dates_and_overdue_actions() {
    let c = cache();
    let actions = c.json(&["actions", "--format", "json"]);
    let failing = actions.as_array().unwrap().iter().find(|a| a["state"] == "failed").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.cmd().args(["assign", &failing, "--owner", "bob", "--due", "2020-01-01"]).assert().success();
    let overdue = c.json(&["actions", "--owner", "bob", "--overdue", "--format", "json"]);
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["owner"], "bob");
    assert_eq!(overdue[0]["due"], "2020-01-01");
    assert_eq!(c.json(&["actions", "--owner", "carol", "--format", "json"]).as_array().unwrap().len(), 0);
    c.cmd().args(["assign", "no.such.action", "--owner", "bob", "--due", "2030-01-01"]).assert().code(2);
    c.cmd().args(["assign", &failing, "--owner", "bob", "--due", "soon"]).assert().code(2);
}

#[test]
fn the_audit_log_is_hash_chained_and_verify_catches_an_edit() {
    let c = cache();
    let ctl = manual_control(&c);
    c.cmd()
        .args(["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--note", "first"])
        .args(["--evidence", "https://wiki.example.com/first"])
        .assert()
        .success();
    c.cmd()
        .args(["attest", "cis-azure-2.0", &ctl, "--status", "failed", "--note", "superseded: gap found"])
        .assert()
        .success();
    c.cmd().args(["revoke", "attestation", "1", "--reason", "wrong evidence"]).assert().success();
    let log = c.json(&["audit", "--format", "json"]);
    assert_eq!(log.as_array().unwrap().len(), 3);
    assert_eq!(log[1]["prev_hash"], log[0]["hash"]);
    c.cmd().args(["audit", "verify"]).assert().success();
    // the latest attestation wins; the revoked one stays in the history
    assert_eq!(c.control("cis-azure-2.0", &ctl)["state"], "failed");
    assert_eq!(c.json(&["attestations", "--all", "--format", "json"]).as_array().unwrap().len(), 2);

    // posture itself refuses to rewrite history
    let conn = rusqlite::Connection::open(&c.db).unwrap();
    assert!(conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", []).is_err());
    // someone with plain SQL and no scruples
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 2;")
        .unwrap();
    drop(conn);
    let out = c.cmd().args(["audit", "verify"]).assert().code(4).get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&out).contains("entry 2"), "{}", String::from_utf8_lossy(&out));
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_cache_its_folder_and_evidence_copies_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/posture/c.db");
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("posture")
            .unwrap()
            .env("POSTURE_DB", &db)
            .env("POSTURE_CONFIG", dir.path().join("config.toml"))
            .env_remove("SSH_AUTH_SOCK")
            .args(args)
            .assert()
            .success()
    };
    run(&["assess"]);
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    assert_eq!(mode(&db), 0o600);
    for side in ["c.db-wal", "c.db-shm"] {
        let p = db.with_file_name(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
    let evidence = dir.path().join("review.txt");
    std::fs::write(&evidence, "access review notes").unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&run(&["controls", "cis-azure-2.0", "--format", "json"]).get_output().stdout).unwrap();
    let ctl =
        v.as_array().unwrap().iter().find(|c| c["state"] == "manual").unwrap()["id"].as_str().unwrap().to_string();
    let ev = evidence.to_str().unwrap();
    run(&["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--note", "ok", "--evidence", ev]);
    let store = db.with_file_name("evidence");
    assert_eq!(mode(&store), 0o700);
    for f in std::fs::read_dir(&store).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        assert!(!p.to_string_lossy().ends_with(".partial"));
    }
}

#[cfg(unix)]
#[test]
fn a_cache_left_readable_by_others_is_tightened_and_said() {
    use std::os::unix::fs::PermissionsExt;
    let c = cache();
    std::fs::set_permissions(&c.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = c.cmd().args(["history"]).assert().success().get_output().stderr.clone();
    let said = String::from_utf8_lossy(&out);
    assert!(said.contains("was readable by other users (mode 0644); tightened to 0600"), "{said}");
    assert_eq!(mode(&c.db), 0o600);
    let out = c.cmd().args(["history"]).assert().success().get_output().stderr.clone();
    assert!(!String::from_utf8_lossy(&out).contains("tightened"), "said once");
}

#[cfg(unix)]
#[test]
fn evidence_given_as_a_symlink_is_refused_and_names_its_target() {
    let c = cache();
    let ctl = manual_control(&c);
    let real = c.dir.path().join("real.txt");
    std::fs::write(&real, "x").unwrap();
    let link = c.dir.path().join("link.txt");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = c
        .cmd()
        .args(["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--evidence", link.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let said = String::from_utf8_lossy(&out);
    assert!(said.contains("is a symbolic link") && said.contains("real.txt"), "{said}");
    assert_eq!(c.json(&["attestations", "--format", "json"]).as_array().unwrap().len(), 0);
}

#[cfg(unix)]
#[test]
fn a_draft_is_written_owner_only_and_a_planted_symlink_does_not_redirect_it() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "precious").unwrap();
    let draft = dir.path().join("draft.json");
    std::os::unix::fs::symlink(&outside, &draft).unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("draft.json.partial")).unwrap();
    let form = posture::tui::form::Form::assign("aws.cloudfront.viewer_https", chrono::Utc::now());
    form.save_draft(&draft, chrono::Utc::now()).unwrap();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    assert!(std::fs::read_to_string(&draft).unwrap().contains("aws.cloudfront.viewer_https"));
    assert_eq!(mode(&draft), 0o600);
}

#[test]
fn echoes_of_typed_and_imported_text_carry_no_terminal_escapes() {
    let c = cache();
    let ctl = manual_control(&c);
    let evil = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{202e}";
    // the attester's name is echoed by every decision
    std::fs::write(c.dir.path().join("config.toml"), "attester = \"alice\\u001b[2J\"\n").unwrap();
    let outputs = [
        c.cmd()
            .args(["attest", "cis-azure-2.0", &ctl, "--status", "passed", "--scope", &format!("sub{evil}")])
            .args(["--note", "reviewed", "--evidence", "https://wiki.example.com/review"])
            .assert(),
        c.cmd()
            .args(["exempt", "aws.cloudfront.viewer_https", "--resource", &format!("r{evil}"), "--category", "waiver"])
            .args(["--reason", &format!("why{evil}"), "--expires", "2099-01-01"])
            .assert(),
        c.cmd()
            .args(["assign", "aws.cloudfront.viewer_https", "--owner", &format!("bob{evil}"), "--due", "2099-01-01"])
            .assert(),
        c.cmd().args(["revoke", &format!("attestation{evil}"), "1", "--reason", "x"]).assert(),
    ];
    let mutelist = c.dir.path().join("mutelist.yaml");
    std::fs::write(
        &mutelist,
        "Mutelist:\n  Accounts:\n    \"1234\\e[2J\":\n      Checks:\n        \"nope\\e]52;c;x\\a\":\n          Regions: ['*']\n          Resources: ['*']\n        \"cloudfront_*\":\n          Regions: ['eu\\e[31m']\n          Resources: ['bucket\\e[31m']\n          Description: \"ok\\e[31m\"\n",
    )
    .unwrap();
    let import =
        c.cmd().args(["exemptions", "import", "prowler-mutelist", mutelist.to_str().unwrap()]).assert().success();
    let listings = [c.cmd().arg("exemptions").assert().success(), c.cmd().arg("audit").assert().success()];
    for a in outputs.iter().chain([&import]).chain(listings.iter()) {
        let o = a.get_output();
        for stream in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.chars().any(|ch| ch == '\u{1b}' || ch == '\u{7}' || ch == '\u{202e}'), "{text:?}");
        }
    }
    let text = String::from_utf8_lossy(&import.get_output().stdout).into_owned();
    assert!(text.contains("1234\u{fffd}[2J") && text.contains("nope\u{fffd}]52"), "{text}");
    assert!(String::from_utf8_lossy(&outputs[0].get_output().stdout).contains("by alice\u{fffd}[2J"));
    assert!(String::from_utf8_lossy(&outputs[2].get_output().stdout).contains("bob\u{fffd}"));
}
