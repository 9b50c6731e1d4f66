//! `posture standards build` and `standards coverage` on the real binary: the shipped
//! standards and docs/coverage.md are what the commands make from the repo's inputs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// ../shared/data; CI has it, so its absence is a failure.
fn data() -> PathBuf {
    let p = root().join("../shared/data");
    assert!(p.join("prowler/compliance").is_dir(), "{} is absent: clone with ../shared beside the repo", p.display());
    p
}

fn posture(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    c.env("POSTURE_DB", dir.join("c.db")).env("POSTURE_CONFIG", cfg).env_remove("POSTURE_DATA").current_dir(root());
    c
}

fn copy_standards(to: &Path) {
    for e in std::fs::read_dir(root().join("standards")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn check_passes_on_the_shipped_standards_and_fails_on_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("std");
    std::fs::create_dir(&out).unwrap();
    copy_standards(&out);
    posture(dir.path())
        .args(["standards", "build", "--check", "--data"])
        .arg(data())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();

    // A hand edit of a generated file is caught, and so is a generated file nothing builds.
    let f = out.join("cis-azure-6.0.toml");
    let text = std::fs::read_to_string(&f).unwrap().replace("Defender for APIs is on", "Edited by hand");
    std::fs::write(&f, text).unwrap();
    std::fs::copy(out.join("soc2.toml"), out.join("gone.toml")).unwrap();
    let o = posture(dir.path())
        .args(["standards", "build", "--check", "--data"])
        .arg(data())
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cis-azure-6.0.toml: out of date"), "{err}");
    assert!(err.contains("gone.toml: generated, but no titles file builds it"), "{err}");
    assert!(!err.contains("soc2.toml: out of date"), "{err}");
}

#[test]
fn build_writes_the_shipped_files_into_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("std");
    std::fs::create_dir(&out).unwrap();
    posture(dir.path())
        .args(["standards", "build", "--only", "cis-gcp-5.0", "--data"])
        .arg(data())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let written: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, ["cis-gcp-5.0.toml"]);
    assert_eq!(
        std::fs::read_to_string(out.join("cis-gcp-5.0.toml")).unwrap(),
        std::fs::read_to_string(root().join("standards/cis-gcp-5.0.toml")).unwrap()
    );
}

#[test]
fn build_without_data_says_where_to_point_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = posture(dir.path())
        .args(["standards", "build", "--check", "--data"])
        .arg(dir.path().join("nowhere"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--data or $POSTURE_DATA"));
}

#[test]
fn coverage_md_is_the_committed_page() {
    let dir = tempfile::tempdir().unwrap();
    let o =
        posture(dir.path()).args(["standards", "coverage", "--format", "md"]).assert().success().get_output().clone();
    let want = std::fs::read_to_string(root().join("docs/coverage.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
    let o =
        posture(dir.path()).args(["standards", "coverage", "--format", "json"]).assert().success().get_output().clone();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let azure6 = v.as_array().unwrap().iter().find(|r| r["standard"] == "cis-azure-6.0").unwrap();
    assert_eq!(azure6["requirements"], 127);
    assert_eq!(azure6["prowler"], 93);
}

#[test]
fn import_prowler_takes_titles_from_a_file_and_never_prowlers_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let src = data().join("prowler/compliance/azure/cis_6.0_azure.json");
    let out = dir.path().join("mine.toml");
    posture(dir.path())
        .args(["standards", "import", "prowler"])
        .arg(&src)
        .args(["--id", "mine", "--titles"])
        .arg(root().join("tools/titles/cis-azure-6.0.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("title = \"Defender for APIs is on\""), "{text}");
    assert!(!text.contains("Ensure"), "a Prowler description leaked");
    let o = posture(dir.path())
        .args(["standards", "validate", "--format", "json"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["unresolved_prowler"]["mine"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
}

/// PCI DSS 4.0 ships every requirement of the version, not only the 110 Prowler maps: the
/// others (policies, physical access, the appendices) are manual controls.
#[test]
fn pci_dss_ships_every_requirement_of_the_version() {
    let text = std::fs::read_to_string(root().join("standards/pci-dss-4.0.toml")).unwrap();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let controls = doc["control"].as_array().unwrap();
    assert_eq!(controls.len(), 280);
    let get = |id: &str| controls.iter().find(|c| c["id"].as_str() == Some(id)).unwrap_or_else(|| panic!("{id}"));
    for id in ["1.1.1", "9.4.1.2", "12.10.7", "A1.1.1", "A2.1.1", "A3.3.1.1", "A3.5.1"] {
        get(id);
    }
    let manual = get("12.10.7");
    assert!(manual.get("prowler").is_none() && manual["checks"].as_array().unwrap().is_empty());
    assert_eq!(get("9.2.4")["section"].as_str(), Some("9 Physical access"));
    assert!(get("1.2.5").get("prowler").is_some(), "Prowler's mapping is kept");
    let dir = tempfile::tempdir().unwrap();
    let o =
        posture(dir.path()).args(["standards", "coverage", "--format", "json"]).assert().success().get_output().clone();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pci = v.as_array().unwrap().iter().find(|r| r["standard"] == "pci-dss-4.0").unwrap();
    assert_eq!(pci["requirements"], 280);
}
