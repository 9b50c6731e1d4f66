//! The PDF report: paginated, with contents links, bookmarks and embedded fonts, made in
//! process. Where poppler-utils is installed (`.ci/run` installs it) the pages are also
//! rasterized and the fonts listed by poppler itself.

use assert_cmd::Command;
use std::path::Path;

fn posture(db: &Path) -> Command {
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", &cfg);
    c
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn tool(name: &str) -> Option<std::path::PathBuf> {
    let p = Path::new("/usr/bin").join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED the {name} part: /usr/bin/{name} is absent (apt-get install -y poppler-utils)");
        None
    }
}

#[test]
fn pdf_report_of_the_demo_is_paginated_with_contents_bookmarks_and_embedded_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    posture(&db).arg("assess").assert().success();
    let pdf = dir.path().join("r.pdf");
    posture(&db).args(["report", "cis-azure-2.0", "--out"]).arg(&pdf).assert().success();
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = count(&bytes, b"/Type/Page/") + count(&bytes, b"/Type /Page\n");
    assert!(pages >= 10, "{pages} pages");
    assert_eq!(count(&bytes, b"/FontFile2"), 3, "the three fonts are not embedded");
    assert!(count(&bytes, b"/Outlines") >= 1, "no bookmarks");
    assert!(count(&bytes, b"/Link") > 10, "the contents do not link to the sections");
    if let Some(pdffonts) = tool("pdffonts") {
        let out = std::process::Command::new(pdffonts).arg(&pdf).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let fonts: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(fonts.len(), 3, "{text}");
        assert!(fonts.iter().all(|l| l.contains(" yes yes yes ")), "a font is not embedded and subset: {text}");
    }
    if let Some(pdftotext) = tool("pdftotext") {
        let out = std::process::Command::new(pdftotext).args(["-layout"]).arg(&pdf).arg("-").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in ["Contents", "2 Microsoft Defender", "azure.defender.databases_plan", "Page 1 of ", "DEMO DATA"] {
            assert!(text.contains(needle), "missing {needle}");
        }
    }
    if let Some(pdftoppm) = tool("pdftoppm") {
        let prefix = dir.path().join("page");
        let ok = std::process::Command::new(pdftoppm)
            .args(["-png", "-r", "30", "-f", "1", "-l", "2"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(ok.success());
        let pngs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
            .count();
        assert_eq!(pngs, 2);
    }
}
