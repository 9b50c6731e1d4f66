//! Runs that share rows: a run whose resources, documents and findings are exactly those of an
//! earlier run keeps none of its own and reads that run's (`runs.data_run`), so an unchanged
//! re-run costs its summaries, not a copy of the estate.
//!
//! A new run follows the rows of the latest published run from its first batch: each batch is
//! compared, row for row, with the rows the followed run has at the same rids, and nothing is
//! written while they are equal. At the first difference the rows matched so far are copied
//! from the followed run and the run goes on writing its own. At publication a run still
//! following, with exactly as many rows as the followed run, shares it. Rids are positions in
//! the order the engine hands resources on (sources read in order, batches judged in order), so
//! equal estates give equal rids; a run in another order only stores its own rows.

use super::{Ctx, Result, Store};
use rusqlite::{Connection, OptionalExtension, params};

/// A resource row as written (its run aside).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ResourceRow<'a> {
    pub rid: i64,
    pub id: &'a str,
    pub name: &'a str,
    pub rtype: &'a str,
    pub cloud: &'a str,
    pub scope: &'a str,
    pub region: &'a str,
}

/// A finding row as written (its run aside).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct FindingRecord<'a> {
    pub check: i64,
    pub state: i64,
    pub rid: i64,
    pub name: &'a str,
    pub detail: i64,
    pub origin: i64,
}

/// One batch's rows, as the run would write them.
pub(super) struct BatchRows<'a> {
    /// In rid order, from the first rid of the batch.
    pub resources: Vec<ResourceRow<'a>>,
    /// (rid, blob), in rid order.
    pub docs: Vec<(i64, i64)>,
    /// In the order written.
    pub findings: Vec<FindingRecord<'a>>,
}

/// How many rows a run has so far.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub resources: i64,
    pub docs: i64,
    pub findings: i64,
}

impl Counts {
    pub(super) fn add(&mut self, rows: &BatchRows) {
        self.resources += rows.resources.len() as i64;
        self.docs += rows.docs.len() as i64;
        self.findings += rows.findings.len() as i64;
    }
}

/// The run whose rows a new run follows: those the latest published run reads. Recorded as the
/// new run's `data_run` at once, so retention keeps them while the run is written.
pub(super) fn follow(conn: &rusqlite::Connection, run: i64) -> Result<Option<i64>> {
    let ctx = "choosing the run to follow";
    let latest: Option<i64> = conn
        .query_row(
            "SELECT coalesce(data_run, id) FROM runs WHERE status IN ('complete', 'partial') AND id <> ?1
             ORDER BY id DESC LIMIT 1",
            [run],
            |r| r.get(0),
        )
        .optional()
        .ctx(ctx)?;
    if let Some(c) = latest {
        conn.execute("UPDATE runs SET data_run = ?2 WHERE id = ?1", [run, c]).ctx(ctx)?;
    }
    Ok(latest)
}

/// Whether run `c` has exactly `rows` at the rids of the batch.
pub(super) fn matches(tx: &Connection, c: i64, rows: &BatchRows) -> Result<bool> {
    let ctx = "comparing a batch with the run it follows";
    let (Some(first), Some(last)) = (rows.resources.first(), rows.resources.last()) else {
        // No resource: no row either (a finding needs its resource in the batch).
        return Ok(rows.docs.is_empty() && rows.findings.is_empty());
    };
    let range = params![c, first.rid, last.rid + 1];
    let mut st = tx
        .prepare_cached(
            "SELECT rid, id, name, type, cloud, scope, region FROM resources
             WHERE run_id = ?1 AND rid >= ?2 AND rid < ?3 ORDER BY rid",
        )
        .ctx(ctx)?;
    let mut theirs = st.query(range).ctx(ctx)?;
    for ours in &rows.resources {
        let Some(r) = theirs.next().ctx(ctx)? else { return Ok(false) };
        // A column that does not read as expected is a difference, like a different value.
        let text = |i| r.get_ref(i).ok().and_then(|v| v.as_str().ok());
        let same = r.get::<_, i64>(0).ok() == Some(ours.rid)
            && text(1) == Some(ours.id)
            && text(2) == Some(ours.name)
            && text(3) == Some(ours.rtype)
            && text(4) == Some(ours.cloud)
            && text(5) == Some(ours.scope)
            && text(6) == Some(ours.region);
        if !same {
            return Ok(false);
        }
    }
    if theirs.next().ctx(ctx)?.is_some() {
        return Ok(false);
    }
    let mut st = tx
        .prepare_cached("SELECT rid, blob FROM docs WHERE run_id = ?1 AND rid >= ?2 AND rid < ?3 ORDER BY rid")
        .ctx(ctx)?;
    let docs = st
        .query_map(range, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .ctx(ctx)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx(ctx)?;
    if docs != rows.docs {
        return Ok(false);
    }
    // Each resource's findings in the order they were written: the row breaks ties only
    // between findings of one resource in every listing. (rid, row) is the order of the
    // `findings_rid` index, so no sort.
    let mut st = tx
        .prepare_cached(
            "SELECT check_id, state, rid, name, detail, origin FROM findings
             WHERE run_id = ?1 AND rid >= ?2 AND rid < ?3 ORDER BY rid, rowid",
        )
        .ctx(ctx)?;
    let mut theirs = st.query(range).ctx(ctx)?;
    let mut ours_by_rid: Vec<&FindingRecord> = rows.findings.iter().collect();
    ours_by_rid.sort_by_key(|f| f.rid);
    for ours in ours_by_rid {
        let Some(r) = theirs.next().ctx(ctx)? else { return Ok(false) };
        let int = |i| r.get::<_, i64>(i).ok();
        let same = [int(0), int(1), int(2), int(4), int(5)]
            == [ours.check, ours.state, ours.rid, ours.detail, ours.origin].map(Some)
            && r.get_ref(3).ok().and_then(|v| v.as_str().ok()) == Some(ours.name);
        if !same {
            return Ok(false);
        }
    }
    Ok(theirs.next().ctx(ctx)?.is_none())
}

/// Stop following `c`: copy its rows below rid `to` (those matched so far) into `run`; `c`
/// goes if it was retired and nothing else reads it.
pub(super) fn materialize(tx: &Connection, run: i64, c: i64, to: i64) -> Result<()> {
    let ctx = "copying the rows a run shared";
    tx.execute(
        "INSERT INTO resource_rows (run_id, rid, head, tail, name, place, idh)
         SELECT ?1, rid, head, tail, name, place, idh FROM resource_rows WHERE run_id = ?2 AND rid < ?3",
        params![run, c, to],
    )
    .ctx(ctx)?;
    tx.execute(
        "INSERT INTO docs (run_id, rid, blob) SELECT ?1, rid, blob FROM docs WHERE run_id = ?2 AND rid < ?3",
        params![run, c, to],
    )
    .ctx(ctx)?;
    // In row order: the row is the last tie-breaker of every listing.
    tx.execute(
        "INSERT INTO findings (run_id, check_id, state, rid, name, detail, origin)
         SELECT ?1, check_id, state, rid, name, detail, origin FROM findings WHERE run_id = ?2 AND rid < ?3 ORDER BY rowid",
        params![run, c, to],
    )
    .ctx(ctx)?;
    tx.execute("UPDATE runs SET data_run = NULL WHERE id = ?1", [run]).ctx(ctx)?;
    // Retention may have retired `c` while this run followed it; nothing may read it now.
    sweep_retired(tx)
}

/// Whether run `c` has no row beyond those a run following it matched (`counts`).
pub(super) fn nothing_more(tx: &Connection, c: i64, counts: Counts) -> Result<bool> {
    let n = |table: &str| -> Result<i64> {
        tx.query_row(&format!("SELECT count(*) FROM {table} WHERE run_id = ?1"), [c], |r| r.get(0))
            .ctx("counting the rows a run shares")
    };
    Ok(n("resource_rows")? == counts.resources && n("docs")? == counts.docs && n("findings")? == counts.findings)
}

/// Delete a run's resources, documents and findings.
pub(super) fn delete_rows(tx: &Connection, run: i64) -> Result<()> {
    for table in ["findings", "docs", "resource_rows"] {
        tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [run]).ctx("removing a run's rows")?;
    }
    Ok(())
}

/// Remove the retired runs no run reads any more (a retired run is one retention or removal
/// took that another run still shared). Sharers go first, so a run they shared follows in the
/// next round.
pub(super) fn sweep_retired(tx: &Connection) -> Result<()> {
    let ctx = "removing retired runs";
    loop {
        let gone: Vec<i64> = {
            let mut st = tx
                .prepare(
                    "SELECT id FROM runs r WHERE status = 'retired'
                     AND NOT EXISTS (SELECT 1 FROM runs s WHERE s.data_run = r.id)",
                )
                .ctx(ctx)?;
            st.query_map([], |r| r.get(0)).ctx(ctx)?.collect::<rusqlite::Result<_>>().ctx(ctx)?
        };
        if gone.is_empty() {
            return Ok(());
        }
        for run in gone {
            delete_rows(tx, run)?;
            tx.execute("DELETE FROM runs WHERE id = ?1", [run]).ctx(ctx)?;
        }
    }
}

impl Store {
    /// The run whose resources, documents and findings run `run` reads: itself unless it shares
    /// an earlier run's. Every query of those tables goes through this.
    pub(super) fn data_run(&self, run: i64) -> Result<i64> {
        let shared: Option<i64> = self
            .conn
            .prepare_cached("SELECT coalesce(data_run, id) FROM runs WHERE id = ?1")
            .and_then(|mut st| st.query_row([run], |r| r.get(0)).optional())
            .ctx("resolving a run's rows")?;
        Ok(shared.unwrap_or(run))
    }

    /// Give run `run` its own copy of the rows it shares (tests that edit one run's rows, and
    /// repairs); a run with its own rows is left as it is. Returns whether rows were copied.
    pub fn unshare_run(&mut self, run: i64) -> Result<bool> {
        let from = self.data_run(run)?;
        if from == run {
            return Ok(false);
        }
        let tx = self.transaction(rusqlite::TransactionBehavior::Deferred, "copying a run's shared rows")?;
        materialize(&tx, run, from, i64::MAX)?;
        tx.commit().ctx("copying a run's shared rows")?;
        Ok(true)
    }

    /// Give freed pages back to the file system (caches created with incremental auto-vacuum;
    /// an older cache keeps them on its freelist, where the next run's rows reuse them).
    pub(super) fn reclaim(&self) -> Result<()> {
        let ctx = "reclaiming free pages";
        let mode: i64 = self.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).ctx(ctx)?;
        if mode == 2 {
            // Each step frees one page: step until it is done.
            let mut st = self.conn.prepare("PRAGMA incremental_vacuum").ctx(ctx)?;
            let mut rows = st.query([]).ctx(ctx)?;
            while rows.next().ctx(ctx)?.is_some() {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
