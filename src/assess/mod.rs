//! A run: sources → engine → rollup → scores. No storage and no screen here.

mod attested;
pub mod cases;
mod engine;
mod feed;
pub mod imported;
mod progress;
mod results;
mod rollup;
mod scope;
mod scoped;
mod side_by_side;
mod tally;

pub use attested::Attested;
pub use engine::{Assessor, Sink};
pub use progress::{Phase, Progress, Totals, filled};
pub use results::{BatchOutput, CheckStats, RunResult, RunStatus, ScStats};
pub use rollup::{
    Action, ActionKind, ComplianceScore, ControlSummary, Rollup, RollupInput, SecureScore, StandardSummary, rollup,
};
pub use scoped::scope_subject;
pub use side_by_side::{DefenderSide, annotate, defender_secure};

#[cfg(test)]
mod tests;
