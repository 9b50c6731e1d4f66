//! The console on ratatui's TestBackend over a demo cache: keys in, settled screens out.

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
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The clock every console test reads: 2026-11-22 09:30 UTC.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()
}

/// A console and the folder of its cache.
pub struct Console {
    pub app: App,
    pub dir: tempfile::TempDir,
}

/// The demo estate assessed `runs` times, a day apart with the last at 08:00 on the fixed
/// day; `edit` is SQL run on the cache before the console opens it.
pub fn demo_console(runs: usize, edit: &str) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let catalog = Catalog::load(&Catalog::builtin_files());
    {
        let mut store = Store::open(&db).unwrap();
        for _ in 0..runs {
            let cancel = AtomicBool::new(false);
            posture::pipeline::run_and_store(&mut store, &catalog, &[SourceSpec::Demo], &[], 90, &cancel, &mut |_| {})
                .unwrap();
        }
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "UPDATE runs SET
            started_at = strftime('%Y-%m-%dT08:00:00+00:00', '2026-11-22', (id - (SELECT max(id) FROM runs)) || ' days'),
            finished_at = strftime('%Y-%m-%dT08:00:05+00:00', '2026-11-22', (id - (SELECT max(id) FROM runs)) || ' days');",
    )
    .unwrap();
    conn.execute_batch(edit).unwrap();
    drop(conn);
    let store = Store::open(&db).unwrap();
    let (keymap, _) = Keymap::new(&Default::default());
    let mut app = App::new(Arc::new(catalog), store, Theme::default_theme(), keymap, None);
    app.clock = fixed_now;
    app.settle();
    Console { app, dir }
}

/// A character key (shifted when upper case).
pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE })
}

/// A named key.
pub fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// A key, then the reader's answers to what it asked (as a user sees them a moment later).
pub fn press(app: &mut App, k: KeyEvent) {
    app.on_key(k);
    app.settle();
}

/// Each character of `s` as a key.
pub fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, key(c));
    }
}

/// Type a `:` command and press Enter.
pub fn command(app: &mut App, line: &str) {
    typed(app, &format!(":{line}"));
    press(app, code(KeyCode::Enter));
}

/// The settled screen at `w` × `h`.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.settle();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}
