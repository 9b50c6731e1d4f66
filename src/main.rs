//! The posture binary: parse the command line, run a subcommand or open the console.

use clap::Parser;
use std::io::Write;

// The engine allocates many small values per resource (JSON → CEL); mimalloc halves the time
// glibc's allocator takes for that (see BENCHMARKS.md). Counting lets a CEL evaluation be
// stopped once it holds more than its memory budget.
#[global_allocator]
static GLOBAL: posture::alloc::Counting<mimalloc::MiMalloc> = posture::alloc::Counting::new(mimalloc::MiMalloc);
use posture::cli::{Cli, run};

fn main() {
    // Like any Unix filter: `posture findings | head` ends quietly when the reader goes away.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // mimalloc asks for transparent huge pages, and the kernel zeroes 2 MiB at each first touch
    // of one: 12 % of a 100k assess's CPU samples (BENCHMARKS.md, session 8). Without them its
    // system time falls by about 0.9 s for 0.3 s more user time; the console does not notice.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only; it sets a flag of this process, nothing else.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let mut cli = Cli::parse();
    let result = match cli.command.take() {
        Some(command) => run(cli, command),
        None => posture::tui::run(&cli),
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            // Not eprintln!: it panics when stderr is a terminal that went away.
            let _ = writeln!(std::io::stderr(), "error: {}", posture::sanitize::clean_lines(&e.message));
            e.code
        }
    };
    std::process::exit(code);
}
