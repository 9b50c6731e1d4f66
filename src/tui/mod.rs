//! The console (ratatui + crossterm): four panes over the store, fed by the worker.
//! The terminal is restored on quit, on panic, on SIGTERM and on SIGHUP.
//!
//! One loop waits on everything that can change the screen (keys, resizes, the worker's
//! events, the reader's answers, finished reports) and draws only after one of them.

mod answers;
pub mod app;
pub mod clipboard;
pub mod colors;
mod commands;
pub mod complete;
pub mod effect;
mod events;
pub mod form;
mod forms;
pub mod keymap;
pub mod list;
mod navigate;
pub mod order;
pub mod panes;
mod progress;
pub mod reader;
pub mod report;
pub mod scopes;
pub mod state;
pub mod theme;
pub mod ui;
mod views;
pub mod widgets;

use crate::catalog::Catalog;
use crate::cli::{Cli, CliError, Env};
use crate::sources::SourceSpec;
use crate::worker::{Command as WorkerCommand, Event as WorkerEvent, WorkerConfig};
use app::App;
use crossterm::event::{self, Event, KeyEventKind};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// Redraw this often with nothing happening, so the run's age in the status bar stays true.
const IDLE_REDRAW: Duration = Duration::from_secs(30);

/// What wakes the event loop.
enum Wake {
    /// A terminal event.
    Term(Event),
    /// The worker reported.
    Worker(WorkerEvent),
    /// An answer or a report is ready.
    Ready,
    /// SIGTERM or SIGHUP.
    Stop,
}

/// Open the console.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    let env = Env::new(cli)?;
    let db = env.db_path();
    let mut store = crate::store::Store::open(&db).map_err(|e| CliError::failure(e.to_string()))?;
    // Decisions made in the console are signed like those of the CLI (SSH agent forwarding
    // signs with the key the engineer logged in with).
    let mut startup_notes = store.take_notices();
    match crate::governance::AgentSigner::from_env(&env.config.attester()) {
        Ok(signer) => store.set_signer(signer.map(|s| Box::new(s) as Box<dyn crate::store::EntrySigner>)),
        Err(why) => startup_notes.push(format!("{why}; decisions are recorded unsigned")),
    }
    let (file_sources, live_sources) =
        crate::collect::live::split_sources(&env.config.sources).map_err(CliError::input)?;
    let file_sources: Vec<String> = file_sources.iter().map(|s| s.to_string()).collect();
    let mut sources = if live_sources.is_empty() || !file_sources.is_empty() {
        crate::cli::parse_sources(&file_sources)?
    } else {
        Vec::new()
    };
    // No sources configured: `r` re-assesses what the cache's last run assessed, so the demo
    // estate never lands in a cache of real runs.
    if env.config.sources.is_empty()
        && let Ok(Some(run)) = store.latest_finished()
        && !run.demo
    {
        sources = crate::pipeline::run_sources(&run);
    }
    let interval = env.config.assess_interval;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_warnings) = theme::Theme::load(env.config.theme.as_deref(), no_color);
    let var = |k: &str| std::env::var(k).ok();
    let depth =
        colors::ColorDepth::resolve(env.config.color_depth, var("COLORTERM").as_deref(), var("TERM").as_deref());
    let theme = theme.with_depth(depth);
    let overrides = env.config.keys.iter().map(|(k, v)| (k.clone(), v.keys())).collect();
    let (keymap, key_warnings) = keymap::Keymap::new(&overrides);
    let catalog =
        Arc::new(Catalog::load_with_snapshot(&env.config.standards_dirs, &crate::catalog::snapshot_path(&db)));
    env.config.scoping.check(&catalog).map_err(CliError::input)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("starting the runtime: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<Wake>();
    let crate::worker::Worker { commands: worker_commands, events: mut worker_events, handle: mut worker_handle } =
        runtime.block_on(async {
            install_signal_handlers(Arc::clone(&stop), wake_tx.clone());
            crate::worker::spawn_sharing(
                WorkerConfig {
                    db: db.clone(),
                    sources: if sources.is_empty() && live_sources.is_empty() {
                        vec![SourceSpec::Demo]
                    } else {
                        sources
                    },
                    standards_dirs: env.config.standards_dirs.clone(),
                    interval,
                    retention_days: env.config.retention_days,
                    limits: env.config.limits(),
                    budget: env.config.budget(),
                    live: crate::pipeline::LiveSettings {
                        snapshots_dir: crate::collect::live::snapshots_dir(&env.config, &db),
                        sources: live_sources,
                        config: env.config.clone(),
                    },
                },
                Arc::clone(&catalog),
            )
        });
    // The worker's events join the loop's queue.
    let forward = wake_tx.clone();
    runtime.spawn(async move {
        while let Some(e) = worker_events.recv().await {
            if forward.send(Wake::Worker(e)).is_err() {
                break;
            }
        }
    });
    let ready = wake_tx.clone();
    let waker: reader::Waker = Arc::new(move || {
        let _ = ready.send(Wake::Ready);
    });
    let commands = Some(worker_commands.clone());
    let mut app = App::with_waker(Arc::clone(&catalog), store, theme, keymap, commands, Some(waker));
    app.attester = env.config.attester();
    app.max_evidence_bytes = env.config.max_evidence_bytes;
    app.expiring_days = crate::governance::expiring_days(&env.config.trigger);
    if app.expiring_days != crate::governance::DEFAULT_EXPIRING_DAYS {
        app.load_review();
    }
    app.reports.max_resources_per_check = env.config.report_max_resources_per_check;
    app.set_scoping(env.config.scoping.clone());
    for w in theme_warnings.into_iter().chain(key_warnings) {
        app.error(w);
    }
    for n in startup_notes {
        app.info(n);
    }
    let draft = form::draft_path(&db);
    if let Some((f, at)) = form::Form::take_draft(&draft, &catalog, &app.attester, chrono::Utc::now()) {
        app.form = Some(f);
        app.info(format!(
            "restored the unsaved form from {} (Enter saves, Esc discards)",
            at.format("%Y-%m-%d %H:%M UTC")
        ));
    }

    let mut terminal = open_terminal().map_err(|e| CliError::failure(format!("cannot open the terminal: {e}")))?;
    spawn_input(wake_tx);
    // A panic while drawing or handling a key must still keep the open form: catch it, save,
    // restore, then report.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        event_loop(&mut app, &mut terminal, &wake_rx, &stop).map(|_| ())
    }));
    // The draft first: when the connection dropped, the terminal is already gone and nothing
    // written to it (restoring included) can succeed.
    if let Some(f) = app.form.as_ref().filter(|f| f.dirty)
        && let Err(e) = f.save_draft(&draft, chrono::Utc::now())
    {
        let _ = writeln!(std::io::stderr(), "error: could not keep the unsaved form in {}: {e}", draft.display());
    }
    let _ = ratatui::try_restore();
    let _ = worker_commands.send(WorkerCommand::Shutdown);
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut worker_handle).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(r) => r.map_err(|e| CliError::failure(format!("terminal: {e}"))),
        Err(_) => Err(CliError::failure("the console stopped on an internal error (reported above)")),
    }
}

/// Draw, then sleep until something happens; handle everything that happened (every key
/// already typed, so a paste never waits a frame per character), and draw again only when
/// something changed. Returns the number of frames drawn.
fn event_loop<B: ratatui::backend::Backend>(
    app: &mut App,
    terminal: &mut ratatui::Terminal<B>,
    wake: &Receiver<Wake>,
    stop: &AtomicBool,
) -> std::io::Result<u64> {
    let mut dirty = true;
    let mut frames = 0;
    while !app.quit && !stop.load(Ordering::Relaxed) {
        if dirty {
            app.flush();
            terminal.draw(|f| ui::draw(f, app)).map_err(|e| std::io::Error::other(e.to_string()))?;
            frames += 1;
            while let Some(payload) = app.clipboard.pop_front() {
                let mut out = std::io::stdout();
                out.write_all(clipboard::osc52(&payload, std::env::var_os("TMUX").is_some()).as_bytes())?;
                out.flush()?;
            }
            dirty = false;
        }
        let first = match wake.recv_timeout(IDLE_REDRAW) {
            Ok(w) => w,
            Err(RecvTimeoutError::Timeout) => {
                dirty = true;
                continue;
            }
            // Every sender gone: nothing can happen any more.
            Err(RecvTimeoutError::Disconnected) => return Ok(frames),
        };
        for w in std::iter::once(first).chain(std::iter::from_fn(|| wake.try_recv().ok())) {
            dirty |= match w {
                Wake::Term(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                    app.on_key(k);
                    true
                }
                Wake::Term(Event::Resize(_, _)) => {
                    terminal.autoresize().map_err(|e| std::io::Error::other(e.to_string()))?;
                    true
                }
                Wake::Term(_) => false,
                Wake::Worker(e) => {
                    app.on_worker(e);
                    true
                }
                Wake::Ready => app.poll_answers() | app.poll_reports(),
                Wake::Stop => stop.load(Ordering::Relaxed),
            };
            if app.quit || stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    Ok(frames)
}

/// Terminal events, read on their own thread so the loop can wait on them and on the
/// background work at once.
fn spawn_input(wake: Sender<Wake>) {
    let spawned = std::thread::Builder::new().name("posture-input".into()).spawn(move || {
        while let Ok(e) = event::read() {
            if wake.send(Wake::Term(e)).is_err() {
                break;
            }
        }
    });
    // Without the thread no key arrives, but SIGTERM and Ctrl-C from the shell still end
    // the console: the loop keeps waiting on the other sources.
    drop(spawned);
}

/// Raw mode and the alternate screen, with a panic hook that restores the terminal quietly:
/// ratatui's own hook prints when restoring fails, and printing to a terminal that is gone
/// panics again inside the hook, which aborts the process.
fn open_terminal() -> std::io::Result<ratatui::DefaultTerminal> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = ratatui::try_restore();
        hook(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

fn install_signal_handlers(stop: Arc<AtomicBool>, wake: Sender<Wake>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::terminate(), SignalKind::hangup()] {
            let stop = Arc::clone(&stop);
            let wake = wake.clone();
            if let Ok(mut s) = signal(kind) {
                tokio::spawn(async move {
                    s.recv().await;
                    stop.store(true, Ordering::Relaxed);
                    let _ = wake.send(Wake::Stop);
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (stop, wake);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;

    fn frames_for(events: Vec<Wake>) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("c.db")).unwrap();
        let (keymap, _) = keymap::Keymap::new(&Default::default());
        let mut app = App::new(Arc::new(Catalog::default()), store, theme::Theme::default_theme(), keymap, None);
        app.settle();
        let (tx, rx) = std::sync::mpsc::channel();
        for e in events {
            tx.send(e).unwrap();
        }
        // With every sender gone the loop returns once the queue is drained.
        drop(tx);
        let mut terminal = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
        event_loop(&mut app, &mut terminal, &rx, &AtomicBool::new(false)).unwrap()
    }

    fn key(c: char) -> Wake {
        Wake::Term(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
    }

    #[test]
    fn the_loop_draws_only_when_something_changed_and_once_per_batch() {
        // The first frame, then nothing: events that change nothing draw nothing.
        assert_eq!(frames_for(vec![Wake::Term(Event::FocusGained), Wake::Ready]), 1);
        // Keys already queued are handled together, then drawn once.
        assert_eq!(frames_for(vec![key('j'), key('k'), key('j')]), 2);
    }
}
