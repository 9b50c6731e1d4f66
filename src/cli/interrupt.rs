//! Ctrl-C on a long command: the first asks the work to stop at its next step (a collection
//! then removes its half-written snapshot, a run stores nothing); the second exits at once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Exit status after a second Ctrl-C, as shells report a SIGINT death.
const EXIT_INTERRUPTED: i32 = 130;

/// A flag that Ctrl-C (SIGINT) and SIGTERM set; a second signal exits with status 130.
pub fn cancel_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The conditional exit must be registered first: it fires only once the flag is set.
        // Registration fails only for forbidden signals, which these are not; without it the
        // default (die at once) remains, which is no worse than before.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, EXIT_INTERRUPTED, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}
