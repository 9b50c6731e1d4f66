//! The reader thread's side of assessments: each one's rollup over its scopes of a run.

use super::serve::Serve;
use crate::tui::scopes::AssessmentRow;

/// Scopes a control's breakdown lists at most (the rest are counted).
pub(super) const BREAKDOWN_SCOPES: usize = 200;

impl Serve {
    /// The row of each assessment in `list` over run `run`: its standard rolled up over the
    /// scopes it names that the run has (none: no summary, and the row says so).
    pub(super) fn assessments(
        &self,
        run: i64,
        list: &[crate::config::Assessment],
    ) -> Result<Vec<AssessmentRow>, String> {
        let info = self.store.run(run).map_err(|e| format!("run {run}: {e}"))?;
        let known = self.store.scopes(run).map_err(|e| format!("reading the scopes of run {run}: {e}"))?;
        let mut rows = Vec::with_capacity(list.len());
        for a in list {
            let present: Vec<String> = a.scopes.iter().filter(|s| known.contains(s)).cloned().collect();
            // No scope of the run: an empty list would mean every scope, so nothing is rolled up.
            let summary = if present.is_empty() {
                None
            } else {
                let rolled = crate::pipeline::live_rollup_in(
                    &self.store,
                    &self.catalog,
                    &info,
                    std::slice::from_ref(&a.standard),
                    &present,
                )
                .map_err(|e| format!("assessment {}: {e}", a.name))?;
                rolled.standards.into_iter().find(|s| s.id == a.standard)
            };
            rows.push(AssessmentRow::new(a, present, summary));
        }
        Ok(rows)
    }
}
