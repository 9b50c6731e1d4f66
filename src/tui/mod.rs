//! The console (ratatui + crossterm).

use crate::cli::{Cli, CliError};

/// Open the console.
pub fn run(_cli: &Cli) -> Result<(), CliError> {
    Err(CliError::failure(
        "the console is being built; use the subcommands (posture --help)",
    ))
}
