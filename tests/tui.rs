//! The console on ratatui's TestBackend: snapshots of each pane and of key sequences, at
//! 80×24 and 160×48, on the demo estate with a fixed clock.

mod common;

use common::console::{code, console, console_of, key, press, screen, typed};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::catalog::Catalog;
use posture::sources::SourceSpec;
use posture::store::Store;
use posture::tui::app::{App, Overlay};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// The cache, read beside the console (the console's own connection is its reader's).
fn store_of(app: &App) -> Store {
    Store::open(app.db_path()).unwrap()
}

fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    app.settle();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t
}

/// Drill to a failing control of CIS Azure and its first failing resource.
fn to_failing_resource(app: &mut App) {
    typed(app, ":standard cis-azure-2.0");
    press(app, code(KeyCode::Enter));
    // facet: controls in state failed (all → passed → failed)
    press(app, key('f'));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Esc));
    press(app, code(KeyCode::Enter));
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
    press(app, code(KeyCode::Tab));
    insta::assert_snapshot!("controls_80x24", screen(app, 80, 24));
    to_failing_resource(app);
    insta::assert_snapshot!("findings_80x24", screen(app, 80, 24));
    press(app, code(KeyCode::Tab));
    insta::assert_snapshot!("actions_80x24", screen(app, 80, 24));
}

#[test]
fn drill_to_a_failing_resource_and_open_its_detail() {
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    insta::assert_snapshot!("drill_findings_160x48", screen(app, 160, 48));
    press(app, code(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Resource(_))));
    insta::assert_snapshot!("resource_detail_160x48", screen(app, 160, 48));
    insta::assert_snapshot!("resource_detail_80x24", screen(app, 80, 24));
    // y queues the filled-in command for OSC 52
    press(app, key('y'));
    let cmd = app.clipboard.pop_front().expect("a command to copy");
    let placeholders = ["{name}", "{id}", "{scope}", "{region}", "{resource_group}", "{type}", "{short_id}"];
    assert!(!placeholders.iter().any(|p| cmd.contains(p)), "placeholders filled: {cmd}");
    // back out: the selection is kept
    let selected = app.findings.list.selected;
    press(app, code(KeyCode::Esc));
    assert!(app.overlay.is_none());
    press(app, code(KeyCode::Esc));
    press(app, code(KeyCode::Enter));
    assert_eq!(app.findings.list.selected, selected);
}

#[test]
fn filter_sort_help_and_back() {
    let mut c = console();
    let app = &mut c.app;
    press(app, key('/'));
    typed(app, "azure");
    press(app, code(KeyCode::Enter));
    insta::assert_snapshot!("filter_standards_160x48", screen(app, 160, 48));
    assert_eq!(app.visible_standards().len(), 2, "CIS Azure 2.0 and 6.0");
    // a second `/` is a new search, not "azure" + "gcp"
    press(app, key('/'));
    typed(app, "gcp");
    press(app, code(KeyCode::Enter));
    assert_eq!(app.visible_standards().len(), 1, "CIS GCP");
    press(app, code(KeyCode::Esc));
    assert!(app.visible_standards().len() > 1, "Esc clears the filter");
    // a controls filter does not follow the user to another standard
    press(app, code(KeyCode::Tab));
    press(app, key('/'));
    typed(app, "no control is called this");
    press(app, code(KeyCode::Enter));
    assert!(app.visible_controls().is_empty());
    press(app, code(KeyCode::BackTab));
    press(app, key('j'));
    assert!(!app.visible_controls().is_empty(), "the next standard's controls are all shown");
    press(app, key('k'));
    press(app, key('s'));
    press(app, key('s'));
    insta::assert_snapshot!("sorted_by_failed_160x48", screen(app, 160, 48));
    press(app, key('?'));
    insta::assert_snapshot!("help_160x48", screen(app, 160, 48));
    press(app, code(KeyCode::Esc));
    assert!(app.overlay.is_none());
    // `q` in a popup closes the popup, not the console
    press(app, key('?'));
    press(app, key('q'));
    assert!(app.overlay.is_none() && !app.quit, "q closed help only");
    press(app, key('L'));
    press(app, key('q'));
    assert!(app.overlay.is_none() && !app.quit, "q closed the error log only");
    press(app, key('?'));
    press(app, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "Ctrl-C quits from a popup");
    app.quit = false;
    press(app, code(KeyCode::Esc));
    press(app, key('q'));
    assert!(app.quit, "q quits from the main view");
}

#[test]
fn command_line_errors_go_to_the_error_log() {
    let mut c = console();
    let app = &mut c.app;
    typed(app, ":frobnicate");
    press(app, code(KeyCode::Enter));
    assert_eq!(app.errors.len(), 1);
    press(app, key('L'));
    insta::assert_snapshot!("error_log_80x24", screen(app, 80, 24));
}

#[test]
fn no_string_from_cloud_data_reaches_the_terminal_unclean() {
    let mut c = console();
    let app = &mut c.app;
    // Open the detail of every resource with a finding, at both sizes, and scan every cell.
    let run = app.run.as_ref().unwrap().id;
    let all = store_of(app).findings(run, &Default::default(), 0, 100_000).unwrap();
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

/// A control's detail shows Defender for Cloud's state beside posture's, when Defender's
/// regulatory compliance was imported with the run (tests/data/defender).
#[test]
fn control_detail_shows_defender_beside_posture() {
    let defender = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/defender");
    let spec = SourceSpec::Tool { tool: posture::sources::Tool::Defender, path: defender };
    let mut c = console_of(&[SourceSpec::Demo, spec]);
    let app = &mut c.app;
    typed(app, ":standard cis-azure-2.0");
    press(app, code(KeyCode::Enter));
    press(app, key('d'));
    let s = screen(app, 120, 36);
    assert!(s.contains("Defender for Cloud (CIS-Azure-2.0.0)"), "{s}");
    insta::assert_snapshot!("control_detail_defender_120x36", s);
}

fn ctrl_u(app: &mut App) {
    press(app, KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
}

/// Select the first manual control of CIS Azure.
fn to_manual_control(app: &mut App) {
    typed(app, ":standard cis-azure-2.0");
    press(app, code(KeyCode::Enter));
    // facet: state manual (all → passed → failed → skipped → manual)
    press(app, key('f'));
    for _ in 0..4 {
        press(app, code(KeyCode::Enter));
    }
    press(app, code(KeyCode::Esc));
}

#[test]
fn attest_a_control_from_the_console() {
    let mut c = console();
    let app = &mut c.app;
    app.attester = "alice".into();
    to_manual_control(app);
    let control = app.control().unwrap().id.clone();
    press(app, key('a'));
    assert!(app.form.is_some());
    insta::assert_snapshot!("attest_form_160x48", screen(app, 160, 48));
    // note, then a past expiry: refused next to the field, nothing saved
    press(app, code(KeyCode::Tab));
    press(app, code(KeyCode::Tab));
    typed(app, "quarterly review done");
    press(app, code(KeyCode::Tab));
    press(app, code(KeyCode::Tab));
    ctrl_u(app);
    typed(app, "2001-01-01");
    press(app, code(KeyCode::Enter));
    let form = app.form.as_ref().expect("form stays open");
    assert!(form.errors.iter().any(|e| e.1.contains("in the past")), "{:?}", form.errors);
    assert!(form.errors.iter().any(|e| e.1.contains("needed when passed")), "both problems at once: {:?}", form.errors);
    insta::assert_snapshot!("attest_form_error_80x24", screen(app, 80, 24));
    assert!(store_of(app).attestations().unwrap().is_empty());
    // fix both and save: the control passes at once
    ctrl_u(app);
    typed(app, "2099-12-31");
    press(app, code(KeyCode::BackTab));
    typed(app, "https://wiki.example.com/q4-access-review");
    press(app, code(KeyCode::Enter));
    assert!(app.form.is_none(), "{:?}", app.notice);
    let saved = store_of(app).attestations().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].attester, "alice");
    assert_eq!(saved[0].note, "quarterly review done");
    app.facets.control_state = None;
    app.refresh_lists();
    let s = app.standard().unwrap();
    let ctl = s.controls.iter().find(|x| x.id == control).unwrap();
    assert_eq!(ctl.state, posture::model::ControlState::Passed);
}

#[test]
fn cancelling_a_typed_form_asks_first() {
    let mut c = console();
    let app = &mut c.app;
    to_manual_control(app);
    press(app, key('a'));
    press(app, code(KeyCode::Esc));
    assert!(app.form.is_none(), "an untouched form closes at once");
    press(app, key('a'));
    press(app, code(KeyCode::Tab));
    typed(app, "x");
    press(app, code(KeyCode::Esc));
    assert!(app.form.as_ref().unwrap().confirm_cancel);
    press(app, key('n'));
    assert!(app.form.is_some(), "n keeps editing");
    press(app, code(KeyCode::Esc));
    press(app, key('y'));
    assert!(app.form.is_none());
}

#[test]
fn a_cache_that_cannot_be_written_keeps_the_form_open() {
    let mut c = console();
    let app = &mut c.app;
    to_manual_control(app);
    // Simulate a write failure (a full disk, a read-only file) at save time.
    let db = app.db_path().to_path_buf();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TRIGGER full BEFORE INSERT ON attestations BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;")
        .unwrap();
    press(app, key('a'));
    press(app, code(KeyCode::Tab));
    press(app, code(KeyCode::Tab));
    typed(app, "reviewed");
    press(app, code(KeyCode::Tab));
    typed(app, "https://wiki.example.com/review");
    press(app, code(KeyCode::Enter));
    let form = app.form.as_ref().expect("the form stays open");
    assert!(form.errors[0].1.contains("not saved"), "{:?}", form.errors);
    assert!(store_of(app).verify_audit().unwrap().ok, "nothing half-written");
}

#[test]
fn exempt_a_finding_and_assign_an_action_from_the_console() {
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    let before = app.findings.total;
    let f = app.finding().unwrap().clone();
    press(app, key('e'));
    insta::assert_snapshot!("exempt_form_80x24", screen(app, 80, 24));
    press(app, code(KeyCode::Tab));
    press(app, code(KeyCode::Tab));
    typed(app, "compensated by a conditional access policy");
    press(app, code(KeyCode::Enter));
    assert!(app.form.is_none(), "{:?}", app.form.as_ref().map(|f| f.errors.clone()));
    let ex = store_of(app).exemptions().unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].resource.as_deref(), Some(f.resource.id.as_str()));
    // Its control no longer fails (it leaves the "failed" facet at once), and the resource shows
    // the finding as exempt.
    assert!(app.control().is_none_or(|c| c.id != "1.23" || before > 1));
    app.run_command(&format!("resource {}", f.resource.id));
    app.settle();
    let Some(Overlay::Resource(d)) = &app.overlay else { panic!("no detail") };
    let row = d.findings.iter().find(|x| x.check == f.check).unwrap();
    assert_eq!(row.state, posture::model::FindingState::Exempt);
    press(app, code(KeyCode::Esc));
    // owner of the first improvement action
    press(app, code(KeyCode::Tab));
    let action = app.visible_actions()[app.actions.selected].id.clone();
    press(app, key('o'));
    typed(app, "bob");
    press(app, code(KeyCode::Tab));
    ctrl_u(app);
    typed(app, "2026-12-01");
    press(app, code(KeyCode::Enter));
    assert!(app.form.is_none());
    let a = app.rollup.as_ref().unwrap().actions.iter().find(|a| a.id == action).unwrap().clone();
    assert_eq!(a.owner.as_deref(), Some("bob"));
}

#[test]
fn odd_sizes_do_not_break_the_screen() {
    let mut c = console();
    let app = &mut c.app;
    for (w, h) in [(250, 70), (20, 6), (80, 24), (119, 30), (120, 30)] {
        let s = screen(app, w, h);
        assert!(!s.is_empty());
    }
    insta::assert_snapshot!("open_250x70", screen(app, 250, 70));
}

#[test]
fn help_scrolls_at_80x24_and_says_so() {
    let mut c = console();
    let app = &mut c.app;
    press(app, key('?'));
    let first = screen(app, 80, 24);
    assert!(first.contains("↓"), "a sign that there is more:\n{first}");
    for _ in 0..40 {
        press(app, key('j'));
    }
    insta::assert_snapshot!("help_scrolled_80x24", screen(app, 80, 24));
    press(app, code(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn a_skipped_or_unsupported_control_says_why() {
    // Only the Azure part of the demo: AWS controls have no source, some Azure ones nothing to judge.
    let azure = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure");
    let mut c = console_of(&[SourceSpec::Path { path: azure, cloud: Some(posture::model::Cloud::Azure) }]);
    let app = &mut c.app;
    press(app, code(KeyCode::Tab)); // controls of the first standard (CIS AWS)
    for _ in 0..100 {
        if app.control().is_some_and(|c| c.reason.is_some()) {
            break;
        }
        press(app, key('j'));
    }
    let reason = app.control().and_then(|c| c.reason.clone()).expect("an AWS control without a source says why");
    assert_eq!(reason, "no source for aws");
    let s = screen(app, 160, 48);
    assert!(s.contains("unsupported: no source for aws"), "{s}");
}

/// The screen as drawn now, without waiting for the reader.
fn screen_now(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| posture::tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The console holds no connection to the cache: keys and frames go on while the reader is
/// held, showing a loading mark, and a frame never asks for anything.
#[test]
fn keys_and_frames_never_wait_for_the_cache() {
    use posture::tui::reader::Kind;
    let mut c = console();
    let app = &mut c.app;
    let hold = app.hold_reader();
    for k in ":standard cis-azure-2.0".chars() {
        app.on_key(key(k));
    }
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Enter)); // drill into the first control's failing resources
    app.flush();
    let s = screen_now(app, 160, 48);
    assert!(s.contains("⟳ reading the failing resources"), "{s}");
    let before = app.requests_sent(Kind::Findings);
    for _ in 0..5 {
        screen_now(app, 160, 48);
    }
    assert_eq!(app.requests_sent(Kind::Findings), before, "a frame asks for nothing");
    drop(hold);
    app.settle();
    assert!(app.findings.total > 0 && app.finding().is_some(), "the rows came: {}", app.findings.total);
    assert!(!screen_now(app, 160, 48).contains('⟳'));
    // Rows not loaded (as far down a long list): drawn as a gap until their window is read.
    let hold = app.hold_reader();
    let last = app.findings.total as usize - 1;
    app.findings.list.select(last);
    app.findings.rows.clear();
    app.ensure_findings_window();
    assert!(screen_now(app, 160, 48).contains('…'));
    let rows_before = app.findings.rows.len();
    let asked = app.requests_sent(Kind::Findings);
    screen_now(app, 160, 48);
    assert_eq!(app.requests_sent(Kind::Findings), asked, "asked at the next flush, not by the frame");
    app.flush();
    assert_eq!(app.requests_sent(Kind::Findings), asked + 1);
    assert_eq!(app.findings.rows.len(), rows_before);
    drop(hold);
    app.settle();
    assert!(app.finding().is_some(), "the window around the last row is loaded");
    // Enter opens the resource at once; its findings and document are read after.
    let hold = app.hold_reader();
    app.on_key(code(KeyCode::Enter));
    assert!(screen_now(app, 160, 48).contains("reading the resource from the cache"));
    drop(hold);
    app.settle();
    let s = screen_now(app, 160, 48);
    assert!(!s.contains("reading the resource") && s.contains("Properties"), "{s}");
}

/// Typing a filter asks the cache once for the whole batch of keys, not once per key.
#[test]
fn a_typed_filter_is_one_request() {
    use posture::tui::reader::Kind;
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    let all = app.findings.total;
    let before = app.requests_sent(Kind::Findings);
    app.on_key(key('/'));
    let name = app.finding().unwrap().resource.name.clone();
    for ch in name.chars() {
        app.on_key(key(ch));
    }
    assert_eq!(app.requests_sent(Kind::Findings), before, "keys only say what is wanted");
    app.flush();
    app.flush();
    assert_eq!(app.requests_sent(Kind::Findings), before + 1);
    app.settle();
    assert!(app.findings.total >= 1 && app.findings.total <= all, "{} of {all}", app.findings.total);
    assert!(app.findings.rows.iter().all(|r| r.resource.name.contains(&name) || r.resource.id.contains(&name)));
}

/// `:reload` swaps the console's catalog for the worker's new one and recomputes the rollup.
#[test]
fn a_reloaded_catalog_is_the_consoles_too() {
    let mut c = console();
    let app = &mut c.app;
    assert!(!app.visible_standards().is_empty());
    let empty = Arc::new(Catalog::default());
    let catalog = posture::worker::SharedCatalog(Arc::clone(&empty));
    app.on_worker(posture::worker::Event::CatalogReloaded { catalog, errors: Vec::new() });
    app.settle();
    assert!(Arc::ptr_eq(&app.catalog, &empty));
    assert!(app.visible_standards().is_empty(), "the rollup follows the new catalog");
}
