//! Real exports, real sizes, bad sources: `posture assess` on the real binary with a temporary
//! cache.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn posture(db: &Path) -> Command {
    let mut c = Command::cargo_bin("posture").unwrap();
    c.env("POSTURE_DB", db).env("POSTURE_CONFIG", db.with_extension("config.toml")).env_remove("NO_COLOR");
    std::fs::write(db.with_extension("config.toml"), "").unwrap();
    c
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// The check the tests judge, and a CIS AWS control that holds it.
const CHECK: &str = "aws.s3.bucket_public_access_block";

/// An AWS Config item for bucket `b`, captured at `at`, with Block Public Access all on
/// (`"Enabled"`) or all off.
fn bucket(at: &str, status: &str) -> String {
    let on = status == "Enabled";
    format!(
        r#"{{"configurationItemCaptureTime":"{at}","configurationItemStatus":"OK","accountId":"1","resourceType":"AWS::S3::Bucket","resourceId":"b","arn":"arn:aws:s3:::b","awsRegion":"eu-west-1","configuration":{{"name":"b"}},"supplementaryConfiguration":{{"PublicAccessBlockConfiguration":{{"blockPublicAcls":{on},"ignorePublicAcls":{on},"blockPublicPolicy":{on},"restrictPublicBuckets":{on}}}}}}}"#
    )
}

/// Assess `source`; (run JSON, stderr).
fn assess(db: &Path, source: &Path) -> (Value, String) {
    let out = posture(db)
        .args(["assess", "--format", "json", "--source"])
        .arg(source)
        .assert()
        .success()
        .get_output()
        .clone();
    (json(&out.stdout), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Findings of the check in the latest run.
fn findings(db: &Path) -> Vec<Value> {
    let out = posture(db)
        .args(["findings", "--format", "json", "--check", CHECK])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out).as_array().unwrap().clone()
}

/// Healthy and unhealthy resources of every control of CIS AWS that holds the check.
fn counts(db: &Path) -> Vec<(u64, u64)> {
    let out = posture(db)
        .args(["controls", "cis-aws-7.0", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    let controls = v.as_array().or_else(|| v["controls"].as_array()).unwrap().clone();
    controls
        .iter()
        .filter(|c| c["checks"].as_array().is_some_and(|k| k.iter().any(|k| k == CHECK)))
        .map(|c| (c["healthy_resources"].as_u64().unwrap(), c["unhealthy_resources"].as_u64().unwrap()))
        .collect()
}

#[test]
fn the_same_item_twice_in_one_file_is_one_resource_and_the_newest_is_judged() {
    let older = bucket("2024-01-01T00:00:00Z", "Enabled");
    let newer = bucket("2024-06-01T00:00:00Z", "Off");
    for (a, b) in [(&older, &newer), (&newer, &older)] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.json");
        std::fs::write(&file, format!("[{a},{b}]")).unwrap();
        let db = dir.path().join("c.db");
        let (run, stderr) = assess(&db, &file);
        assert_eq!(run["run"]["status"], "complete", "{run}");
        assert_eq!((run["run"]["resources"].as_u64(), run["run"]["resources_seen"].as_u64()), (Some(1), Some(1)));
        assert_eq!(run["run"]["sources"][0]["duplicates"], 1);
        assert!(stderr.contains("1 duplicate copy merged"), "{stderr}");
        let f = findings(&db);
        assert_eq!(f.len(), 1, "the newest copy (public access off) fails, once: {f:?}");
        let counts = counts(&db);
        assert!(
            !counts.is_empty() && counts.iter().all(|&c| c == (0, 1)),
            "a replaced copy is not counted: {counts:?}"
        );
    }
}

#[test]
fn copies_in_two_files_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("1.json"), bucket("2024-06-01T00:00:00Z", "Enabled")).unwrap();
    std::fs::write(src.join("2.json"), bucket("2024-01-01T00:00:00Z", "Off")).unwrap();
    let db = dir.path().join("c.db");
    let (run, _) = assess(&db, &src);
    assert_eq!(run["run"]["resources"], 1);
    assert!(findings(&db).is_empty(), "the newer copy (in the first file) passes");
    assert!(counts(&db).iter().all(|&(h, u)| (h, u) == (1, 0)));
}

#[test]
fn when_every_source_fails_assess_exits_2_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let fifo = dir.path().join("pipe.json");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let db = dir.path().join("c.db");
    for source in [&bad, &fifo] {
        let out = posture(&db).args(["assess", "--source"]).arg(source).assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nothing could be read"), "{stderr}");
    }
    let out = posture(&db).args(["history", "--format", "json"]).assert().success().get_output().stdout.clone();
    assert_eq!(json(&out).as_array().map(Vec::len), Some(0), "no run was stored");
    // one good source among failed ones: a partial run, exit 0
    let good = dir.path().join("good.json");
    std::fs::write(&good, bucket("2024-01-01T00:00:00Z", "Enabled")).unwrap();
    posture(&db).args(["assess", "--source"]).arg(&bad).arg("--source").arg(&good).assert().success();
}

#[test]
fn warnings_quote_names_and_file_names_without_their_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    // a file name that would clear the screen, holding a record that is not a resource
    std::fs::write(src.join("\x1b[2Jx.json"), r#"{"resourceType":"AWS::S3::Bucket","accountId":"1"}"#).unwrap();
    // a GCP asset whose name carries a terminal escape (quoted by its error message)
    std::fs::write(src.join("cai.json"), "{\"name\":\"evil\\u001b]0;pwned\\u0007\",\"resource\":{}}").unwrap();
    let db = dir.path().join("c.db");
    let out = posture(&db).args(["assess", "--source"]).arg(format!("gcp:{}", src.display())).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\x1b') && !stderr.contains('\x07'), "{stderr:?}");
    assert!(stderr.contains("\u{FFFD}[2Jx.json"), "{stderr:?}");
    assert!(stderr.contains("evil\u{FFFD}]0;pwned\u{FFFD}"), "{stderr:?}");
}

/// The largest resident set of any child this test process has waited for, in bytes.
fn children_peak_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    usage.ru_maxrss as u64 * 1024 // kilobytes on Linux
}

#[test]
fn a_64_mb_resource_name_is_cut_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.json");
    let name = "n".repeat(64 << 20);
    std::fs::write(
        &file,
        format!(
            r#"[{{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/{name}","type":"Microsoft.Storage/storageAccounts","name":"{name}","properties":{{}}}}]"#
        ),
    )
    .unwrap();
    drop(name);
    let db = dir.path().join("c.db");
    let (run, stderr) = assess(&db, &file);
    let peak = children_peak_rss();
    assert_eq!(run["run"]["resources_seen"], 1, "{run}");
    assert!(stderr.contains("record 1: 2 strings cut to max_string_bytes (1048576 bytes)"), "{stderr}");
    // every child so far counts: the other tests' runs are far smaller than this bound
    assert!(peak < 512 << 20, "peak RSS {} MB", peak >> 20);
}
