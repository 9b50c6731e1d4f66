//! Keyset pages of findings: a window continues from the sort key of the row it ends on
//! instead of an OFFSET, so a window deep in a large control costs what the window costs,
//! not a sort of the whole control.
//!
//! In the check order (the console's) the checks are walked one at a time in id order, each
//! through the `findings_window` index (run, check, name, rid, state): every query is a range
//! scan that stops after `limit` rows. Checks are stored as integers, so their order is taken
//! from their names here rather than from the index.

use super::query::{FindingFilter, FindingOrder, FindingRow};
use super::rows::{DetailCache, FINDING_COL_COUNT, FINDING_COLS, FINDING_FROM, RawFinding, finding_row};
use super::{Ctx, Result, Store};
use rusqlite::{OptionalExtension, Row, params_from_iter, types::Value as SqlValue};
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

fn keyed_row(r: &Row) -> rusqlite::Result<(PageKey, RawFinding)> {
    let raw = finding_row(r)?;
    let key = PageKey {
        check: raw.row.check.clone(),
        name: raw.row.resource.name.clone(),
        scope: raw.row.resource.scope.clone(),
        rid: r.get(FINDING_COL_COUNT)?,
        state: r.get(1)?,
        seq: r.get(FINDING_COL_COUNT + 1)?,
    };
    Ok((key, raw))
}

/// The sort columns of an order after the check (the check order walks checks one by one).
fn sort_cols(order: FindingOrder) -> &'static [&'static str] {
    match order {
        // The index's own order (state before the row), so no sort is needed.
        FindingOrder::Check => &["f.name", "f.rid", "f.state", "f.rowid"],
        FindingOrder::Resource => &["f.name", "f.rid", "c.name", "f.rowid"],
        FindingOrder::Scope => &["r.scope", "c.name", "f.name", "f.rid", "f.rowid"],
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

/// Where a query starts: after or before a key, or a number of rows in.
#[derive(Debug, Clone, Copy)]
enum Start<'a> {
    Key(Option<&'a PageKey>),
    Offset(u64),
}

/// Which rows of a filter a query reads.
#[derive(Debug, Clone, Copy)]
struct Slice<'a> {
    /// One stored check instead of the filter's checks.
    check: Option<i64>,
    dir: Dir,
    from: Start<'a>,
    limit: u64,
}

/// The query of [`Store::keyed_query`].
fn keyed_sql(run_id: i64, f: &FindingFilter, q: Slice) -> (String, Vec<SqlValue>) {
    let Slice { check, dir, from, limit } = q;
    let (wh, mut args) = Store::finding_where(run_id, f, check);
    let (cmp, asc) = dir.sql();
    let cols = sort_cols(f.order);
    let mut sql = format!("SELECT {FINDING_COLS}{KEY_COLS}{FINDING_FROM}{wh}");
    if let Start::Key(Some(k)) = from {
        let marks = vec!["?"; cols.len()].join(", ");
        sql.push_str(&format!(" AND ({}) {cmp} ({marks})", cols.join(", ")));
        args.extend(key_values(f.order, k));
    }
    let order: Vec<String> = cols.iter().map(|c| format!("{c} {asc}")).collect();
    sql.push_str(&format!(" ORDER BY {} LIMIT ? OFFSET ?", order.join(", ")));
    args.push((limit.min(i64::MAX as u64) as i64).into());
    let offset = if let Start::Offset(n) = from { n } else { 0 };
    args.push((offset.min(i64::MAX as u64) as i64).into());
    (sql, args)
}

impl Store {
    /// One page of findings by key: the rows after or before a key, or at either end, in the
    /// order of [`Store::findings`] (whose pages at the same positions are the same rows).
    pub fn findings_page(&self, run_id: i64, f: &FindingFilter, at: &PageAt, limit: u64) -> Result<FindingPage> {
        let run_id = self.data_run(run_id)?;
        let dir = match at {
            PageAt::First | PageAt::After(_) => Dir::Forward,
            PageAt::Before(_) | PageAt::Last => Dir::Backward,
        };
        let key = match at {
            PageAt::After(k) | PageAt::Before(k) => Some(k),
            PageAt::First | PageAt::Last => None,
        };
        let mut out: Vec<(PageKey, RawFinding)> = Vec::new();
        match f.order {
            FindingOrder::Check => {
                let mut checks = self.ordered_checks(run_id, f)?;
                if dir == Dir::Backward {
                    checks.reverse();
                }
                for (name, id) in checks {
                    let remaining = limit.saturating_sub(out.len() as u64);
                    if remaining == 0 {
                        break;
                    }
                    // Checks before the key's are behind us; the key's own continues after it.
                    let from = match key.map(|k| (name.cmp(&k.check), k)) {
                        Some((Ordering::Equal, k)) => Some(k),
                        Some((Ordering::Less, _)) if dir == Dir::Forward => continue,
                        Some((Ordering::Greater, _)) if dir == Dir::Backward => continue,
                        _ => None,
                    };
                    out.extend(self.keyed_query(
                        run_id,
                        f,
                        Slice { check: Some(id), dir, from: Start::Key(from), limit: remaining },
                    )?);
                }
            }
            FindingOrder::Resource | FindingOrder::Scope => {
                out = self.keyed_query(run_id, f, Slice { check: None, dir, from: Start::Key(key), limit })?
            }
        }
        if dir == Dir::Backward {
            out.reverse();
        }
        let (keys, raw): (Vec<_>, Vec<_>) = out.into_iter().unzip();
        Ok(FindingPage { rows: self.complete_all(raw)?, keys })
    }

    /// `limit` rows from `offset` on (of a resolved data run), in the order of the pages: in the check order, whole
    /// checks are skipped by their count (from the index alone) before any row is read.
    pub(super) fn findings_at(
        &self,
        run_id: i64,
        f: &FindingFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<FindingRow>> {
        let mut out = Vec::new();
        match f.order {
            FindingOrder::Check => {
                let mut skip = offset;
                for (name, id) in self.ordered_checks(run_id, f)? {
                    let remaining = limit.saturating_sub(out.len() as u64);
                    if remaining == 0 {
                        break;
                    }
                    if skip > 0 {
                        let n = self.count_where(run_id, f, Some(id))?;
                        if n <= skip {
                            skip -= n;
                            continue;
                        }
                    }
                    // The row before the window, found on the index alone; the window is then
                    // a range from its key (an OFFSET would join every row it skips).
                    let before = match skip {
                        0 => None,
                        n => self.key_at(run_id, f, (&name, id), n - 1)?,
                    };
                    let rows = self.keyed_query(
                        run_id,
                        f,
                        Slice {
                            check: Some(id),
                            dir: Dir::Forward,
                            from: Start::Key(before.as_ref()),
                            limit: remaining,
                        },
                    )?;
                    out.extend(rows.into_iter().map(|(_, r)| r));
                    skip = 0;
                }
            }
            FindingOrder::Resource | FindingOrder::Scope => {
                let rows = self.keyed_query(
                    run_id,
                    f,
                    Slice { check: None, dir: Dir::Forward, from: Start::Offset(offset), limit },
                )?;
                out.extend(rows.into_iter().map(|(_, r)| r));
            }
        }
        self.complete_all(out)
    }

    /// Every row of `f` in an order that is not the check order, from one query (of a
    /// resolved data run).
    pub(super) fn stream_sorted(
        &self,
        run_id: i64,
        f: &FindingFilter,
        each: &mut dyn FnMut(FindingRow) -> bool,
    ) -> Result<()> {
        let (sql, args) =
            keyed_sql(run_id, f, Slice { check: None, dir: Dir::Forward, from: Start::Offset(0), limit: u64::MAX });
        let mut st = self.conn.prepare(&sql).ctx("listing findings")?;
        let mut rows = st.query(params_from_iter(args)).ctx("listing findings")?;
        let mut cache = DetailCache::default();
        while let Some(row) = rows.next().ctx("listing findings")? {
            let (_, raw) = keyed_row(row).ctx("listing findings")?;
            if !each(self.complete(&mut cache, raw)?) {
                break;
            }
        }
        Ok(())
    }

    /// The key of the row `offset` rows into one check's rows of `f` (check order), read from
    /// the `findings_window` index without the joins of a window (with `resources` only when the
    /// filter reads it).
    fn key_at(&self, run_id: i64, f: &FindingFilter, check: (&str, i64), offset: u64) -> Result<Option<PageKey>> {
        let (wh, mut args) = Store::finding_where(run_id, f, Some(check.1));
        let (from, order) = (f.index_from(), sort_cols(FindingOrder::Check).join(", "));
        let sql = format!("SELECT f.name, f.rid, f.state, f.rowid{from}{wh} ORDER BY {order} LIMIT 1 OFFSET ?");
        args.push((offset.min(i64::MAX as u64) as i64).into());
        let mut st = self.conn.prepare_cached(&sql).ctx("paging findings")?;
        let key = st
            .query_row(params_from_iter(args), |r| {
                Ok(PageKey {
                    check: check.0.to_string(),
                    name: r.get(0)?,
                    scope: String::new(), // not part of the check order's key
                    rid: r.get(1)?,
                    state: r.get(2)?,
                    seq: r.get(3)?,
                })
            })
            .optional()
            .ctx("paging findings")?;
        Ok(key)
    }

    /// The rows of `f` that `q` says.
    fn keyed_query(&self, run_id: i64, f: &FindingFilter, q: Slice) -> Result<Vec<(PageKey, RawFinding)>> {
        let (sql, args) = keyed_sql(run_id, f, q);
        let mut st = self.conn.prepare_cached(&sql).ctx("paging findings")?;
        let rows = st.query_map(params_from_iter(args), keyed_row).ctx("paging findings")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("paging findings")
    }

    /// The filter's checks (all of the run's when it names none) that have a stored id, by
    /// name.
    fn ordered_checks(&self, run_id: i64, f: &FindingFilter) -> Result<Vec<(String, i64)>> {
        let mut checks = match &f.checks {
            Some(names) => super::codes::check_ids(&self.conn, names)?,
            None => self.run_checks(run_id)?,
        };
        checks.sort();
        checks.dedup();
        Ok(checks)
    }

    /// The checks with findings in a run, each found by one seek of the index (a skip scan)
    /// rather than a scan of every finding.
    fn run_checks(&self, run_id: i64) -> Result<Vec<(String, i64)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "WITH RECURSIVE c(id) AS (
                    SELECT min(check_id) FROM findings WHERE run_id = ?1
                    UNION ALL
                    SELECT (SELECT min(check_id) FROM findings WHERE run_id = ?1 AND check_id > c.id) FROM c
                    WHERE c.id IS NOT NULL)
                 SELECT k.name, k.id FROM c JOIN check_ids k ON k.id = c.id",
            )
            .ctx("listing a run's checks")?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?))).ctx("listing a run's checks")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx("listing a run's checks")
    }
}

#[cfg(test)]
mod tests;
