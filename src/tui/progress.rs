//! The status bar's words for a run in progress: a bar only once the totals are known, and
//! counts that never pass them.

use super::state::RunProgress;
use crate::assess::filled;

impl RunProgress {
    /// `⟳ evaluating ▕████░░░░░░▏ 7/20 files · 5120 res`; before the totals are known,
    /// `⟳ reading 58 files · 5120 res` with no bar. The bar follows the bytes of the files
    /// evaluated (see `assess::progress`), and is full only once the run is being stored.
    pub fn status_text(&self, bar_w: usize) -> String {
        let (done, total) = self.files;
        let phase = self.phase.label();
        let Some(fraction) = self.fraction() else {
            return format!("⟳ {phase} {done} files · {} res ", self.resources);
        };
        let n = filled(fraction, bar_w);
        format!(
            "⟳ {phase} ▕{}{}▏ {}/{total} files · {} res ",
            "█".repeat(n),
            "░".repeat(bar_w - n),
            done.min(total),
            self.resources
        )
    }

    /// The share done (None: totals unknown), as [`crate::assess::Progress::fraction`].
    fn fraction(&self) -> Option<f64> {
        let p = crate::assess::Progress {
            phase: match self.phase {
                super::state::RunPhase::Reading => crate::assess::Phase::Reading,
                super::state::RunPhase::Evaluating => crate::assess::Phase::Evaluating,
                super::state::RunPhase::Storing => crate::assess::Phase::Storing,
            },
            files_done: self.files.0,
            files_total: self.files.1,
            bytes_done: self.bytes.0,
            bytes_total: self.bytes.1,
            ..Default::default()
        };
        p.fraction()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::RunPhase;

    #[test]
    fn a_bar_only_with_totals_and_never_past_them() {
        let p = RunProgress { files: (58, 0), resources: 9, phase: RunPhase::Reading, ..Default::default() };
        assert_eq!(p.status_text(10), "⟳ reading 58 files · 9 res ");
        let p =
            RunProgress { files: (7, 20), bytes: (800, 1000), resources: 9, phase: RunPhase::Evaluating, run_id: 1 };
        assert_eq!(p.status_text(10), "⟳ evaluating ▕████████░░▏ 7/20 files · 9 res ");
        let p = RunProgress { files: (58, 20), bytes: (5000, 1000), phase: RunPhase::Evaluating, ..Default::default() };
        assert_eq!(p.status_text(10), "⟳ evaluating ▕█████████░▏ 20/20 files · 0 res ");
        let p = RunProgress { files: (20, 20), bytes: (1000, 1000), phase: RunPhase::Storing, ..Default::default() };
        assert!(p.status_text(10).contains("▕██████████▏ 20/20"));
    }
}
