//! Where each live run's snapshot lies, so retention can remove the snapshots of the runs it
//! removes.

use super::{Ctx, Result, Store};
use rusqlite::params;

impl Store {
    /// Record that `run_id` assessed the snapshot at `path`; a partial collection makes a
    /// complete run partial (something the checks need is missing from it).
    pub fn record_snapshot(&mut self, run_id: i64, path: &str, partial: bool) -> Result<()> {
        self.conn
            .execute("UPDATE runs SET snapshot = ?2 WHERE id = ?1", params![run_id, path])
            .ctx("recording a snapshot")?;
        if partial {
            self.conn
                .execute("UPDATE runs SET status = 'partial' WHERE id = ?1 AND status = 'complete'", params![run_id])
                .ctx("recording a partial collection")?;
        }
        Ok(())
    }

    /// The snapshot of a run, when it assessed one.
    pub fn run_snapshot(&self, run_id: i64) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT snapshot FROM runs WHERE id = ?1", params![run_id], |r| r.get(0))
            .ctx("reading a run's snapshot")
    }

    /// Every snapshot a stored run still refers to.
    pub fn snapshot_paths(&self) -> Result<Vec<String>> {
        let mut st =
            self.conn.prepare("SELECT snapshot FROM runs WHERE snapshot IS NOT NULL").ctx("listing snapshots")?;
        st.query_map([], |r| r.get(0))
            .ctx("listing snapshots")?
            .collect::<rusqlite::Result<_>>()
            .ctx("listing snapshots")
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn snapshots_are_recorded_and_go_with_their_runs() {
        let mut store = Store::open_in_memory().unwrap();
        let id = super::super::tests::store_run(&mut store, 1, &[]);
        store.record_snapshot(id, "/s/azure-1", true).unwrap();
        assert_eq!(store.run_snapshot(id).unwrap().as_deref(), Some("/s/azure-1"));
        assert_eq!(store.run(id).unwrap().status, crate::assess::RunStatus::Partial);
        assert_eq!(store.snapshot_paths().unwrap(), vec!["/s/azure-1".to_string()]);
    }
}
