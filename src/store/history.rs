//! Run history and the difference between two runs.

use super::codes::state_code;
use super::query::{FindingRow, RUN_COLS, RunInfo, run_info};
use super::rows::{FINDING_COLS, FINDING_FROM, finding_row};
use super::{Ctx, Result, Store};
use crate::model::FindingState;
use crate::model::ResourceRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// One run in the history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Header.
    #[serde(flatten)]
    pub run: RunInfo,
    /// Standard id → compliance percentage.
    pub standards: BTreeMap<String, f64>,
    /// Defender for Cloud's own secure score, when the run imported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defender_secure: Option<crate::assess::SecureScore>,
}

/// A control or standard whose state changed between two runs.
#[derive(Debug, Clone, Serialize)]
pub struct StandardDelta {
    /// Standard id.
    pub standard: String,
    /// Control id (None for the standard itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// State in the older run.
    pub from: String,
    /// State in the newer run.
    pub to: String,
    /// Percentages (standards only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pct: Option<(f64, f64)>,
}

/// What changed from run A to run B.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Older run.
    pub from: RunInfo,
    /// Newer run.
    pub to: RunInfo,
    /// Unhealthy in B, not unhealthy in A.
    pub new_failures: Vec<FindingRow>,
    /// Unhealthy in A; the resource is still there in B and no longer unhealthy.
    pub fixed: Vec<FindingRow>,
    /// Resources in B only.
    pub appeared: Vec<ResourceRef>,
    /// Resources in A only.
    pub disappeared: Vec<ResourceRef>,
    /// Standards whose state or percentage changed.
    pub standards: Vec<StandardDelta>,
    /// Controls whose state changed.
    pub controls: Vec<StandardDelta>,
    /// Compliance score percentage change (B − A).
    pub compliance_delta: f64,
    /// Secure score percentage change (B − A).
    pub secure_delta: f64,
}

/// The resources of run `?1` that run `?2` does not have (by id). Lookups by id name
/// `resources_id`: with the id compared after its key, SQLite would rather scan the run.
pub(super) const ONLY_IN: &str =
    "SELECT r.id, r.name, r.type, r.cloud, r.scope, r.region FROM resources r WHERE r.run_id = ?1
     AND NOT EXISTS (SELECT 1 FROM resource_rows o INDEXED BY resources_id WHERE o.run_id = ?2 AND o.idh = r.idh
     AND (SELECT h.head FROM id_heads h WHERE h.id = o.head) || coalesce(o.tail, o.name) = r.id) ORDER BY r.id";

impl Store {
    /// Published runs, newest first, with per-standard percentages.
    pub fn history(&self, standard: Option<&str>, limit: u64) -> Result<Vec<HistoryEntry>> {
        let sql =
            format!("SELECT {RUN_COLS} FROM runs WHERE status IN ('complete','partial') ORDER BY id DESC LIMIT ?1");
        let mut st = self.conn.prepare(&sql).ctx("reading history")?;
        let runs = st
            .query_map([limit as i64], run_info)
            .ctx("reading history")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading history")?;
        let mut out = Vec::new();
        let mut ss = self
            .conn
            .prepare("SELECT standard_id, pct FROM standard_summaries WHERE run_id = ?1 AND (?2 IS NULL OR standard_id = ?2) ORDER BY standard_id")
            .ctx("reading history")?;
        for run in runs {
            let standards = ss
                .query_map(rusqlite::params![run.id, standard], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
                .ctx("reading history")?
                .collect::<rusqlite::Result<BTreeMap<_, _>>>()
                .ctx("reading history")?;
            if standard.is_some() && standards.is_empty() {
                continue;
            }
            let defender_secure = self.external(run.id)?.and_then(|ext| crate::assess::defender_secure(&ext));
            out.push(HistoryEntry { run, standards, defender_secure });
        }
        Ok(out)
    }

    /// The two latest published complete runs, older first.
    pub fn last_two_runs(&self) -> Result<Option<(i64, i64)>> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 2")
            .ctx("reading runs")?;
        let ids = st
            .query_map([], |r| r.get::<_, i64>(0))
            .ctx("reading runs")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading runs")?;
        Ok(if ids.len() == 2 { Some((ids[1], ids[0])) } else { None })
    }

    fn findings_sql(&self, sql: &str, a: i64, b: i64) -> Result<Vec<FindingRow>> {
        let mut st = self.conn.prepare(sql).ctx("comparing runs")?;
        let rows = st.query_map([a, b], finding_row).ctx("comparing runs")?;
        let raw = rows.collect::<rusqlite::Result<Vec<_>>>().ctx("comparing runs")?;
        self.complete_all(raw)
    }

    fn resources_only_in(&self, a: i64, b: i64) -> Result<Vec<ResourceRef>> {
        let mut st = self.conn.prepare(ONLY_IN).ctx("comparing resources")?;
        let rows = st.query_map([a, b], super::lookup::resource_ref).ctx("comparing resources")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("comparing resources")
    }

    /// What changed from run `a` to run `b`.
    pub fn diff(&self, a: i64, b: i64) -> Result<DiffReport> {
        let from = self.run(a)?;
        let to = self.run(b)?;
        let bad = state_code(FindingState::Unhealthy);
        // Findings and resources are read from the runs holding them; summaries are each run's.
        let (rows_a, rows_b) = (self.data_run(a)?, self.data_run(b)?);
        let new_failures = self.findings_sql(
            &format!(
                "SELECT {FINDING_COLS}{FINDING_FROM}
                 WHERE f.run_id = ?2 AND f.state = {bad} AND NOT EXISTS (
                    SELECT 1 FROM resource_rows ra INDEXED BY resources_id JOIN findings fa ON fa.run_id = ra.run_id AND fa.rid = ra.rid
                    WHERE ra.run_id = ?1 AND ra.idh = r.idh AND (SELECT h.head FROM id_heads h WHERE h.id = ra.head) || coalesce(ra.tail, ra.name) = r.id AND fa.check_id = f.check_id AND fa.state = {bad})
                 ORDER BY c.name, r.name"
            ),
            rows_a,
            rows_b,
        )?;
        let fixed = self.findings_sql(
            &format!(
                "SELECT {FINDING_COLS}{FINDING_FROM}
                 WHERE f.run_id = ?1 AND f.state = {bad}
                 AND EXISTS (SELECT 1 FROM resource_rows rb INDEXED BY resources_id WHERE rb.run_id = ?2 AND rb.idh = r.idh AND (SELECT h.head FROM id_heads h WHERE h.id = rb.head) || coalesce(rb.tail, rb.name) = r.id)
                 AND NOT EXISTS (
                    SELECT 1 FROM resource_rows rb INDEXED BY resources_id JOIN findings fb ON fb.run_id = rb.run_id AND fb.rid = rb.rid
                    WHERE rb.run_id = ?2 AND rb.idh = r.idh AND (SELECT h.head FROM id_heads h WHERE h.id = rb.head) || coalesce(rb.tail, rb.name) = r.id AND fb.check_id = f.check_id AND fb.state = {bad})
                 ORDER BY c.name, r.name"
            ),
            rows_a,
            rows_b,
        )?;
        let appeared = self.resources_only_in(rows_b, rows_a)?;
        let disappeared = self.resources_only_in(rows_a, rows_b)?;
        let mut standards = Vec::new();
        {
            let mut st = self
                .conn
                .prepare(
                    "SELECT sa.standard_id, sa.state, sb.state, sa.pct, sb.pct FROM standard_summaries sa
                     JOIN standard_summaries sb ON sb.run_id = ?2 AND sb.standard_id = sa.standard_id
                     WHERE sa.run_id = ?1 AND (sa.state <> sb.state OR sa.pct <> sb.pct) ORDER BY sa.standard_id",
                )
                .ctx("comparing standards")?;
            let rows = st
                .query_map([a, b], |r| {
                    Ok(StandardDelta {
                        standard: r.get(0)?,
                        control: None,
                        from: r.get(1)?,
                        to: r.get(2)?,
                        pct: Some((r.get(3)?, r.get(4)?)),
                    })
                })
                .ctx("comparing standards")?;
            for row in rows {
                standards.push(row.ctx("comparing standards")?);
            }
        }
        let mut controls = Vec::new();
        {
            let mut st = self
                .conn
                .prepare(
                    "SELECT ca.standard_id, ca.control_id, ca.state, cb.state FROM control_summaries ca
                     JOIN control_summaries cb ON cb.run_id = ?2 AND cb.standard_id = ca.standard_id AND cb.control_id = ca.control_id
                     WHERE ca.run_id = ?1 AND ca.state <> cb.state ORDER BY ca.standard_id, ca.ord",
                )
                .ctx("comparing controls")?;
            let rows = st
                .query_map([a, b], |r| {
                    Ok(StandardDelta {
                        standard: r.get(0)?,
                        control: Some(r.get(1)?),
                        from: r.get(2)?,
                        to: r.get(3)?,
                        pct: None,
                    })
                })
                .ctx("comparing controls")?;
            for row in rows {
                controls.push(row.ctx("comparing controls")?);
            }
        }
        let round = |x: f64| (x * 10.0).round() / 10.0;
        Ok(DiffReport {
            compliance_delta: round(to.compliance.percentage - from.compliance.percentage),
            secure_delta: round(to.secure.percentage - from.secure.percentage),
            from,
            to,
            new_failures,
            fixed,
            appeared,
            disappeared,
            standards,
            controls,
        })
    }
}
