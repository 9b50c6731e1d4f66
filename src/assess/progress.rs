//! How far a run is, for progress bars: the totals are known before anything is counted, what
//! is done never exceeds them, and the whole is reached only when the run is being stored.
//!
//! The measure is the bytes of the files whose resources have been evaluated: evaluation is
//! the slowest stage (the reader is at most a queue of two batches ahead, the writer keeps up),
//! so counting a file when the reader finishes it would run ahead of the real work, and
//! counting batches (as once) reads `58/20 files` when a big file yields many. Bytes, not
//! files, because one large export can be most of a run.

use serde::Serialize;

/// The steps of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The run has an id and its totals: nothing is counted yet.
    #[default]
    Started,
    /// Reading the sources (the first pass that indexes duplicates and related resources).
    Reading,
    /// Evaluating the checks on what was read.
    Evaluating,
    /// Writing the run to the cache: the last step.
    Storing,
}

impl Phase {
    /// Lowercase word, as shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Started => "started",
            Phase::Reading => "reading",
            Phase::Evaluating => "evaluating",
            Phase::Storing => "storing",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use crate::sources::Totals;

/// Progress of a run, for the console's status bar and the CLI's bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Progress {
    /// The run being written (0 before it has an id).
    pub run_id: i64,
    /// What it is doing.
    pub phase: Phase,
    /// Source being read.
    pub source: String,
    /// Resources assessed so far.
    pub done: u64,
    /// Files whose resources have all been evaluated.
    pub files_done: u64,
    /// Files to read in all (0 when unknown).
    pub files_total: u64,
    /// Bytes of the files done.
    pub bytes_done: u64,
    /// Bytes to read in all (0 when unknown).
    pub bytes_total: u64,
}

/// The fraction of the whole a bar shows before the run is stored: at most this, so a bar at
/// its end means the run is being written, never that the last file was read.
const BEFORE_STORING: f64 = 0.99;

impl Progress {
    /// This progress of a run with these totals, its counts held within them (files can grow
    /// or appear between the listing and the reading).
    pub fn within(mut self, run_id: i64, totals: Totals) -> Progress {
        self.run_id = run_id;
        self.files_total = totals.files;
        self.bytes_total = totals.bytes;
        if self.phase == Phase::Storing {
            self.files_done = totals.files;
            self.bytes_done = totals.bytes;
        }
        self.files_done = self.files_done.min(totals.files);
        self.bytes_done = self.bytes_done.min(totals.bytes);
        self
    }

    /// The share of the work done, from 0 to 1; None when the totals are unknown. Bytes when
    /// they are known, else files; 1 only once the run is being stored.
    pub fn fraction(&self) -> Option<f64> {
        let (done, total) = if self.bytes_total > 0 {
            (self.bytes_done, self.bytes_total)
        } else if self.files_total > 0 {
            (self.files_done, self.files_total)
        } else {
            return (self.phase == Phase::Storing).then_some(1.0);
        };
        let f = done.min(total) as f64 / total as f64;
        Some(if self.phase == Phase::Storing { 1.0 } else { f.min(BEFORE_STORING) })
    }

    /// Files done of all, `done` never above `total` (total 0: unknown).
    pub fn files(&self) -> (u64, u64) {
        if self.files_total == 0 {
            (self.files_done, 0)
        } else {
            (self.files_done.min(self.files_total), self.files_total)
        }
    }
}

/// Cells of a bar `width` wide that `fraction` fills (rounded down: full only at 1).
pub fn filled(fraction: f64, width: usize) -> usize {
    ((fraction.clamp(0.0, 1.0) * width as f64).floor() as usize).min(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(phase: Phase, files: u64, bytes: u64) -> Progress {
        Progress { phase, files_done: files, bytes_done: bytes, ..Progress::default() }
            .within(7, Totals { files: 20, bytes: 1000 })
    }

    #[test]
    fn done_never_exceeds_the_totals() {
        let p = at(Phase::Evaluating, 58, 5000);
        assert_eq!(p.files(), (20, 20));
        assert_eq!(p.bytes_done, 1000);
        assert_eq!(p.run_id, 7);
    }

    #[test]
    fn the_bar_follows_bytes_and_is_full_only_when_storing() {
        // A third of the files but most of the bytes: the bar says most.
        let p = at(Phase::Evaluating, 7, 800);
        assert_eq!(p.fraction(), Some(0.8));
        assert_eq!(filled(0.8, 10), 8);
        // Every file evaluated: scopes, imports and the store are still to come.
        let p = at(Phase::Evaluating, 20, 1000);
        assert_eq!(p.fraction(), Some(BEFORE_STORING));
        assert_eq!(filled(BEFORE_STORING, 10), 9);
        let p = at(Phase::Storing, 3, 10);
        assert_eq!((p.fraction(), p.files()), (Some(1.0), (20, 20)));
        assert_eq!(filled(1.0, 10), 10);
    }

    #[test]
    fn unknown_totals_give_no_fraction_and_files_fall_back_when_bytes_are_unknown() {
        let p = Progress { phase: Phase::Evaluating, files_done: 58, ..Progress::default() };
        assert_eq!((p.fraction(), p.files()), (None, (58, 0)));
        let p = Progress { phase: Phase::Evaluating, files_done: 5, ..Progress::default() }
            .within(1, Totals { files: 10, bytes: 0 });
        assert_eq!(p.fraction(), Some(0.5));
        assert_eq!(filled(-1.0, 10), 0);
    }
}
