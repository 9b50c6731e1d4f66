//! The console on ratatui's TestBackend over an assessed demo cache, with a fixed clock and run
//! times, and key helpers that wait for the reader after each key.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::catalog::Catalog;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::tui::app::App;
use posture::tui::keymap::Keymap;
use posture::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()
}

/// Assess `specs` into `store` as of [`fixed_now`]: the demo's dated fields (a credential last
/// used, a key rotated) judge the same on any day.
pub fn assess_fixed(store: &mut Store, catalog: &Catalog, specs: &[SourceSpec]) -> posture::pipeline::Outcome {
    let run = posture::pipeline::Run::new(specs, &[], 90);
    posture::pipeline::run_and_store_at(store, catalog, &run, fixed_now(), &AtomicBool::new(false), &mut |_| {})
        .unwrap()
}

/// A console and the folder of its cache.
pub struct Console {
    pub app: App,
    pub dir: tempfile::TempDir,
}

/// The console on `specs` assessed, with `keys` overriding the default bindings; `records`
/// writes to the cache (with its folder) before the console opens.
pub fn build(
    specs: &[SourceSpec],
    keys: &[(&str, &[&str])],
    records: impl FnOnce(&mut Store, &std::path::Path),
) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let catalog = Catalog::load(&Catalog::builtin_files());
    {
        let mut store = Store::open(&db).unwrap();
        assess_fixed(&mut store, &catalog, specs);
        records(&mut store, dir.path());
    }
    // Fixed run times for stable snapshots.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE runs SET started_at = '2026-11-22T08:00:00+00:00', finished_at = '2026-11-22T08:00:05+00:00'",
        [],
    )
    .unwrap();
    drop(conn);
    let overrides: BTreeMap<String, Vec<String>> =
        keys.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect();
    let (keymap, warnings) = Keymap::new(&overrides);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut app = App::new(Arc::new(catalog), Store::open(&db).unwrap(), Theme::default_theme(), keymap, None);
    app.clock = fixed_now;
    app.settle();
    Console { app, dir }
}

/// The console on the demo estate with `keys` overriding the default bindings.
pub fn console_with_keys(keys: &[(&str, &[&str])]) -> Console {
    build(&[SourceSpec::Demo], keys, |_, _| {})
}

/// The console on `specs` with the default keys.
pub fn console_of(specs: &[SourceSpec]) -> Console {
    build(specs, &[], |_, _| {})
}

/// The console on the demo estate with the default keys.
pub fn console() -> Console {
    console_with_keys(&[])
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE })
}

pub fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// A key, then the reader's answers to what it asked.
pub fn press(app: &mut App, k: KeyEvent) {
    app.on_key(k);
    app.settle();
}

pub fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, key(c));
    }
}

/// The screen as text, `w` × `h`.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.settle();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The screen's rows, without the quotes TestBackend puts around them.
pub fn rows(app: &mut App, w: u16, h: u16) -> Vec<String> {
    screen(app, w, h).lines().map(|l| l.trim_matches('"').to_string()).collect()
}

/// Type a `:` command and press Enter.
pub fn command(app: &mut App, line: &str) {
    typed(app, &format!(":{line}"));
    press(app, code(KeyCode::Enter));
}

/// The demo estate assessed `runs` times, a day apart with the last at 08:00 on the fixed
/// day; `edit` is SQL run on the cache before the console opens it.
pub fn demo_console(runs: usize, edit: &str) -> Console {
    let runs = vec![vec![SourceSpec::Demo]; runs];
    let days_apart = "UPDATE runs SET
        started_at = strftime('%Y-%m-%dT08:00:00+00:00', '2026-11-22', (id - (SELECT max(id) FROM runs)) || ' days'),
        finished_at = strftime('%Y-%m-%dT08:00:05+00:00', '2026-11-22', (id - (SELECT max(id) FROM runs)) || ' days');";
    runs_console(&runs, &format!("{days_apart}\n{edit}"))
}

/// One run per entry of `runs`, run n on 2026-11-(19+n) at 08:00.
pub fn runs_by_day(runs: &[Vec<SourceSpec>]) -> Console {
    runs_console(
        runs,
        "UPDATE runs SET started_at = printf('2026-11-%02dT08:00:00+00:00', 19 + id),
                         finished_at = printf('2026-11-%02dT08:00:05+00:00', 19 + id)",
    )
}

/// One run per entry of `runs`, then `edit` (SQL) on the cache before the console opens it.
fn runs_console(runs: &[Vec<SourceSpec>], edit: &str) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let catalog = Catalog::load(&Catalog::builtin_files());
    {
        let mut store = Store::open(&db).unwrap();
        for specs in runs {
            let run = assess_fixed(&mut store, &catalog, specs);
            // Equal runs share their rows; `edit` changes each run's own.
            if !edit.is_empty() {
                store.unshare_run(run.run_id).unwrap();
            }
        }
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(edit).unwrap();
    drop(conn);
    let (keymap, _) = Keymap::new(&Default::default());
    let mut app = App::new(Arc::new(catalog), Store::open(&db).unwrap(), Theme::default_theme(), keymap, None);
    app.clock = fixed_now;
    app.settle();
    Console { app, dir }
}

/// The demo console with `config` (TOML) written as `config.toml` beside the cache and its
/// standards and assessments in use.
pub fn configured(config: &str) -> Console {
    let mut c = console();
    let path = c.dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let cfg = posture::config::Config::load(Some(&path)).unwrap();
    cfg.scoping.check(&c.app.catalog).unwrap();
    c.app.set_scoping(cfg.scoping);
    c.app.settle();
    c
}
