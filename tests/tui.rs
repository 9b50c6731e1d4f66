//! The console on ratatui's TestBackend: snapshots of each pane and of key sequences, at
//! 80×24 and 160×48, on the demo estate with a fixed clock.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::catalog::Catalog;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::tui::app::{App, Overlay};
use posture::tui::keymap::Keymap;
use posture::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()
}

struct Console {
    app: App,
    _dir: tempfile::TempDir,
}

fn console() -> Console {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let catalog = Catalog::load(&Catalog::builtin_files());
    {
        let mut store = Store::open(&db).unwrap();
        posture::pipeline::run_and_store(
            &mut store,
            &catalog,
            &[SourceSpec::Demo],
            &[],
            90,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
    }
    // Fixed run times for stable snapshots.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE runs SET started_at = '2026-11-22T08:00:00+00:00', finished_at = '2026-11-22T08:00:05+00:00'", []).unwrap();
    drop(conn);
    let store = Store::open(&db).unwrap();
    let (keymap, _) = Keymap::new(&Default::default());
    let mut app = App::new(
        Arc::new(catalog),
        store,
        Theme::default_theme(),
        keymap,
        None,
    );
    app.clock = fixed_now;
    Console { app, _dir: dir }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(
        KeyCode::Char(c),
        if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        },
    )
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        app.on_key(key(c));
    }
}

fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    draw(app, w, h).backend().to_string()
}

/// Drill to a failing control of CIS Azure and its first failing resource.
fn to_failing_resource(app: &mut App) {
    typed(app, ":standard cis-azure-2.0");
    app.on_key(code(KeyCode::Enter));
    // facet: controls in state failed (all → passed → failed)
    app.on_key(key('f'));
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Esc));
    app.on_key(code(KeyCode::Enter));
}

#[test]
fn opening_screen_wide_and_narrow() {
    let mut c = console();
    insta::assert_snapshot!("open_160x48", screen(&mut c.app, 160, 48));
    insta::assert_snapshot!("open_80x24", screen(&mut c.app, 80, 24));
}

#[test]
fn each_pane_at_80x24() {
    let mut c = console();
    let app = &mut c.app;
    app.on_key(code(KeyCode::Tab));
    insta::assert_snapshot!("controls_80x24", screen(app, 80, 24));
    to_failing_resource(app);
    insta::assert_snapshot!("findings_80x24", screen(app, 80, 24));
    app.on_key(code(KeyCode::Tab));
    insta::assert_snapshot!("actions_80x24", screen(app, 80, 24));
}

#[test]
fn drill_to_a_failing_resource_and_open_its_detail() {
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    insta::assert_snapshot!("drill_findings_160x48", screen(app, 160, 48));
    app.on_key(code(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Resource(_))));
    insta::assert_snapshot!("resource_detail_160x48", screen(app, 160, 48));
    insta::assert_snapshot!("resource_detail_80x24", screen(app, 80, 24));
    // y queues the filled-in command for OSC 52
    app.on_key(key('y'));
    let cmd = app.clipboard.pop_front().expect("a command to copy");
    assert!(!cmd.contains('{'), "placeholders filled: {cmd}");
    // back out: the selection is kept
    let selected = app.findings.list.selected;
    app.on_key(code(KeyCode::Esc));
    assert!(app.overlay.is_none());
    app.on_key(code(KeyCode::Esc));
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.findings.list.selected, selected);
}

#[test]
fn filter_sort_help_and_back() {
    let mut c = console();
    let app = &mut c.app;
    app.on_key(key('/'));
    typed(app, "azure");
    app.on_key(code(KeyCode::Enter));
    insta::assert_snapshot!("filter_standards_160x48", screen(app, 160, 48));
    assert_eq!(app.visible_standards().len(), 1);
    app.on_key(code(KeyCode::Esc));
    assert!(app.visible_standards().len() > 1, "Esc clears the filter");
    app.on_key(key('s'));
    app.on_key(key('s'));
    insta::assert_snapshot!("sorted_by_failed_160x48", screen(app, 160, 48));
    app.on_key(key('?'));
    insta::assert_snapshot!("help_160x48", screen(app, 160, 48));
    app.on_key(code(KeyCode::Esc));
    assert!(app.overlay.is_none());
    app.on_key(key('q'));
    assert!(app.quit);
}

#[test]
fn command_line_errors_go_to_the_error_log() {
    let mut c = console();
    let app = &mut c.app;
    typed(app, ":frobnicate");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.errors.len(), 1);
    app.on_key(key('L'));
    insta::assert_snapshot!("error_log_80x24", screen(app, 80, 24));
}

#[test]
fn no_string_from_cloud_data_reaches_the_terminal_unclean() {
    let mut c = console();
    let app = &mut c.app;
    // Open the detail of every resource with a finding, at both sizes, and scan every cell.
    let run = app.run.as_ref().unwrap().id;
    let all = app
        .store
        .findings(run, &Default::default(), 0, 100_000)
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for f in all {
        if !seen.insert(f.resource.id.clone()) {
            continue;
        }
        app.run_command(&format!("resource {}", f.resource.id));
        for (w, h) in [(160, 48), (80, 24)] {
            let t = draw(app, w, h);
            for cell in t.backend().buffer().content() {
                assert!(
                    !cell.symbol().chars().any(|ch| ch.is_control()),
                    "control character drawn for {}",
                    f.resource.id
                );
            }
        }
        app.overlay = None;
    }
    assert!(seen.len() > 50);
}
