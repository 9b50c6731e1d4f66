//! Writing a run: batches as the engine produces them, then one transaction that publishes it.
//! Until that commit the run is `running` and invisible, so a kill at any moment leaves the
//! previous complete run as the latest.

use super::blobs::{BlobKind, BlobWriter};
use super::codes::{self, origin_code, state_code};
use super::rows::DetailRef;
use super::share::{self, BatchRows, Counts, FindingRecord, ResourceRow};
use super::{Ctx, Result, Store, StoreError};
use crate::assess::{BatchOutput, Rollup, RunResult, RunStatus};
use chrono::{DateTime, Utc};
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use rusqlite::{TransactionBehavior, params};

mod group;
pub(super) use group::OpenBatches;

/// An unpublished run being written.
#[derive(Debug)]
pub struct RunWriter {
    /// The run's id.
    pub run_id: i64,
    next_rid: i64,
    blobs: BlobWriter,
    /// Check name → stored id.
    checks: HashMap<String, i64>,
    /// Type, cloud, scope and region → stored place id.
    places: HashMap<String, i64>,
    /// An id's head → its stored id (codes::split_id).
    heads: HashMap<String, i64>,
    /// The run whose rows this one has matched so far, none of them written (share.rs).
    follows: Option<i64>,
    /// Rows so far, written or matched.
    counts: Counts,
    /// Serializes, hashes and compresses a batch's blobs, so the writer's thread does the SQL.
    pool: rayon::ThreadPool,
}

/// SQLite's page cache while a run is written, in KiB (its default is 2 MB): the indexes a
/// batch inserts into (resources by id, findings by window, blobs by hash) take random keys,
/// and a page that falls out of the cache is read back from the file for the next row.
const WRITE_CACHE_KIB: i64 = 64 * 1024;

/// SQLite's page cache otherwise, in KiB (its default).
const READ_CACHE_KIB: i64 = 2000;

/// WAL bytes between automatic checkpoints while a run is written (64 MiB). At SQLite's
/// default (4 MB) a batch's commit kept copying back index pages the next batches change again
/// (14 % of the writer's samples, perf, 100k); with none the WAL of a 1M run reached 4.9 GB
/// (each commit appends every page it changed) for a 528 MB cache.
const WRITE_CHECKPOINT_BYTES: i64 = 64 * 1024 * 1024;

/// WAL pages between automatic checkpoints otherwise (SQLite's default).
const CHECKPOINT_PAGES: i64 = 1000;

/// The findings of a batch's resources (with rid and name), their details and resource types.
type Kept<'a> = ((Vec<(&'a crate::model::Finding, (i64, &'a str))>, Vec<Vec<u8>>), Vec<&'a str>);

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn pid_alive(pid: i64) -> bool {
    if pid == std::process::id() as i64 {
        return true;
    }
    if cfg!(target_os = "linux") { std::path::Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

impl Store {
    /// Start a run; it stays invisible until [`Store::finish_run`].
    pub fn begin_run(
        &mut self,
        sources: &[String],
        standards: &[String],
        demo: bool,
        started_at: DateTime<Utc>,
    ) -> Result<RunWriter> {
        self.cleanup_stale_runs()?;
        // One transaction: the run followed cannot be removed between choosing and recording it.
        let tx = self.transaction(TransactionBehavior::Immediate, "starting a run")?;
        tx.execute(
            "INSERT INTO runs (started_at, status, pid, sources, standards, demo) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
            params![started_at.to_rfc3339(), std::process::id() as i64, json(&sources), json(&standards), demo],
        )
        .ctx("starting a run")?;
        let run_id = tx.last_insert_rowid();
        let follows = share::follow(&tx, run_id)?;
        tx.commit().ctx("starting a run")?;
        self.write_settings(true).ctx("starting a run")?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Its own pool: the engine's keeps its workers busy judging the next batch, and a
        // batch's blobs must not wait behind that.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("posture-blobs-{i}"))
            .build()
            .map_err(|e| StoreError::Open { path: self.path.clone(), source: Box::new(e) })?;
        Ok(RunWriter {
            run_id,
            next_rid: 0,
            blobs: BlobWriter::for_run(threads),
            pool,
            checks: HashMap::new(),
            places: HashMap::new(),
            heads: HashMap::new(),
            follows,
            counts: Counts::default(),
        })
    }

    /// Append one batch of resources and findings to an unpublished run (nothing is written
    /// while the batch equals the rows of the run it follows). Batches are committed [`group::GROUP`]
    /// at a time, and the rest at publication; after an error the run's uncommitted batches are
    /// gone and the run is to be abandoned.
    pub fn write_batch(&mut self, w: &mut RunWriter, batch: &BatchOutput) -> Result<()> {
        self.open_batch(w.run_id)?;
        match self.write_batch_rows(w, batch) {
            Ok(()) => self.batch_written(w.run_id),
            Err(e) => {
                self.end_batches_of(w.run_id, false)?;
                Err(e)
            }
        }
    }

    /// [`Store::write_batch`] inside its transaction, the references known to hold.
    fn write_batch_rows(&mut self, w: &mut RunWriter, batch: &BatchOutput) -> Result<()> {
        let tx = &self.conn;
        let start = w.next_rid;
        let rows = Store::batch_rows(tx, w, batch)?;
        w.counts.add(&rows);
        if let Some(c) = w.follows {
            if share::matches(tx, c, &rows)? {
                return Ok(());
            }
            share::materialize(tx, w.run_id, c, start)?;
            w.follows = None;
        }
        let mut ins_res = tx
            .prepare_cached(
                "INSERT INTO resource_rows (run_id, rid, head, tail, name, place, idh) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .ctx("writing resources")?;
        for r in &rows.resources {
            let place = codes::place_id(tx, &mut w.places, [r.rtype, r.cloud, r.scope, r.region])?;
            let (head, tail) = codes::split_id(r.id, r.name);
            let head = codes::head_id(tx, &mut w.heads, head)?;
            ins_res
                .execute(params![w.run_id, r.rid, head, tail, r.name, place, codes::id_key(r.id)])
                .ctx("writing resources")?;
        }
        let mut ins_doc =
            tx.prepare_cached("INSERT INTO docs (run_id, rid, blob) VALUES (?1, ?2, ?3)").ctx("writing documents")?;
        for (rid, blob) in &rows.docs {
            ins_doc.execute(params![w.run_id, rid, blob]).ctx("writing documents")?;
        }
        let mut ins_f = tx
            .prepare_cached("INSERT INTO findings (run_id, check_id, state, rid, name, detail, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .ctx("writing findings")?;
        for f in &rows.findings {
            ins_f
                .execute(params![w.run_id, f.check, f.state, f.rid, f.name, f.detail, f.origin])
                .ctx("writing findings")?;
        }
        drop((ins_res, ins_doc, ins_f));
        Ok(())
    }

    /// The rows of a batch: rids given in order, documents and details stored as blobs (by
    /// content, so equal blobs are equal ids), checks as their ids.
    fn batch_rows<'a>(tx: &rusqlite::Connection, w: &mut RunWriter, batch: &'a BatchOutput) -> Result<BatchRows<'a>> {
        let mut rids = HashMap::with_capacity(batch.resources.len());
        let mut resources = Vec::with_capacity(batch.resources.len());
        for r in &batch.resources {
            let rid = w.next_rid;
            w.next_rid += 1;
            rids.insert(r.id.as_str(), (rid, r.name.as_str()));
            resources.push(ResourceRow {
                rid,
                id: &r.id,
                name: &r.name,
                rtype: &r.rtype,
                cloud: r.cloud.as_str(),
                scope: &r.scope,
                region: &r.region,
            });
        }
        // Documents come serialized (by the evaluation); details are serialized on the pool.
        let (doc_rids, doc_bytes): (Vec<i64>, Vec<&[u8]>) =
            batch.docs.iter().filter_map(|(id, doc)| Some((rids.get(id.as_str())?.0, doc.as_slice()))).unzip();
        let details: Vec<Vec<u8>> = w.pool.install(|| {
            batch
                .findings
                .par_iter()
                .map(|f| DetailRef { evidence: &f.evidence, message: f.message.as_deref() }.bytes())
                .collect()
        });
        // Each document and detail is compressed with its resource type's dictionary.
        let types: HashMap<i64, &str> = resources.iter().map(|r| (r.rid, r.rtype)).collect();
        let doc_types: Vec<&str> = doc_rids.iter().map(|rid| types.get(rid).copied().unwrap_or_default()).collect();
        w.blobs.packers.prepare_labeled(tx, BlobKind::Doc, &doc_bytes, &doc_types, &w.pool)?;
        let doc_blobs = w.blobs.put_all(tx, BlobKind::Doc, &doc_bytes, &doc_types, &w.pool)?;
        let mut doc_rows: Vec<(i64, i64)> = doc_rids.into_iter().zip(doc_blobs).collect();
        doc_rows.sort_unstable();
        let detail_types: Vec<&str> = batch.findings.iter().map(|f| f.resource.rtype.as_str()).collect();
        let samples: Vec<&[u8]> = details.iter().map(|d| d.as_slice()).collect();
        w.blobs.packers.prepare_labeled(tx, BlobKind::Detail, &samples, &detail_types, &w.pool)?;
        // Only the findings of the batch's resources are stored (and their details).
        let ((kept, kept_details), kept_types): Kept = batch
            .findings
            .iter()
            .zip(details)
            .zip(detail_types)
            .filter_map(|((f, d), t)| Some((((f, *rids.get(f.resource.id.as_str())?), d), t)))
            .unzip();
        let detail_blobs = w.blobs.put_all(tx, BlobKind::Detail, &kept_details, &kept_types, &w.pool)?;
        let mut findings = Vec::with_capacity(kept.len());
        for ((f, (rid, name)), detail) in kept.into_iter().zip(detail_blobs) {
            findings.push(FindingRecord {
                check: codes::check_id(tx, &mut w.checks, &f.check)?,
                state: state_code(f.state),
                rid,
                name,
                detail,
                origin: origin_code(f.origin),
            });
        }
        Ok(BatchRows { resources, docs: doc_rows, findings })
    }

    /// Publish a run with its stats, summaries and scores, atomically; a cancelled or failed
    /// run is removed.
    pub fn finish_run(&mut self, w: RunWriter, result: &RunResult, rollup: &Rollup) -> Result<i64> {
        let keep = !matches!(result.status, RunStatus::Cancelled | RunStatus::Failed);
        let published = self.end_batches_of(w.run_id, keep).and_then(|()| self.publish_run(w, result, rollup));
        self.write_settings(false).ctx("publishing a run")?;
        published
    }

    /// [`WRITE_CHECKPOINT_BYTES`] in pages of this cache (8 KiB in a cache this version
    /// made, 4 KiB in an older one: SQLite fixes a file's page size when it is created).
    fn write_checkpoint_pages(&self) -> rusqlite::Result<i64> {
        let page: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(WRITE_CHECKPOINT_BYTES / page.max(512))
    }

    /// The page cache and checkpoints of writing a run (`writing`), or of everything else.
    /// Back from a write, the cache shrinks (a worker keeps its store open for long) and the
    /// WAL the run grew is copied into the database and emptied now.
    fn write_settings(&self, writing: bool) -> rusqlite::Result<()> {
        let (cache, pages) = if writing {
            (WRITE_CACHE_KIB, self.write_checkpoint_pages()?)
        } else {
            (READ_CACHE_KIB, CHECKPOINT_PAGES)
        };
        self.conn.pragma_update(None, "cache_size", -cache)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        if !writing {
            // TRUNCATE waits for readers of older snapshots (the console may be reading): with
            // no wait it copies what it can, and the WAL is cut to `journal_size_limit` when
            // next reset (mod.rs).
            self.conn.busy_timeout(std::time::Duration::ZERO)?;
            let done = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            self.conn.busy_timeout(super::BUSY_TIMEOUT)?;
            done?;
        }
        Ok(())
    }

    /// [`Store::finish_run`] with the write's page cache.
    fn publish_run(&mut self, w: RunWriter, result: &RunResult, rollup: &Rollup) -> Result<i64> {
        if matches!(result.status, RunStatus::Cancelled | RunStatus::Failed) {
            self.abandon_run(w.run_id)?;
            return Ok(w.run_id);
        }
        let tx = self.transaction(TransactionBehavior::Immediate, "publishing a run")?;
        {
            let mut st = tx
                .prepare("INSERT INTO check_stats (run_id, check_id, scope, healthy, unhealthy, not_applicable, error, exempt, manual) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .ctx("writing check stats")?;
            for ((check, scope), s) in &result.stats {
                st.execute(params![
                    w.run_id,
                    check,
                    scope,
                    s.healthy,
                    s.unhealthy,
                    s.not_applicable,
                    s.error,
                    s.exempt,
                    s.manual
                ])
                .ctx("writing check stats")?;
            }
            let mut rs = tx.prepare("INSERT INTO run_scopes VALUES (?1, ?2, ?3)").ctx("writing scopes")?;
            for (cloud, scope) in &result.scopes {
                rs.execute(params![w.run_id, cloud.as_str(), scope]).ctx("writing scopes")?;
            }
            let mut sc =
                tx.prepare("INSERT INTO security_stats VALUES (?1, ?2, ?3, ?4)").ctx("writing security stats")?;
            for (id, s) in &result.security {
                sc.execute(params![w.run_id, id, s.healthy, s.unhealthy]).ctx("writing security stats")?;
            }
            let mut ss = tx
                .prepare("INSERT INTO standard_summaries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
                .ctx("writing standard summaries")?;
            let mut cs = tx
                .prepare(
                    "INSERT INTO control_summaries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .ctx("writing control summaries")?;
            for s in &rollup.standards {
                ss.execute(params![
                    w.run_id,
                    s.id,
                    s.name,
                    s.version,
                    s.state.as_str(),
                    s.passed_controls,
                    s.failed_controls,
                    s.skipped_controls,
                    s.manual_controls,
                    s.unsupported_controls,
                    s.compliance_pct
                ])
                .ctx("writing standard summaries")?;
                for (ord, c) in s.controls.iter().enumerate() {
                    cs.execute(params![
                        w.run_id,
                        s.id,
                        ord as i64,
                        c.id,
                        c.section,
                        c.title,
                        c.state.as_str(),
                        json(&c.checks),
                        c.healthy_resources,
                        c.unhealthy_resources,
                        c.error_resources,
                        c.exempt_resources,
                        c.attestation.as_ref().map(|a| a.to_string())
                    ])
                    .ctx("writing control summaries")?;
                }
            }
        }
        if !result.external.is_empty() {
            tx.execute(
                "INSERT INTO external (run_id, payload) VALUES (?1, ?2)",
                params![w.run_id, json(&result.external)],
            )
            .ctx("writing what the run imported")?;
        }
        tx.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3, sources = ?4, clouds = ?5, resources_seen = ?6,
                resources_assessed = ?7, compliance_achieved = ?8, compliance_possible = ?9, compliance_pct = ?10,
                secure_current = ?11, secure_max = ?12, secure_pct = ?13 WHERE id = ?1",
            params![
                w.run_id,
                result.finished_at.to_rfc3339(),
                result.status.as_str(),
                json(&result.sources),
                json(&result.clouds),
                result.resources_seen,
                result.resources_assessed,
                rollup.compliance.achieved,
                rollup.compliance.possible,
                rollup.compliance.percentage,
                rollup.secure.current,
                rollup.secure.max,
                rollup.secure.percentage
            ],
        )
        .ctx("publishing a run")?;
        // Still following: it shares those rows if they are all there are, else it copies them.
        if let Some(c) = w.follows
            && !share::nothing_more(&tx, c, w.counts)?
        {
            share::materialize(&tx, w.run_id, c, w.next_rid)?;
        }
        tx.commit().ctx("publishing a run")?;
        Ok(w.run_id)
    }

    /// Remove an unpublished run and everything written for it.
    pub fn abandon_run(&mut self, run_id: i64) -> Result<()> {
        self.end_batches_of(run_id, false)?;
        let removed = self.remove_runs(&[run_id]);
        self.write_settings(false).ctx("removing a run")?;
        removed
    }

    /// Remove runs, then the blobs no run refers to any more. A run another run still shares
    /// is retired instead: its rows stay (under status `retired`, never listed) until no run
    /// reads them.
    fn remove_runs(&mut self, runs: &[i64]) -> Result<()> {
        let tx = self.transaction(TransactionBehavior::Deferred, "removing a run")?;
        for run_id in runs {
            Store::retire_run(&tx, *run_id)?;
        }
        share::sweep_retired(&tx)?;
        // NOT IN over the referring column is one scan into a temporary index, not a scan per blob.
        tx.execute(
            "DELETE FROM blobs WHERE id NOT IN (SELECT blob FROM docs) AND id NOT IN (SELECT detail FROM findings)",
            [],
        )
        .ctx("removing unused blobs")?;
        tx.commit().ctx("removing a run")?;
        self.reclaim()
    }

    /// Everything of a run but its resources, documents and findings; the run stays as
    /// `retired` (without its snapshot) until [`share::sweep_retired`] finds no run reading it.
    fn retire_run(tx: &rusqlite::Transaction, run_id: i64) -> Result<()> {
        for table in
            ["run_scopes", "check_stats", "security_stats", "standard_summaries", "control_summaries", "external"]
        {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [run_id]).ctx("removing a run")?;
        }
        tx.execute("UPDATE runs SET status = 'retired', snapshot = NULL WHERE id = ?1", [run_id])
            .ctx("removing a run")?;
        Ok(())
    }

    /// Remove runs left `running` by a process that no longer exists (killed mid-run).
    pub fn cleanup_stale_runs(&mut self) -> Result<usize> {
        let stale: Vec<i64> = {
            let mut st =
                self.conn.prepare("SELECT id, pid FROM runs WHERE status = 'running'").ctx("finding stale runs")?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .ctx("finding stale runs")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("finding stale runs")?;
            rows.into_iter().filter(|(_, pid)| !pid_alive(*pid)).map(|(id, _)| id).collect()
        };
        if !stale.is_empty() {
            self.remove_runs(&stale)?;
        }
        Ok(stale.len())
    }

    /// Delete published runs older than `days`, always keeping the latest one.
    pub fn prune(&mut self, days: u32, now: DateTime<Utc>) -> Result<usize> {
        let cutoff = (now - chrono::Duration::days(days as i64)).to_rfc3339();
        let old: Vec<i64> = {
            let mut st = self
                .conn
                .prepare(
                    "SELECT id FROM runs WHERE status IN ('complete','partial') AND started_at < ?1
                     AND id <> (SELECT max(id) FROM runs WHERE status IN ('complete','partial'))",
                )
                .ctx("finding old runs")?;
            st.query_map([cutoff], |r| r.get(0))
                .ctx("finding old runs")?
                .collect::<rusqlite::Result<_>>()
                .ctx("finding old runs")?
        };
        if !old.is_empty() {
            self.remove_runs(&old)?;
        }
        Ok(old.len())
    }
}

#[cfg(test)]
mod tests;
