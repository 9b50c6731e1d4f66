//! A progress bar on stderr for long commands, shown only when stderr is a terminal (pipes and
//! CI logs get no control sequences).

use crate::sanitize::clean;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A bar, or nothing when stderr is not a terminal. Clones share the bar.
#[derive(Clone, Default)]
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar when stderr is a terminal.
    pub fn on_terminal() -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new(1);
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(Some(bar))
    }

    fn set(&self, template: &str, len: u64, pos: u64, message: String) {
        if let Some(b) = &self.0 {
            let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style);
            b.set_length(len.max(1));
            b.set_position(pos.min(len.max(1)));
            b.set_message(message);
        }
    }

    /// A collection's progress: scopes done of all, rows, the data set in flight.
    pub fn collecting(&self, p: &crate::collect::Progress) {
        let message = format!("{} rows · {}", p.rows, clean(&p.dataset));
        self.set("{spinner} collecting: scopes {pos}/{len} {wide_msg}", p.scopes_total, p.scopes_done, message);
    }

    /// An assessment's progress: a bar of the work done (the bytes of the files evaluated, see
    /// `assess::progress`), files done of all, resources assessed; a spinner with the files
    /// counted while the totals are unknown.
    pub fn assessing(&self, p: &crate::assess::Progress) {
        let (done, total) = p.files();
        match p.fraction() {
            Some(f) => {
                let message = format!("files {done}/{total} · {} resources · {} {}", p.done, p.phase, clean(&p.source));
                // Per mille: the bar's length is the work, not a count of files.
                let pos = (f * 1000.0).floor() as u64;
                self.set("{spinner} assessing [{bar:20}] {percent:>3}% {wide_msg}", 1000, pos, message);
            }
            None => {
                let message = format!("{done} files · {} resources · {} {}", p.done, p.phase, clean(&p.source));
                self.set("{spinner} assessing {wide_msg}", 1, 0, message);
            }
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
