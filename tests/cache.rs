//! The cache survives kill -9 mid-run and two processes at once.

use assert_cmd::cargo::CommandCargoExt;
use posture::store::Store;
use std::process::{Command, Stdio};
use std::time::Duration;

fn posture(db: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    let cfg = db.with_extension("config.toml");
    std::fs::write(&cfg, "").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", cfg).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

#[test]
fn kill_9_in_the_middle_of_a_run_leaves_the_previous_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    assert!(posture(&db).arg("assess").status().unwrap().success());
    let first = Store::open(&db).unwrap().latest_run().unwrap().unwrap().id;
    let estate = dir.path().join("estate");
    posture::synth::generate(&estate, 60_000, 5).unwrap();
    let mut child = posture(&db).arg("assess").arg("--source").arg(&estate).spawn().unwrap();
    // wait until the run has written some of its resources (however loaded the machine is:
    // the loop ends when rows appear or the run exits)
    loop {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 =
            conn.query_row("SELECT count(*) FROM resources WHERE run_id > ?1", [first], |r| r.get(0)).unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run finished before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut store = Store::open(&db).unwrap();
    assert!(store.integrity_ok().unwrap());
    assert_eq!(store.latest_run().unwrap().unwrap().id, first, "the killed run is not visible");
    assert_eq!(store.cleanup_stale_runs().unwrap(), 1, "its rows are removed at the next start");
    assert!(posture(&db).arg("history").status().unwrap().success());
}

#[test]
fn two_processes_on_one_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    assert!(posture(&db).arg("assess").status().unwrap().success());
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let out = posture(&db).arg("assess").output().unwrap();
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                }
            })
        })
        .collect();
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            for _ in 0..6 {
                let out = posture(&db).args(["findings", "--format", "json"]).output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    let store = Store::open(&db).unwrap();
    assert!(store.integrity_ok().unwrap());
    assert_eq!(store.history(None, 100).unwrap().len(), 7);
}

#[test]
fn a_negative_schema_version_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    assert!(posture(&db).arg("assess").status().unwrap().success());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", -5).unwrap();
    drop(conn);
    let out = posture(&db).arg("history").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("schema version -5 is negative") && !err.contains("panicked"), "{err}");
}
