//! An unchanged re-run through the CLI shares the first run's rows: every listing answers the
//! same for both runs, diff says nothing changed, and the cache hardly grows; a changed estate
//! stores its own rows.

use assert_cmd::cargo::CommandCargoExt;
use std::path::Path;
use std::process::Command;

fn posture(db: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, "").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", cfg);
    c
}

fn stdout(db: &Path, args: &[&str]) -> String {
    let out = posture(db).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The cache and its side files, in bytes (no `-wal` is left once posture exits).
fn size(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| {
            let mut p = db.as_os_str().to_owned();
            p.push(s);
            std::fs::metadata(Path::new(&p)).ok().map(|m| m.len())
        })
        .sum()
}

/// A report's CSV without the columns that name the run and when it ran (anything else as is).
fn without_run_columns(text: &str) -> String {
    if !text.starts_with("PROVIDER;") {
        return text.to_string();
    }
    let mut rows = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let drop: Vec<usize> =
        rows[0].iter().enumerate().filter(|(_, c)| ["ASSESSMENTDATE", "RUN_ID"].contains(c)).map(|(i, _)| i).collect();
    let keep = |r: &csv::StringRecord| {
        r.iter().enumerate().filter(|(i, _)| !drop.contains(i)).map(|(_, v)| v).collect::<Vec<_>>().join(";")
    };
    rows.iter().map(keep).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_unchanged_re_run_reads_the_same_and_hardly_grows_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let estate = dir.path().join("estate");
    posture::synth::generate(&estate, 3000, 5).unwrap();
    let source = estate.to_str().unwrap();
    stdout(&db, &["assess", "--source", source]);
    let first = size(&db);
    stdout(&db, &["assess", "--source", source]);
    let second = size(&db);
    // Its summaries, whatever the estate's size (about 0.5 MB with every standard selected).
    let growth = second.saturating_sub(first);
    assert!(growth < 1 << 20, "the re-run grew the cache by {growth} bytes (the first run: {first})");
    for listing in [
        &["findings", "--format", "json"][..],
        &["findings", "--format", "json", "--state", "unhealthy"],
        &["controls", "cis-azure-2.0", "--format", "json"],
        &["report", "cis-azure-2.0", "--format", "csv"],
    ] {
        let of = |run: &str| without_run_columns(&stdout(&db, &[listing, &["--run", run]].concat()));
        assert_eq!(of("1"), of("2"), "{listing:?}");
    }
    let diff: serde_json::Value = serde_json::from_str(&stdout(&db, &["diff", "--format", "json"])).unwrap();
    for section in ["new_failures", "fixed", "appeared", "disappeared", "standards", "controls"] {
        assert_eq!(diff[section].as_array().map(Vec::len), Some(0), "{section}");
    }
    // another estate: its own rows, and diff sees them
    let other = dir.path().join("other");
    posture::synth::generate(&other, 3000, 6).unwrap();
    stdout(&db, &["assess", "--source", other.to_str().unwrap()]);
    let changed = size(&db).saturating_sub(second);
    assert!(growth * 4 < changed, "a changed estate stores its rows: {changed} bytes against {growth}");
    let diff: serde_json::Value = serde_json::from_str(&stdout(&db, &["diff", "--format", "json"])).unwrap();
    assert!(!diff["new_failures"].as_array().unwrap().is_empty());
}
