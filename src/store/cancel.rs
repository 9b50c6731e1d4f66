//! Queries a caller can stop midway: the console's counts, which a newer filter makes
//! pointless (stopping one lets the next keystroke's rows be read at once).

use super::{FindingFilter, Result, Store, StoreError};

/// Virtual machine steps between two looks at the stop condition (a few microseconds).
const STEPS: i32 = 1_000;

impl Store {
    /// [`Store::count_findings`], or None when `stop` said so before it was done.
    pub fn count_findings_unless(
        &self,
        run_id: i64,
        f: &FindingFilter,
        stop: impl FnMut() -> bool + Send + 'static,
    ) -> Result<Option<u64>> {
        self.conn.progress_handler(STEPS, Some(stop));
        let counted = self.count_findings(run_id, f);
        self.conn.progress_handler(0, None::<fn() -> bool>);
        match counted {
            Ok(n) => Ok(Some(n)),
            Err(StoreError::Sql { source, .. })
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_count_stops_when_asked_and_the_connection_counts_again_after() {
        let mut store = Store::open_in_memory().unwrap();
        let catalog = crate::catalog::Catalog::load_with_dirs(&[]);
        let cancel = AtomicBool::new(false);
        let demo = [crate::sources::SourceSpec::Demo];
        let run = crate::pipeline::run_and_store(&mut store, &catalog, &demo, &[], 30, &cancel, &mut |_| {}).unwrap();
        // A text filter joins the resources: enough steps for the handler to be asked.
        let all = FindingFilter { text: Some("-".into()), ..Default::default() };
        let n = store.count_findings(run.run_id, &all).unwrap();
        assert!(n > 0);
        let stop = Arc::new(AtomicBool::new(true));
        let s = Arc::clone(&stop);
        assert_eq!(store.count_findings_unless(run.run_id, &all, move || s.load(Ordering::Relaxed)).unwrap(), None);
        // The handler is gone: later queries are not stopped.
        assert_eq!(store.count_findings(run.run_id, &all).unwrap(), n);
        assert_eq!(store.count_findings_unless(run.run_id, &all, || false).unwrap(), Some(n));
    }
}
