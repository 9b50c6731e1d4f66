//! The console (ratatui + crossterm): four panes over the store, fed by the worker.
//! The terminal is restored on quit, on panic, on SIGTERM and on SIGHUP.

pub mod app;
pub mod clipboard;
pub mod colors;
mod commands;
mod events;
pub mod form;
mod forms;
pub mod keymap;
pub mod list;
mod navigate;
pub mod panes;
pub mod report;
pub mod theme;
pub mod ui;
mod views;
pub mod widgets;

use crate::catalog::Catalog;
use crate::cli::{Cli, CliError, Env};
use crate::sources::SourceSpec;
use crate::worker::{Command as WorkerCommand, WorkerConfig};
use app::App;
use crossterm::event::{self, Event, KeyEventKind};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Open the console.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    let env = Env::new(cli)?;
    let db = env.db.clone().unwrap_or_else(crate::store::default_path);
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
    let catalog = Arc::new(Catalog::load_with_dirs(&env.config.standards_dirs));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("starting the runtime: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut worker = runtime.block_on(async {
        install_signal_handlers(Arc::clone(&stop));
        crate::worker::spawn(WorkerConfig {
            db: db.clone(),
            sources: if sources.is_empty() && live_sources.is_empty() { vec![SourceSpec::Demo] } else { sources },
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
        })
    });

    let mut app = App::new(Arc::clone(&catalog), store, theme, keymap, Some(worker.commands.clone()));
    app.attester = env.config.attester();
    app.max_evidence_bytes = env.config.max_evidence_bytes;
    app.expiring_days = crate::governance::expiring_days(&env.config.trigger);
    if app.expiring_days != crate::governance::DEFAULT_EXPIRING_DAYS {
        app.load_review();
    }
    app.reports.max_resources_per_check = env.config.report_max_resources_per_check;
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
    // A panic while drawing or handling a key must still keep the open form: catch it, save,
    // restore, then report.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> std::io::Result<()> {
        while !app.quit && !stop.load(Ordering::Relaxed) {
            terminal.draw(|f| ui::draw(f, &mut app))?;
            while let Some(payload) = app.clipboard.pop_front() {
                let mut out = std::io::stdout();
                out.write_all(clipboard::osc52(&payload, std::env::var_os("TMUX").is_some()).as_bytes())?;
                out.flush()?;
            }
            // Handle every key already typed before drawing again, so fast typing or a paste
            // never waits a frame per character.
            let mut timeout = Duration::from_millis(100);
            while event::poll(timeout)? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => app.on_key(k),
                    Event::Resize(_, _) => terminal.autoresize()?,
                    _ => {}
                }
                if app.quit {
                    break;
                }
                timeout = Duration::ZERO;
            }
            app.poll_reports();
            while let Ok(e) = worker.events.try_recv() {
                app.on_worker(e);
            }
        }
        Ok(())
    }));
    // The draft first: when the connection dropped, the terminal is already gone and nothing
    // written to it (restoring included) can succeed.
    if let Some(f) = app.form.as_ref().filter(|f| f.dirty)
        && let Err(e) = f.save_draft(&draft, chrono::Utc::now())
    {
        let _ = writeln!(std::io::stderr(), "error: could not keep the unsaved form in {}: {e}", draft.display());
    }
    let _ = ratatui::try_restore();
    let _ = worker.commands.send(WorkerCommand::Shutdown);
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut worker.handle).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(r) => r.map_err(|e| CliError::failure(format!("terminal: {e}"))),
        Err(_) => Err(CliError::failure("the console stopped on an internal error (reported above)")),
    }
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

fn install_signal_handlers(stop: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::terminate(), SignalKind::hangup()] {
            let stop = Arc::clone(&stop);
            if let Ok(mut s) = signal(kind) {
                tokio::spawn(async move {
                    s.recv().await;
                    stop.store(true, Ordering::Relaxed);
                });
            }
        }
    }
    #[cfg(not(unix))]
    let _ = stop;
}
