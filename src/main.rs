//! The posture binary: parse the command line, run a subcommand or open the console.

use clap::Parser;
use posture::cli::{Cli, run};

fn main() {
    let mut cli = Cli::parse();
    let code = match cli.command.take() {
        Some(command) => match run(cli, command) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {}", e.message);
                e.code
            }
        },
        None => match posture::tui::run(&cli) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {}", e.message);
                e.code
            }
        },
    };
    std::process::exit(code);
}
