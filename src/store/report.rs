//! Reads for reports: per-check counts of some scopes only, and a standard's score over the
//! stored runs. Failing resources stream through [`Store::for_each_finding`].

use super::{Ctx, Result, Store};
use crate::assess::CheckStats;
use serde::Serialize;
use std::collections::BTreeMap;

/// A standard's compliance percentage in one stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Run id.
    pub run: i64,
    /// When the run started (RFC 3339).
    pub at: String,
    /// The standard's compliance percentage as that run stored it.
    pub pct: f64,
}

impl Store {
    /// Per-check counts of a run summed over `scopes` only (all scopes when empty).
    pub fn scoped_totals(&self, run_id: i64, scopes: &[String]) -> Result<BTreeMap<String, CheckStats>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT check_id, scope, healthy, unhealthy, not_applicable, error, exempt, manual
                 FROM check_stats WHERE run_id = ?1",
            )
            .ctx("reading check stats")?;
        let rows = st
            .query_map([run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    CheckStats {
                        healthy: r.get(2)?,
                        unhealthy: r.get(3)?,
                        not_applicable: r.get(4)?,
                        error: r.get(5)?,
                        exempt: r.get(6)?,
                        manual: r.get(7)?,
                    },
                ))
            })
            .ctx("reading check stats")?;
        let mut totals: BTreeMap<String, CheckStats> = BTreeMap::new();
        for row in rows {
            let (check, scope, s) = row.ctx("reading check stats")?;
            if !scopes.is_empty() && !scopes.contains(&scope) {
                continue;
            }
            totals.entry(check).or_default().merge(&s);
        }
        Ok(totals)
    }

    /// The standard's percentage in the published runs up to `up_to` (inclusive), oldest
    /// first, at most `limit` of the latest.
    pub fn score_trend(&self, standard: &str, up_to: i64, limit: u32) -> Result<Vec<TrendPoint>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.started_at, s.pct FROM runs r
                 JOIN standard_summaries s ON s.run_id = r.id AND s.standard_id = ?1
                 WHERE r.status IN ('complete','partial') AND r.id <= ?2
                 ORDER BY r.id DESC LIMIT ?3",
            )
            .ctx("reading the score trend")?;
        let rows = st
            .query_map(rusqlite::params![standard, up_to, limit], |r| {
                Ok(TrendPoint { run: r.get(0)?, at: r.get(1)?, pct: r.get(2)? })
            })
            .ctx("reading the score trend")?;
        let mut out = rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading the score trend")?;
        out.reverse();
        Ok(out)
    }
}
