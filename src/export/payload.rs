//! What goes out: the run summary (with the audit log's chain head) and its events, as one
//! payload; its JSON Lines form; and the snapshot file of a run.

use super::events::Event;
use crate::model::FindingState;
use crate::store::{FindingFilter, RunInfo, Store, StoreError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The version of the payload's shape (docs/export.md).
pub const SCHEMA: &str = "posture.export/1";

/// One run's delivery: its summary and the events a destination receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    /// [`SCHEMA`].
    pub schema: String,
    /// The run summary, with `audit_head`.
    pub run: serde_json::Value,
    /// The events.
    pub events: Vec<Event>,
}

/// The summary of `run`: header, scores, standards, the run compared with, and the audit
/// log's head at export time, so heads are kept outside the cache.
pub fn summary(store: &Store, run: &RunInfo, previous: Option<i64>) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::json!({
        "id": run.id,
        "previous_run": previous,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "demo": run.demo,
        "resources": run.resources,
        "resources_seen": run.resources_seen,
        "compliance_score": run.compliance,
        "secure_score": run.secure,
        "standards": store.run_standards(run.id)?,
        "audit_head": store.audit_head()?,
    }))
}

impl Payload {
    /// The JSON Lines form: the run (`"type": "run"`) then each event (`"type": "event"`),
    /// one object per line, newline-terminated.
    pub fn jsonl(&self) -> String {
        let mut out = String::new();
        let mut line = |kind: &str, v: serde_json::Value| {
            let mut obj = serde_json::Map::new();
            obj.insert("type".into(), kind.into());
            if let serde_json::Value::Object(m) = v {
                obj.extend(m);
            }
            out.push_str(&serde_json::Value::Object(obj).to_string());
            out.push('\n');
        };
        line("run", self.run.clone());
        for e in &self.events {
            line("event", serde_json::to_value(e).unwrap_or_default());
        }
        out
    }
}

/// Append `text` to `path` (created owner-only), then fsync: what was there stays.
pub fn append_synced(path: &Path, text: &str) -> std::io::Result<()> {
    use crate::fsutil::with_path;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| with_path(dir, e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let mut f = o.open(path).map_err(|e| with_path(path, e))?;
    f.write_all(text.as_bytes()).map_err(|e| with_path(path, e))?;
    f.sync_data().map_err(|e| with_path(path, e))
}

const SNAPSHOT_PREFIX: &str = "posture-snapshot-";

/// The snapshot file of the day `date` in `dir`.
pub fn snapshot_path(dir: &Path, date: NaiveDate) -> PathBuf {
    dir.join(format!("{SNAPSHOT_PREFIX}{}.json", date.format("%Y-%m-%d")))
}

/// Whether a snapshot is due on `date`: none in `dir` yet, or the newest is at least `every` old.
pub fn snapshot_due(dir: &Path, every: std::time::Duration, date: NaiveDate) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return true };
    let newest = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let day = name.strip_prefix(SNAPSHOT_PREFIX)?.strip_suffix(".json")?.to_string();
            NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()
        })
        .max();
    newest.is_none_or(|n| {
        let age = (date - n).num_seconds().max(0) as u64;
        // Named by date: a period under a day still gives at most one per day.
        age >= every.as_secs().max(86400)
    })
}

/// Write the full export of `payload`'s run into `dir`: the summary, its events, every control
/// with its state and counts, and every unhealthy, errored or exempt finding with its evidence.
/// Findings stream from the cache to the file; the file appears complete or not at all.
pub fn write_snapshot(store: &Store, dir: &Path, payload: &Payload) -> Result<PathBuf, String> {
    let run_id = payload.run.get("id").and_then(|v| v.as_i64()).ok_or("the payload names no run")?;
    let finished = payload.run.get("finished_at").and_then(|v| v.as_str()).unwrap_or_default();
    let date = chrono::DateTime::parse_from_rfc3339(finished)
        .map(|d| d.date_naive())
        .unwrap_or_else(|_| chrono::Utc::now().date_naive());
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = snapshot_path(dir, date);
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let controls = store.run_controls(run_id).map_err(|e| e.to_string())?;
    let mut tmp = crate::fsutil::private_temp_in(dir, "posture-snapshot").map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        let head =
            serde_json::json!({ "schema": SCHEMA, "run": payload.run, "events": payload.events, "controls": controls });
        let head = head.to_string();
        // The object without its closing brace, then the findings array streamed in.
        w.write_all(&head.as_bytes()[..head.len() - 1]).map_err(io)?;
        w.write_all(b",\"findings\":[").map_err(io)?;
        let filter = FindingFilter {
            states: Some(vec![FindingState::Unhealthy, FindingState::Error, FindingState::Exempt]),
            ..Default::default()
        };
        let mut first = true;
        let mut failed: Option<std::io::Error> = None;
        store
            .for_each_finding(run_id, &filter, &mut |f| {
                let sep: &[u8] = if first { b"" } else { b"," };
                first = false;
                let r = w.write_all(sep).and_then(|_| serde_json::to_writer(&mut w, &f).map_err(std::io::Error::other));
                match r {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        if let Some(e) = failed {
            return Err(io(e));
        }
        w.write_all(b"]}\n").map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(&path).map_err(|e| io(e.error))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_due_once_per_period() {
        let dir = tempfile::tempdir().unwrap();
        let week = std::time::Duration::from_secs(7 * 86400);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(snapshot_due(dir.path(), week, d("2026-12-01")));
        std::fs::write(snapshot_path(dir.path(), d("2026-12-01")), "{}").unwrap();
        assert!(!snapshot_due(dir.path(), week, d("2026-12-01")));
        assert!(!snapshot_due(dir.path(), week, d("2026-12-07")));
        assert!(snapshot_due(dir.path(), week, d("2026-12-08")));
        std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
        assert!(!snapshot_due(dir.path(), std::time::Duration::from_secs(3600), d("2026-12-01")), "one a day at most");
    }

    #[test]
    fn appending_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/s.jsonl");
        append_synced(&p, "{\"a\":1}\n").unwrap();
        append_synced(&p, "{\"b\":2}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
    }
}
