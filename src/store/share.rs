//! Runs that share rows: a run whose resources, documents and findings are exactly those of an
//! earlier run keeps none of its own and reads that run's (`runs.data_run`), so an unchanged
//! re-run costs its summaries, not a copy of the estate.
//!
//! While a run is written, each row adds its hash to an order-independent digest (batches may
//! arrive in any order and be cut anywhere). At publication the latest run holding its own rows
//! with the same digest is compared row for row in SQL (by resource id, not by rid) before the
//! new run's rows are deleted: the digest only picks the candidate, the comparison decides.

use super::{Ctx, Result, Store};
use rusqlite::{OptionalExtension, Transaction};
use sha2::{Digest as _, Sha256};

/// The order-independent digest of the rows a run wrote: the wrapping sum of one 128-bit
/// hash per row, and how many rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Digest {
    sum: u128,
    rows: u64,
}

/// What a hashed row is (so a resource row never hashes as a finding).
#[derive(Debug, Clone, Copy)]
pub(super) enum RowKind {
    Resource = 1,
    Doc = 2,
    Finding = 3,
}

/// The hash of one row from its fields, each length-prefixed (so fields cannot run together).
pub(super) fn row_hash(kind: RowKind, fields: &[&[u8]]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update([kind as u8]);
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f);
    }
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

impl Digest {
    /// Count a row.
    pub(super) fn add(&mut self, row: [u8; 16]) {
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(row));
        self.rows += 1;
    }

    /// As stored in `runs.data_digest`.
    fn bytes(&self) -> Vec<u8> {
        let mut b = self.sum.to_le_bytes().to_vec();
        b.extend_from_slice(&self.rows.to_le_bytes());
        b
    }
}

/// A table's rows as compared: the columns that matter (the resource's instead of its rid),
/// where they come from, and the column holding the run.
struct Compared {
    table: &'static str,
    cols: &'static str,
    from: &'static str,
    run: &'static str,
}

/// A LEFT JOIN keeps a row whose resource is missing (as NULLs), so that none is dropped.
const COMPARED: [Compared; 3] = [
    Compared {
        table: "resources",
        cols: "r.id, r.name, r.type, r.cloud, r.scope, r.region",
        from: "resources r",
        run: "r.run_id",
    },
    Compared {
        table: "docs",
        cols: "r.id, r.name, r.type, r.cloud, r.scope, r.region, d.blob",
        from: "docs d LEFT JOIN resources r ON r.run_id = d.run_id AND r.rid = d.rid",
        run: "d.run_id",
    },
    Compared {
        table: "findings",
        cols: "r.id, r.name, r.type, r.cloud, r.scope, r.region, f.check_id, f.state, f.name, f.detail, f.origin",
        from: "findings f LEFT JOIN resources r ON r.run_id = f.run_id AND r.rid = f.rid",
        run: "f.run_id",
    },
];

impl Compared {
    /// The rows of run `?n`, each distinct row once with how many times it occurs.
    fn grouped(&self, n: u8) -> String {
        let Compared { cols, from, run, .. } = self;
        format!("SELECT {cols}, count(*) FROM {from} WHERE {run} = ?{n} GROUP BY {cols}")
    }
}

/// Whether runs `a` and `b` hold exactly the same rows. Equal row counts and every group of
/// `a` (a row and how many times it occurs) found in `b` mean equal multisets: `b` has no room
/// left for a row `a` lacks.
fn identical(tx: &Transaction, a: i64, b: i64) -> Result<bool> {
    let ctx = "comparing a run with an earlier one";
    for c in &COMPARED {
        let t = c.table;
        let same_count: bool = tx
            .query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM {t} WHERE run_id = ?1) = (SELECT count(*) FROM {t} WHERE run_id = ?2)"
                ),
                [a, b],
                |r| r.get(0),
            )
            .ctx(ctx)?;
        if !same_count {
            return Ok(false);
        }
        let sql = format!("SELECT EXISTS ({} EXCEPT {})", c.grouped(1), c.grouped(2));
        if tx.query_row(&sql, [a, b], |r| r.get::<_, bool>(0)).ctx(ctx)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Within the transaction that publishes `run`: record its digest and, when an earlier run
/// holds exactly its rows, point it at that run and delete its own. Returns the run shared.
pub(super) fn share_rows(tx: &Transaction, run: i64, digest: &Digest) -> Result<Option<i64>> {
    let ctx = "sharing a run's rows";
    let bytes = digest.bytes();
    tx.execute("UPDATE runs SET data_digest = ?2 WHERE id = ?1", rusqlite::params![run, bytes]).ctx(ctx)?;
    if digest.rows == 0 {
        return Ok(None);
    }
    // Only a run holding its own rows is a candidate, so a run never reads through two others.
    let candidate: Option<i64> = tx
        .query_row(
            "SELECT id FROM runs WHERE data_digest = ?1 AND data_run IS NULL AND id <> ?2
             AND status IN ('complete', 'partial', 'retired') ORDER BY id DESC LIMIT 1",
            rusqlite::params![bytes, run],
            |r| r.get(0),
        )
        .optional()
        .ctx(ctx)?;
    let Some(candidate) = candidate else { return Ok(None) };
    if !identical(tx, run, candidate)? {
        return Ok(None);
    }
    tx.execute("UPDATE runs SET data_run = ?2 WHERE id = ?1", [run, candidate]).ctx(ctx)?;
    delete_rows(tx, run)?;
    Ok(Some(candidate))
}

/// Delete a run's resources, documents and findings.
pub(super) fn delete_rows(tx: &Transaction, run: i64) -> Result<()> {
    for table in ["findings", "docs", "resources"] {
        tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [run]).ctx("removing a run's rows")?;
    }
    Ok(())
}

/// Remove the retired runs no run reads any more (a retired run is one retention or removal
/// took that another run still shared). Sharers go first, so a run they shared follows in the
/// next round.
pub(super) fn sweep_retired(tx: &Transaction) -> Result<()> {
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
        let ctx = "copying a run's shared rows";
        let from = self.data_run(run)?;
        if from == run {
            return Ok(false);
        }
        let tx = self.conn.transaction().ctx(ctx)?;
        tx.execute(
            "INSERT INTO resources (run_id, rid, id, name, type, cloud, scope, region)
             SELECT ?1, rid, id, name, type, cloud, scope, region FROM resources WHERE run_id = ?2",
            [run, from],
        )
        .ctx(ctx)?;
        tx.execute(
            "INSERT INTO docs (run_id, rid, blob) SELECT ?1, rid, blob FROM docs WHERE run_id = ?2",
            [run, from],
        )
        .ctx(ctx)?;
        // In row order: the row is the last tie-breaker of every listing.
        tx.execute(
            "INSERT INTO findings (run_id, check_id, state, rid, name, detail, origin)
             SELECT ?1, check_id, state, rid, name, detail, origin FROM findings WHERE run_id = ?2 ORDER BY rowid",
            [run, from],
        )
        .ctx(ctx)?;
        tx.execute("UPDATE runs SET data_run = NULL WHERE id = ?1", [run]).ctx(ctx)?;
        sweep_retired(&tx)?;
        tx.commit().ctx(ctx)?;
        Ok(true)
    }

    /// Give freed pages back to the file system (caches created with incremental auto-vacuum;
    /// an older cache keeps them on its freelist, where the next run's rows reuse them).
    pub(super) fn reclaim(&self) -> Result<()> {
        let mode: i64 = self.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).ctx("reading auto_vacuum")?;
        if mode == 2 {
            // Each step frees one page: step until it is done.
            let mut st = self.conn.prepare("PRAGMA incremental_vacuum").ctx("reclaiming free pages")?;
            let mut rows = st.query([]).ctx("reclaiming free pages")?;
            while rows.next().ctx("reclaiming free pages")?.is_some() {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
