//! Trends over the stored runs: each standard's compliance percentage and each control's
//! unhealthy resources per run. Read from the per-run summaries the run wrote when it was
//! published (a few thousand rows a run, by primary key), never from the findings, so the cost
//! does not grow with the estate.

use super::{Ctx, Result, Store};
use std::collections::BTreeMap;

/// The most runs a trend covers.
pub const TREND_RUNS: u32 = 30;

/// The latest complete runs up to one (the `runs_status` index).
const RUNS: &str = "SELECT id, started_at FROM runs WHERE status = 'complete' AND id <= ?1 ORDER BY id DESC LIMIT ?2";
/// The standards' percentages of a range of runs (by primary key).
const STANDARDS: &str = "SELECT run_id, standard_id, pct FROM standard_summaries WHERE run_id BETWEEN ?1 AND ?2";
/// The controls' unhealthy resources of a range of runs (by primary key).
const CONTROLS: &str =
    "SELECT run_id, standard_id, control_id, unhealthy FROM control_summaries WHERE run_id BETWEEN ?1 AND ?2";

/// One run of a trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendRun {
    /// Run id.
    pub id: i64,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// The standards' scores and the controls' failing resources over the latest complete runs.
/// Every series is aligned with `runs`; `None` where the run did not assess it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trends {
    /// Complete runs, oldest first.
    pub runs: Vec<TrendRun>,
    /// Standard id → its compliance percentage as the run stored it (what `posture history`
    /// shows).
    pub standards: BTreeMap<String, Vec<Option<f64>>>,
    /// (standard id, control id) → its unhealthy, unexempted resources.
    pub controls: BTreeMap<(String, String), Vec<Option<u64>>>,
}

impl Store {
    /// The trends of the latest `runs` complete runs up to run `up_to` (inclusive), at most
    /// [`TREND_RUNS`]. Partial and cancelled runs are left out: a score over part of the
    /// sources would read as a drop.
    pub fn trends(&self, up_to: i64, runs: u32) -> Result<Trends> {
        let limit = runs.clamp(1, TREND_RUNS);
        let mut st = self.conn.prepare_cached(RUNS).ctx("reading the trend's runs")?;
        let mut list = st
            .query_map(rusqlite::params![up_to, limit], |r| Ok(TrendRun { id: r.get(0)?, started_at: r.get(1)? }))
            .ctx("reading the trend's runs")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading the trend's runs")?;
        list.reverse();
        let (Some(first), Some(last)) = (list.first().map(|r| r.id), list.last().map(|r| r.id)) else {
            return Ok(Trends::default());
        };
        // Position of each run in the series; runs in the id range that are not complete are skipped.
        let slot: BTreeMap<i64, usize> = list.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let n = list.len();
        let mut standards: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        let mut st = self.conn.prepare_cached(STANDARDS).ctx("reading the standards' trend")?;
        let rows = st
            .query_map([first, last], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?)))
            .ctx("reading the standards' trend")?;
        for row in rows {
            let (run, standard, pct) = row.ctx("reading the standards' trend")?;
            if let Some(&i) = slot.get(&run) {
                standards.entry(standard).or_insert_with(|| vec![None; n])[i] = Some(pct);
            }
        }
        let mut controls: BTreeMap<(String, String), Vec<Option<u64>>> = BTreeMap::new();
        let mut st = self.conn.prepare_cached(CONTROLS).ctx("reading the controls' trend")?;
        let rows = st
            .query_map([first, last], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })
            .ctx("reading the controls' trend")?;
        for row in rows {
            let (run, standard, control, unhealthy) = row.ctx("reading the controls' trend")?;
            if let Some(&i) = slot.get(&run) {
                controls.entry((standard, control)).or_insert_with(|| vec![None; n])[i] =
                    Some(u64::try_from(unhealthy).unwrap_or(0));
            }
        }
        Ok(Trends { runs: list, standards, controls })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A published run with the given status, standard percentages and control counts.
    fn run(s: &Store, id: i64, status: &str, standards: &[(&str, f64)], controls: &[(&str, &str, i64)]) {
        s.conn
            .execute(
                "INSERT INTO runs (id, started_at, status, pid, sources, standards) VALUES (?1, ?2, ?3, 1, '[]', '[]')",
                rusqlite::params![id, format!("2026-11-{:02}T08:00:00+00:00", id), status],
            )
            .unwrap();
        for (sid, pct) in standards {
            s.conn
                .execute(
                    "INSERT INTO standard_summaries VALUES (?1, ?2, 'n', '1', 'failed', 0, 0, 0, 0, 0, ?3)",
                    rusqlite::params![id, sid, pct],
                )
                .unwrap();
        }
        for (ord, (sid, cid, bad)) in controls.iter().enumerate() {
            s.conn
                .execute(
                    "INSERT INTO control_summaries VALUES (?1, ?2, ?3, ?4, 's', 't', 'failed', '[]', 0, ?5, 0, 0, NULL)",
                    rusqlite::params![id, sid, ord as i64, cid, bad],
                )
                .unwrap();
        }
    }

    #[test]
    fn complete_runs_oldest_first_with_gaps_where_a_run_did_not_assess() {
        let s = Store::open_in_memory().unwrap();
        run(&s, 1, "complete", &[("a", 40.0), ("b", 10.0)], &[("a", "1.1", 5), ("a", "1.2", 0)]);
        run(&s, 2, "partial", &[("a", 5.0)], &[("a", "1.1", 99)]);
        run(&s, 3, "complete", &[("a", 55.5)], &[("a", "1.1", 3)]);
        run(&s, 4, "cancelled", &[], &[]);
        run(&s, 5, "complete", &[("a", 60.0), ("b", 20.0)], &[("a", "1.1", 1), ("a", "1.2", 2)]);
        let t = s.trends(5, 30).unwrap();
        assert_eq!(t.runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert_eq!(t.runs[1].started_at, "2026-11-03T08:00:00+00:00");
        assert_eq!(t.standards["a"], vec![Some(40.0), Some(55.5), Some(60.0)]);
        assert_eq!(t.standards["b"], vec![Some(10.0), None, Some(20.0)]);
        assert_eq!(t.controls[&("a".into(), "1.1".into())], vec![Some(5), Some(3), Some(1)]);
        assert_eq!(t.controls[&("a".into(), "1.2".into())], vec![Some(0), None, Some(2)]);
    }

    /// Each query reads an index or a primary key range, never a whole table: the cost stays
    /// that of 30 runs' summaries however large the cache.
    #[test]
    fn every_query_searches_a_key() {
        let s = Store::open_in_memory().unwrap();
        for sql in [RUNS, STANDARDS, CONTROLS] {
            let mut st = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = st
                .query_map(rusqlite::params![1, 30], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(plan.iter().all(|p| p.starts_with("SEARCH")), "{sql}: {plan:?}");
        }
    }

    #[test]
    fn bounded_to_the_latest_runs_up_to_the_one_shown() {
        let s = Store::open_in_memory().unwrap();
        for id in 1..=40 {
            run(&s, id, "complete", &[("a", id as f64)], &[]);
        }
        let t = s.trends(40, 1000).unwrap();
        assert_eq!(t.runs.len(), TREND_RUNS as usize);
        assert_eq!(t.runs.first().map(|r| r.id), Some(11));
        let t = s.trends(3, 30).unwrap();
        assert_eq!(t.standards["a"], vec![Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(s.trends(0, 30).unwrap(), Trends::default());
    }
}
