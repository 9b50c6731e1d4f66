//! A run's batches committed a group at a time. A commit appends every page its transaction
//! changed to the WAL, and a large run's batches change the same index pages over and over, so
//! one commit a batch was a quarter of the writer's samples at 1M (perf). The rows of an
//! unpublished run are invisible however they are committed, so anything else that needs a
//! transaction on the same connection commits the open group first ([`Store::transaction`]).

use super::super::{Ctx, Result, Store};
use rusqlite::{Transaction, TransactionBehavior};

/// Batches written in one transaction; a longer transaction holds the write lock longer (at
/// 1M, 16 batches take the writer about two seconds).
pub(super) const GROUP: usize = 16;

/// The run whose batches the connection's open transaction holds, and how many.
#[derive(Debug, Clone, Copy)]
pub(in crate::store) struct OpenBatches {
    run: i64,
    batches: usize,
}

impl Store {
    /// Before a batch of `run`: open its group's transaction unless it is open, with foreign
    /// keys off (the pragma does nothing inside a transaction, so it is set around one).
    pub(super) fn open_batch(&mut self, run: i64) -> Result<()> {
        if self.open.is_some_and(|o| o.run == run) {
            return Ok(());
        }
        self.settle_batches()?;
        // The rows written reference the run (made by `begin_run`, which no other process
        // removes while it runs), checks from `check_ids` (never deleted) and blobs found or
        // stored in this transaction or held by rows retention keeps: checking each reference
        // again is a B-tree probe per row. Back on for everything else (removals cascade).
        self.conn.pragma_update(None, "foreign_keys", "OFF").ctx("writing a batch")?;
        // Immediate: the batch reads before it writes, and a read transaction that another
        // process's commit made stale cannot become a write one (it would fail, not wait).
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE").ctx("writing a batch") {
            self.conn.pragma_update(None, "foreign_keys", "ON").ctx("writing a batch")?;
            return Err(e);
        }
        self.open = Some(OpenBatches { run, batches: 0 });
        Ok(())
    }

    /// After a batch of `run` written: its group is committed once it holds [`GROUP`] batches.
    pub(super) fn batch_written(&mut self, run: i64) -> Result<()> {
        match &mut self.open {
            Some(o) if o.run == run => {
                o.batches += 1;
                if o.batches >= GROUP { self.end_batches(true) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// End the open group of `run`, if it has one: committed (`keep`) or rolled back.
    pub(super) fn end_batches_of(&mut self, run: i64, keep: bool) -> Result<()> {
        if self.open.is_some_and(|o| o.run == run) { self.end_batches(keep) } else { Ok(()) }
    }

    /// Commit the open group of whichever run has one (a writer dropped unfinished leaves
    /// one: its rows are removed with the stale run).
    pub(in crate::store) fn settle_batches(&mut self) -> Result<()> {
        if self.open.is_some() { self.end_batches(true) } else { Ok(()) }
    }

    /// A transaction on the cache's connection, any group of batches committed first.
    pub(in crate::store) fn transaction(
        &mut self,
        behavior: TransactionBehavior,
        ctx: &'static str,
    ) -> Result<Transaction<'_>> {
        self.settle_batches()?;
        self.conn.transaction_with_behavior(behavior).ctx(ctx)
    }

    fn end_batches(&mut self, keep: bool) -> Result<()> {
        self.open = None;
        let ended = if self.conn.is_autocommit() {
            Ok(())
        } else if keep {
            self.conn.execute_batch("COMMIT").ctx("committing a run's batches")
        } else {
            self.conn.execute_batch("ROLLBACK").ctx("discarding a run's batches")
        };
        // A failed COMMIT can leave the transaction open.
        if ended.is_err() && !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK").ctx("discarding a run's batches")?;
        }
        self.conn.pragma_update(None, "foreign_keys", "ON").ctx("ending a run's batches")?;
        ended
    }
}
