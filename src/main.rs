//! The posture binary: parse the command line, run a subcommand or open the console.

use clap::Parser;
use posture::cli::{Cli, run};

fn main() {
    // Like any Unix filter: `posture findings | head` ends quietly when the reader goes away.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
