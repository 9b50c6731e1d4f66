//! The export spool: every delivery is written here before it is attempted and removed once
//! it arrived, so a destination that is down loses nothing; what is left is retried at the
//! next run and listed by `posture exports status`. Also the reads exports need from a run.

use super::{Ctx, Result, Store};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// Whether a spooled delivery will be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolState {
    /// Not delivered yet; tried again at the next run.
    Pending,
    /// Given up on after too many attempts, or its destination is no longer configured; kept
    /// so nothing is lost silently.
    Failed,
}

impl SpoolState {
    fn as_str(self) -> &'static str {
        match self {
            SpoolState::Pending => "pending",
            SpoolState::Failed => "failed",
        }
    }
}

/// One delivery waiting in the spool.
#[derive(Debug, Clone, Serialize)]
pub struct SpoolEntry {
    /// Spool id.
    pub id: i64,
    /// The destination's key (`export webhook https://…`, `trigger 2 command …`).
    pub destination: String,
    /// The run whose payload it is.
    pub run_id: i64,
    /// The ids of the events it carries.
    pub event_ids: Vec<String>,
    /// The payload (JSON text); omitted from listings.
    #[serde(skip)]
    pub payload: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed (empty before the first).
    pub last_error: String,
    /// Pending or failed.
    pub state: SpoolState,
    /// When it was spooled (RFC 3339).
    pub created_at: String,
    /// When it was last attempted.
    pub updated_at: String,
}

/// A summary row of a run's stored standard.
#[derive(Debug, Clone, Serialize)]
pub struct StandardRow {
    /// Standard id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its state.
    pub state: String,
    /// Compliance percentage.
    pub compliance_pct: f64,
}

/// A control of a stored run, as a snapshot lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    /// Standard id.
    pub standard: String,
    /// Control id.
    pub control: String,
    /// Section.
    pub section: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: String,
    /// Resource counts.
    pub healthy: i64,
    /// Unhealthy resources.
    pub unhealthy: i64,
    /// Errored resources.
    pub error: i64,
    /// Exempt resources.
    pub exempt: i64,
}

fn spool_row(r: &rusqlite::Row) -> rusqlite::Result<SpoolEntry> {
    let ids: String = r.get(3)?;
    let state: String = r.get(7)?;
    Ok(SpoolEntry {
        id: r.get(0)?,
        destination: r.get(1)?,
        run_id: r.get(2)?,
        event_ids: serde_json::from_str(&ids).unwrap_or_default(),
        payload: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        state: if state == "failed" { SpoolState::Failed } else { SpoolState::Pending },
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

const SPOOL_COLS: &str =
    "id, destination, run_id, event_ids, payload, attempts, last_error, state, created_at, updated_at";

impl Store {
    /// The latest published run before `run_id`.
    pub fn previous_run(&self, run_id: i64) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT id FROM runs WHERE id < ?1 AND status IN ('complete','partial') ORDER BY id DESC LIMIT 1",
                [run_id],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading runs")
    }

    /// Spool a delivery of `payload` to `destination`; returns its id.
    pub fn spool_add(&mut self, destination: &str, run_id: i64, event_ids: &[String], payload: &str) -> Result<i64> {
        let now = chrono::Utc::now().to_rfc3339();
        let ids = serde_json::to_string(event_ids).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO export_spool (destination, run_id, event_ids, payload, attempts, last_error, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, '', 'pending', ?5, ?5)",
                params![destination, run_id, ids, payload, now],
            )
            .ctx("spooling an export")?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every spooled delivery, oldest first (`pending_only`: those still to try).
    pub fn spool(&self, pending_only: bool) -> Result<Vec<SpoolEntry>> {
        let sql = format!("SELECT {SPOOL_COLS} FROM export_spool WHERE (?1 = 0 OR state = 'pending') ORDER BY id");
        let mut st = self.conn.prepare(&sql).ctx("reading the export spool")?;
        let rows = st.query_map([pending_only as i64], spool_row).ctx("reading the export spool")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading the export spool")
    }

    /// A delivery arrived: it leaves the spool.
    pub fn spool_delivered(&mut self, id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM export_spool WHERE id = ?1", [id]).ctx("updating the export spool")?;
        Ok(())
    }

    /// A delivery failed again; `state` says whether it will be tried at the next run.
    pub fn spool_failed(&mut self, id: i64, error: &str, state: SpoolState) -> Result<()> {
        self.conn
            .execute(
                "UPDATE export_spool SET attempts = attempts + 1, last_error = ?2, state = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, error, state.as_str(), chrono::Utc::now().to_rfc3339()],
            )
            .ctx("updating the export spool")?;
        Ok(())
    }

    /// The standards a run stored, by id.
    pub fn run_standards(&self, run_id: i64) -> Result<Vec<StandardRow>> {
        let mut st = self
            .conn
            .prepare("SELECT standard_id, version, state, pct FROM standard_summaries WHERE run_id = ?1 ORDER BY standard_id")
            .ctx("reading a run's standards")?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(StandardRow { id: r.get(0)?, version: r.get(1)?, state: r.get(2)?, compliance_pct: r.get(3)? })
            })
            .ctx("reading a run's standards")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading a run's standards")
    }

    /// Every control a run stored, by standard in catalog order.
    pub fn run_controls(&self, run_id: i64) -> Result<Vec<ControlRow>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT standard_id, control_id, section, title, state, healthy, unhealthy, error, exempt
                 FROM control_summaries WHERE run_id = ?1 ORDER BY standard_id, ord",
            )
            .ctx("reading a run's controls")?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(ControlRow {
                    standard: r.get(0)?,
                    control: r.get(1)?,
                    section: r.get(2)?,
                    title: r.get(3)?,
                    state: r.get(4)?,
                    healthy: r.get(5)?,
                    unhealthy: r.get(6)?,
                    error: r.get(7)?,
                    exempt: r.get(8)?,
                })
            })
            .ctx("reading a run's controls")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading a run's controls")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spooled_delivery_stays_until_delivered_and_counts_attempts() {
        let mut store = Store::open_in_memory().unwrap();
        let id = store.spool_add("export webhook http://x/", 7, &["a".into(), "b".into()], "{}").unwrap();
        store.spool_failed(id, "HTTP 500", SpoolState::Pending).unwrap();
        let rows = store.spool(true).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].attempts, rows[0].last_error.as_str(), rows[0].state),
            (1, "HTTP 500", SpoolState::Pending)
        );
        assert_eq!(rows[0].event_ids, vec!["a".to_string(), "b".to_string()]);
        store.spool_failed(id, "gone", SpoolState::Failed).unwrap();
        assert!(store.spool(true).unwrap().is_empty());
        assert_eq!(store.spool(false).unwrap().len(), 1, "a failed delivery is still listed");
        store.spool_delivered(id).unwrap();
        assert!(store.spool(false).unwrap().is_empty());
    }
}
