//! A control's or an action's results per scope: which subscriptions, accounts and projects
//! pass its checks and which fail them, from the per-check, per-scope counts of a run.

use super::{Ctx, Result, Store};
use crate::assess::CheckStats;
use std::collections::BTreeMap;

/// One scope's counts over some checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCount {
    /// The subscription, account or project (empty: resources above them, such as a tenant).
    pub scope: String,
    /// Counts summed over the checks.
    pub stats: CheckStats,
}

/// The scopes of a breakdown, failing first, at most a bounded number of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Scopes shown: most unhealthy first, then by name.
    pub scopes: Vec<ScopeCount>,
    /// Scopes with results in all (more than `scopes.len()` when cut).
    pub total: usize,
}

/// A row of a key and the six counts of a check (healthy, unhealthy, not applicable, error,
/// exempt, manual), in that order.
pub(super) fn key_and_stats(r: &rusqlite::Row) -> rusqlite::Result<(String, CheckStats)> {
    Ok((
        r.get::<_, String>(0)?,
        CheckStats {
            healthy: r.get(1)?,
            unhealthy: r.get(2)?,
            not_applicable: r.get(3)?,
            error: r.get(4)?,
            exempt: r.get(5)?,
            manual: r.get(6)?,
        },
    ))
}

impl Store {
    /// The counts of `checks` in run `run_id` per scope, at most `limit` scopes (those with
    /// the most unhealthy results first).
    pub fn scope_breakdown(&self, run_id: i64, checks: &[String], limit: usize) -> Result<Breakdown> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT scope, healthy, unhealthy, not_applicable, error, exempt, manual
                 FROM check_stats WHERE run_id = ?1 AND check_id = ?2",
            )
            .ctx("reading the results per scope")?;
        let mut per: BTreeMap<String, CheckStats> = BTreeMap::new();
        for check in checks {
            let rows =
                st.query_map(rusqlite::params![run_id, check], key_and_stats).ctx("reading the results per scope")?;
            for row in rows {
                let (scope, s) = row.ctx("reading the results per scope")?;
                per.entry(scope).or_default().merge(&s);
            }
        }
        let total = per.len();
        let mut scopes: Vec<ScopeCount> = per.into_iter().map(|(scope, stats)| ScopeCount { scope, stats }).collect();
        scopes.sort_by(|a, b| b.stats.unhealthy.cmp(&a.stats.unhealthy).then_with(|| a.scope.cmp(&b.scope)));
        scopes.truncate(limit);
        Ok(Breakdown { scopes, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_summed_over_the_checks_per_scope_failing_first_and_bounded() {
        let store = Store::open_in_memory().unwrap();
        store.conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        for (check, scope, healthy, unhealthy) in [
            ("a", "s1", 2, 0),
            ("b", "s1", 1, 0),
            ("a", "s2", 0, 3),
            ("b", "s2", 1, 1),
            ("a", "s3", 4, 1),
            ("c", "s4", 9, 9),
        ] {
            store
                .conn
                .execute(
                    "INSERT INTO check_stats (run_id, check_id, scope, healthy, unhealthy, not_applicable, error, exempt, manual)
                     VALUES (1, ?1, ?2, ?3, ?4, 0, 0, 0, 0)",
                    rusqlite::params![check, scope, healthy, unhealthy],
                )
                .unwrap();
        }
        let checks = ["a".to_string(), "b".to_string()];
        let b = store.scope_breakdown(1, &checks, 10).unwrap();
        let got: Vec<(&str, u64, u64)> =
            b.scopes.iter().map(|s| (s.scope.as_str(), s.stats.healthy, s.stats.unhealthy)).collect();
        assert_eq!(got, vec![("s2", 1, 4), ("s3", 4, 1), ("s1", 3, 0)], "s4 has none of the checks");
        let cut = store.scope_breakdown(1, &checks, 1).unwrap();
        assert_eq!((cut.scopes.len(), cut.total), (1, 3));
        assert!(store.scope_breakdown(2, &checks, 10).unwrap().scopes.is_empty(), "another run");
    }
}
