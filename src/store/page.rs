//! Keyset pages of findings: a window continues from the sort key of the row it ends on
//! instead of an OFFSET, so a window deep in a large control costs what the window costs,
//! not a sort of the whole control.
//!
//! In the check order (the console's) the checks are walked one at a time in id order, each
//! through the `findings_window` index (run, check, name, rid): every query is a range scan
//! that stops after `limit` rows.

use super::query::{FINDING_COLS, FindingFilter, FindingOrder, FindingRow, finding_row};
use super::{Ctx, Result, Store};
use rusqlite::{Row, params_from_iter, types::Value as SqlValue};
use std::cmp::Ordering;

/// Where a finding sits in the sort order: enough to continue a page from it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageKey {
    check: String,
    name: String,
    scope: String,
    rid: i64,
    /// As stored.
    state: SqlValue,
    /// The finding's row: the last tie-breaker (a resource may have two findings of one check,
    /// from two tools).
    seq: i64,
}

/// Which page of a filtered list to read.
#[derive(Debug, Clone, PartialEq)]
pub enum PageAt {
    /// The first `limit` rows.
    First,
    /// The `limit` rows after this key.
    After(PageKey),
    /// The `limit` rows before this key.
    Before(PageKey),
    /// The last `limit` rows (the console's `G`).
    Last,
}

/// A page of findings in sort order, each with its key.
#[derive(Debug, Clone, Default)]
pub struct FindingPage {
    /// The rows.
    pub rows: Vec<FindingRow>,
    keys: Vec<PageKey>,
}

impl FindingPage {
    /// The key of the first row (to read the page before it).
    pub fn first_key(&self) -> Option<&PageKey> {
        self.keys.first()
    }

    /// The key of the last row (to read the page after it).
    pub fn last_key(&self) -> Option<&PageKey> {
        self.keys.last()
    }
}

/// Forwards or backwards through the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Backward,
}

impl Dir {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            Dir::Forward => (">", "ASC"),
            Dir::Backward => ("<", "DESC"),
        }
    }
}

/// The key columns appended to [`FINDING_COLS`].
const KEY_COLS: &str = ", f.rid, f.rowid";

fn keyed_row(r: &Row) -> rusqlite::Result<(PageKey, FindingRow)> {
    let row = finding_row(r)?;
    let key = PageKey {
        check: row.check.clone(),
        name: row.resource.name.clone(),
        scope: row.resource.scope.clone(),
        rid: r.get(12)?,
        state: r.get(1)?,
        seq: r.get(13)?,
    };
    Ok((key, row))
}

/// The sort columns of an order after the check (the check order walks checks one by one).
fn sort_cols(order: FindingOrder) -> &'static [&'static str] {
    match order {
        // The index's own order (state before the row), so no sort is needed.
        FindingOrder::Check => &["f.name", "f.rid", "f.state", "f.rowid"],
        FindingOrder::Resource => &["f.name", "f.rid", "f.check_id", "f.rowid"],
        FindingOrder::Scope => &["r.scope", "f.check_id", "f.name", "f.rid", "f.rowid"],
    }
}

/// The full ORDER BY of an order (also what the OFFSET listings use, so both agree exactly).
pub(super) fn order_by(order: FindingOrder) -> String {
    let cols = sort_cols(order).join(", ");
    match order {
        FindingOrder::Check => format!("f.check_id, {cols}"),
        FindingOrder::Resource | FindingOrder::Scope => cols,
    }
}

fn key_values(order: FindingOrder, k: &PageKey) -> Vec<SqlValue> {
    let (check, name, scope) = (k.check.clone().into(), k.name.clone().into(), k.scope.clone().into());
    match order {
        FindingOrder::Check => vec![name, k.rid.into(), k.state.clone(), k.seq.into()],
        FindingOrder::Resource => vec![name, k.rid.into(), check, k.seq.into()],
        FindingOrder::Scope => vec![scope, check, name, k.rid.into(), k.seq.into()],
    }
}

/// The query of [`Store::keyed_query`].
fn keyed_sql(run_id: i64, f: &FindingFilter, dir: Dir, key: Option<&PageKey>, limit: u64) -> (String, Vec<SqlValue>) {
    let (wh, mut args) = Store::finding_where(run_id, f);
    let (cmp, asc) = dir.sql();
    let cols = sort_cols(f.order);
    let mut sql = format!("SELECT {FINDING_COLS}{KEY_COLS}{wh}");
    if let Some(k) = key {
        let marks = vec!["?"; cols.len()].join(", ");
        sql.push_str(&format!(" AND ({}) {cmp} ({marks})", cols.join(", ")));
        args.extend(key_values(f.order, k));
    }
    let order: Vec<String> = cols.iter().map(|c| format!("{c} {asc}")).collect();
    sql.push_str(&format!(" ORDER BY {} LIMIT ?", order.join(", ")));
    args.push((limit.min(i64::MAX as u64) as i64).into());
    (sql, args)
}

impl Store {
    /// One page of findings by key: the rows after or before a key, or at either end, in the
    /// order of [`Store::findings`] (whose pages at the same positions are the same rows).
    pub fn findings_page(&self, run_id: i64, f: &FindingFilter, at: &PageAt, limit: u64) -> Result<FindingPage> {
        let dir = match at {
            PageAt::First | PageAt::After(_) => Dir::Forward,
            PageAt::Before(_) | PageAt::Last => Dir::Backward,
        };
        let key = match at {
            PageAt::After(k) | PageAt::Before(k) => Some(k),
            PageAt::First | PageAt::Last => None,
        };
        let mut out: Vec<(PageKey, FindingRow)> = Vec::new();
        match f.order {
            FindingOrder::Check => {
                let mut checks = match &f.checks {
                    Some(c) => c.clone(),
                    None => self.run_checks(run_id)?,
                };
                checks.sort();
                checks.dedup();
                if dir == Dir::Backward {
                    checks.reverse();
                }
                for check in checks {
                    let remaining = limit.saturating_sub(out.len() as u64);
                    if remaining == 0 {
                        break;
                    }
                    // Checks before the key's are behind us; the key's own continues after it.
                    let from = match key.map(|k| (check.cmp(&k.check), k)) {
                        Some((Ordering::Equal, k)) => Some(k),
                        Some((Ordering::Less, _)) if dir == Dir::Forward => continue,
                        Some((Ordering::Greater, _)) if dir == Dir::Backward => continue,
                        _ => None,
                    };
                    let one = FindingFilter { checks: Some(vec![check]), ..f.clone() };
                    out.extend(self.keyed_query(run_id, &one, dir, from, remaining)?);
                }
            }
            FindingOrder::Resource | FindingOrder::Scope => out = self.keyed_query(run_id, f, dir, key, limit)?,
        }
        if dir == Dir::Backward {
            out.reverse();
        }
        let (keys, rows) = out.into_iter().unzip();
        Ok(FindingPage { rows, keys })
    }

    /// Up to `limit` rows of `f` strictly after (or before) `key` in the order's columns.
    fn keyed_query(
        &self,
        run_id: i64,
        f: &FindingFilter,
        dir: Dir,
        key: Option<&PageKey>,
        limit: u64,
    ) -> Result<Vec<(PageKey, FindingRow)>> {
        let (sql, args) = keyed_sql(run_id, f, dir, key, limit);
        let mut st = self.conn.prepare_cached(&sql).ctx("paging findings")?;
        let rows = st.query_map(params_from_iter(args), keyed_row).ctx("paging findings")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("paging findings")
    }

    /// The checks with findings in a run, each found by one seek of the index (a skip scan)
    /// rather than a scan of every finding.
    fn run_checks(&self, run_id: i64) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached(
                "WITH RECURSIVE c(id) AS (
                    SELECT min(check_id) FROM findings WHERE run_id = ?1
                    UNION ALL
                    SELECT (SELECT min(check_id) FROM findings WHERE run_id = ?1 AND check_id > c.id) FROM c
                    WHERE c.id IS NOT NULL)
                 SELECT id FROM c WHERE id IS NOT NULL",
            )
            .ctx("listing a run's checks")?;
        let rows = st.query_map([run_id], |r| r.get(0)).ctx("listing a run's checks")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("listing a run's checks")
    }
}

#[cfg(test)]
mod tests;
