//! `posture report`: the content of each format, on the real binary over the demo estate.

use sha2::Digest;
use std::path::Path;

mod common;
use common::{assessed_with as assessed, posture_on as posture};

fn report(db: &Path, config: &str, args: &[&str]) -> String {
    let out = posture(db, config).arg("report").args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// CSV rows as maps of column → value.
fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}

const SCOPE_A: &str = "3f6c2a1e-8b4d-4e27-9a15-6c0d7e2f9b31";
const SCOPE_B: &str = "a92e5d04-1c7b-4f63-8e29-d4b01f6a7c58";

#[test]
fn markdown_report_of_the_demo_has_its_header_sections_failing_evidence_and_trend() {
    let (_d, db) = assessed("");
    posture(&db, "").arg("assess").assert().success();
    let md = report(&db, "", &["cis-azure-2.0", "--format", "md"]);
    assert!(md.starts_with("# CIS Microsoft Azure Foundations Benchmark 2.0.0"), "{}", &md[..200]);
    assert!(md.contains("DEMO DATA"));
    for needle in [
        "## 1 Identity and Access Management",
        "## 2 Microsoft Defender",
        "### 2.1.3 ",
        "azure.defender.databases\\_plan",
        "| Compliance score |",
        "| Secure score |",
        "## Attestations",
        "## Exemptions in force",
        "## Improvement actions",
    ] {
        assert!(md.contains(needle), "missing {needle}");
    }
    // Two stored runs: the trend has both.
    assert!(md.contains("**Trend:** run 1: ") && md.contains("→ run 2: "), "trend line missing");
    // AWS and GCP scopes of the run are not this standard's.
    assert!(!md.contains("418295730164"));
}

#[test]
fn csv_starts_with_prowlers_compliance_columns_and_has_a_row_per_control_and_failing_resource() {
    let (_d, db) = assessed("");
    let text = report(&db, "", &["cis-azure-2.0", "--format", "csv"]);
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("PROVIDER;DESCRIPTION;ACCOUNTID;REGION;ASSESSMENTDATE;REQUIREMENTS_ID;REQUIREMENTS_DESCRIPTION;REQUIREMENTS_ATTRIBUTES_SECTION;STATUS;STATUSEXTENDED;RESOURCEID;RESOURCENAME;CHECKID;MUTED"),
        "{header}"
    );
    let rows = csv_rows(&text);
    let controls: Vec<_> = rows.iter().filter(|r| r["ROW"] == "control").collect();
    // 6.1: RDP from the internet, three NSGs of the demo estate open it
    let ctl = controls.iter().find(|r| r["REQUIREMENTS_ID"] == "6.1").unwrap();
    assert_eq!(ctl["STATUS"], "FAIL");
    assert_eq!(ctl["UNHEALTHY"], "3");
    let res: Vec<_> = rows.iter().filter(|r| r["ROW"] == "resource" && r["REQUIREMENTS_ID"] == "6.1").collect();
    assert_eq!(res.len(), 3);
    assert!(res.iter().all(|r| r["CHECKID"] == "azure.network.nsg_rdp_restricted" && !r["STATUSEXTENDED"].is_empty()));
    assert!(controls.iter().any(|r| r["STATUS"] == "MANUAL"));
}

#[test]
fn failing_resources_are_capped_per_check_as_configured_and_the_rest_counted() {
    let cfg = "report_max_resources_per_check = 1\n";
    let (_d, db) = assessed(cfg);
    let rows = csv_rows(&report(&db, cfg, &["cis-azure-2.0", "--format", "csv"]));
    let listed = rows.iter().filter(|r| r["ROW"] == "resource" && r["REQUIREMENTS_ID"] == "6.1").count();
    assert_eq!(listed, 1);
    let ctl = rows.iter().find(|r| r["ROW"] == "control" && r["REQUIREMENTS_ID"] == "6.1").unwrap();
    assert_eq!(ctl["NOT_LISTED"], "2");
    let md = report(&db, cfg, &["cis-azure-2.0"]);
    assert!(md.contains("…and 2 more failing resources"), "no count of the rest");
    posture(&db, "report_max_resources_per_check = 0\n")
        .args(["report", "cis-azure-2.0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("report_max_resources_per_check"));
}

#[test]
fn scope_narrows_counts_and_resources_and_an_unknown_scope_is_bad_input() {
    let (_d, db) = assessed("");
    let rows = csv_rows(&report(&db, "", &["cis-azure-2.0", "--format", "csv", "--scope", SCOPE_A]));
    let res: Vec<_> = rows.iter().filter(|r| r["ROW"] == "resource").collect();
    assert!(!res.is_empty());
    assert!(res.iter().all(|r| r["ACCOUNTID"] == SCOPE_A), "a resource of another scope was listed");
    let all = csv_rows(&report(&db, "", &["cis-azure-2.0", "--format", "csv"]));
    assert!(all.iter().any(|r| r["ACCOUNTID"] == SCOPE_B));
    posture(&db, "").args(["report", "cis-azure-2.0", "--scope", "nope"]).assert().code(2);
    posture(&db, "").args(["report", "no-such-standard"]).assert().code(2);
}

#[test]
fn attestations_with_evidence_digests_and_exemptions_in_force_are_reported_and_cleaned() {
    let (d, db) = assessed("");
    let ev = d.path().join("mfa-policy.pdf");
    std::fs::write(&ev, b"conditional access export").unwrap();
    let digest = hex::encode(sha2::Sha256::digest(b"conditional access export"));
    posture(&db, "")
        .args(["attest", "cis-azure-2.0", "1.1.2", "--status", "passed", "--note", "MFA enforced\x1b[31m by CA"])
        .arg("--evidence")
        .arg(&ev)
        .assert()
        .success();
    posture(&db, "")
        .args(["exempt", "azure.defender.databases_plan", "--scope", SCOPE_B, "--category", "waiver"])
        .args(["--reason", "databases move out in Q1", "--expires", "2099-01-01"])
        .assert()
        .success();
    let md = report(&db, "", &["cis-azure-2.0"]);
    assert!(md.contains("mfa-policy.pdf (SHA-256 ") && md.contains(&digest), "evidence digest missing");
    assert!(!md.contains('\x1b'), "a control character reached the report");
    assert!(md.contains("databases move out in Q1") && md.contains("scope a92e5d04"));
    let rows = csv_rows(&report(&db, "", &["cis-azure-2.0", "--format", "csv"]));
    let ctl = rows.iter().find(|r| r["ROW"] == "control" && r["REQUIREMENTS_ID"] == "1.1.2").unwrap();
    assert_eq!(ctl["STATUS"], "PASS");
    // The exempted scope's resources are no longer failing.
    assert!(!rows.iter().any(|r| r["CHECKID"] == "azure.defender.databases_plan" && r["ACCOUNTID"] == SCOPE_B));
}

#[test]
fn out_writes_the_file_in_the_format_its_extension_names() {
    let (d, db) = assessed("");
    let out = d.path().join("r.csv");
    posture(&db, "").args(["report", "cis-azure-2.0", "--out"]).arg(&out).assert().success();
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("PROVIDER;"));
}

#[test]
fn console_report_command_writes_in_the_background_and_says_where() {
    use posture::tui::app::App;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let catalog = posture::catalog::Catalog::load(&posture::catalog::Catalog::builtin_files());
    {
        let mut store = posture::store::Store::open(&db).unwrap();
        let demo = [posture::sources::SourceSpec::Demo];
        let cancel = std::sync::atomic::AtomicBool::new(false);
        posture::pipeline::run_and_store(&mut store, &catalog, &demo, &[], 90, &cancel, &mut |_| {}).unwrap();
    }
    let store = posture::store::Store::open(&db).unwrap();
    let (keymap, _) = posture::tui::keymap::Keymap::new(&Default::default());
    let theme = posture::tui::theme::Theme::default_theme();
    let mut app = App::new(std::sync::Arc::new(catalog), store, theme, keymap, None);
    app.settle();
    app.run_command("standard cis-azure-2.0");
    let md = dir.path().join("for-the-ticket.md");
    app.run_command(&format!("report {}", md.display()));
    assert!(app.notice.as_ref().unwrap().text.starts_with("writing the cis-azure-2.0 report to"));
    app.wait_reports();
    let note = app.notice.clone().unwrap();
    assert!(
        !note.error && note.text.contains("report written to") && note.text.contains("for-the-ticket.md"),
        "{}",
        note.text
    );
    assert!(std::fs::read_to_string(&md).unwrap().starts_with("# CIS Microsoft Azure Foundations Benchmark"));
    // No file named: a PDF in reports/ beside the cache.
    app.run_command("report");
    app.wait_reports();
    let pdf = dir.path().join("reports").join("cis-azure-2.0-run1.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"), "{}", app.notice.as_ref().unwrap().text);
    app.run_command("report out.docx");
    assert!(app.notice.as_ref().unwrap().error);
}
