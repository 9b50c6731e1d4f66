//! The HTML report rendered by a real headless Chromium (Debian's `chromium`; `.ci/run`
//! installs it). Skipped with a message where it is absent.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const CHROMIUM: &str = "/usr/bin/chromium";

fn posture(db: &Path) -> Command {
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", &cfg);
    c
}

/// Run Chromium headless on `file` with `extra` flags, in a throwaway profile, offline.
fn chromium(file: &Path, extra: &[String]) -> Option<std::process::Output> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} is absent (apt-get install -y chromium); the HTML report was not rendered");
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(out)
}

fn html_report(dir: &Path) -> PathBuf {
    let db = dir.join("c.db");
    posture(&db).arg("assess").assert().success();
    posture(&db)
        .args(["attest", "cis-azure-2.0", "1.1.1", "--status", "passed", "--evidence", "https://wiki.example.com/ca"])
        .args(["--note", "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"])
        .assert()
        .success();
    let out = dir.join("r.html");
    posture(&db).args(["report", "cis-azure-2.0", "--out"]).arg(&out).assert().success();
    out
}

#[test]
fn html_report_is_self_contained_and_escapes_what_people_typed() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(html_report(dir.path())).unwrap();
    for external in ["<script", "<link", "<img", "<iframe", "src=\"", "@import", "url("] {
        assert!(!html.contains(external), "the file reaches outside itself or runs script: {external}");
    }
    assert!(html.contains("&lt;script&gt;document.title"), "the note was not escaped");
    assert!(html.contains("<svg") && html.contains("@media print"));
}

#[test]
fn chromium_renders_the_html_report_with_its_chart_contents_and_sections() {
    let dir = tempfile::tempdir().unwrap();
    let file = html_report(dir.path());
    let Some(out) = chromium(&file, &["--dump-dom".into()]) else { return };
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<title>CIS Microsoft Azure Foundations Benchmark 2.0.0 — compliance report</title>"),
        "{dom:.300}"
    );
    assert!(dom.contains("<svg") && dom.contains("<circle"), "the trend chart is not in the page");
    assert!(dom.contains(r##"href="#sec-2-Microsoft-Defender""##) && dom.contains(r#"id="sec-2-Microsoft-Defender""#));
    assert!(dom.contains(r#"id="ctl-2-1-3""#), "a failed control has no detail");
    // The attested note stayed text: no element was made from it.
    assert!(!dom.contains("<img") && !dom.contains("pwned</title>"));
    let pdf = dir.path().join("printed.pdf");
    chromium(&file, &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into()]);
    let bytes = std::fs::read(&pdf).unwrap();
    let pages = bytes
        .windows(b"/Type /Page\n".len())
        .filter(|w| w.starts_with(b"/Type /Page") && !w.starts_with(b"/Type /Pages"))
        .count();
    assert!(bytes.starts_with(b"%PDF") && pages > 1, "printed to {pages} page(s)");
}
