//! The panes at 120 and 80 columns: columns sized to their content (numbers never cut, text
//! cut with `…`), the title's counter, sort and filter tags, the hint line of each place (from
//! the keymap), help, and `q`/Esc closing every popup; on TestBackend with the demo estate, and
//! the actions' points against `posture actions`.

mod common;

use common::console::{Console, code, console, console_with_keys, key, press, rows, screen, typed};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::tui::app::{App, Overlay, Pane};
use posture::tui::panes::text::TextView;

fn focus(app: &mut App, pane: Pane) {
    while app.focus != pane {
        press(app, code(KeyCode::Tab));
    }
}

/// The failing resources of the CIS Azure 2.0 control with the most of them.
fn open_longest_control(app: &mut App) {
    typed(app, ":standard cis-azure-2.0");
    press(app, code(KeyCode::Enter));
    press(app, key('s'));
    press(app, key('s'));
    press(app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Findings);
}

fn ctrl_u(app: &mut App) {
    press(app, KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
}

/// Give the selected action an owner and a due date through the `o` form.
fn assign(app: &mut App, owner: &str, due: &str) {
    press(app, key('o'));
    typed(app, owner);
    press(app, code(KeyCode::Tab));
    ctrl_u(app);
    typed(app, due);
    press(app, code(KeyCode::Enter));
    assert!(app.form.is_none(), "{:?}", app.form.as_ref().map(|f| f.errors.clone()));
}

/// A JSON listing of the CLI on the console's cache.
fn cli_json(app: &App, args: &[&str]) -> Vec<serde_json::Value> {
    let out = common::posture_on(app.db_path(), "").args(args).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v.as_array().unwrap().clone()
}

fn with_owners() -> Console {
    let mut c = console();
    let app = &mut c.app;
    focus(app, Pane::Actions);
    assign(app, "platform-team", "2026-11-01");
    press(app, key('j'));
    press(app, key('j'));
    assign(app, "alice@example.com", "2026-12-15");
    c
}

#[test]
fn actions_show_owner_and_due_at_120_and_title_takes_the_rest() {
    let mut c = with_owners();
    let app = &mut c.app;
    insta::assert_snapshot!("actions_owners_120x40", screen(app, 120, 40));
    insta::assert_snapshot!("actions_owners_80x24", screen(app, 80, 24));
    let screen = rows(app, 120, 40);
    let owned = screen.iter().find(|l| l.contains("platform-team")).expect("owner shown at 120");
    assert!(owned.contains("⚑ 2026-11-01"), "overdue marker and due date: {owned}");
}

#[test]
fn action_points_are_the_clis() {
    let mut c = console();
    let app = &mut c.app;
    focus(app, Pane::Actions);
    let cli = cli_json(app, &["actions", "--format", "json"]);
    let screen = rows(app, 80, 24);
    let list: Vec<_> = app.visible_actions().into_iter().cloned().collect();
    // Each row on screen says what the CLI says for the same action: achieved/points.
    for (i, a) in list.iter().take(20).enumerate() {
        let row = cli.iter().find(|x| x["id"] == a.id.as_str()).unwrap_or_else(|| panic!("{} not in CLI", a.id));
        let figure = format!("{}/{}", row["achieved"], row["points"]);
        assert!(screen[i + 1].contains(&format!(" {figure} ")), "{} shows {}, CLI {figure}", a.id, screen[i + 1]);
    }
    // And the same order: most points at stake first.
    let ids: Vec<&str> = cli.iter().take(20).map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, list.iter().take(20).map(|a| a.id.as_str()).collect::<Vec<_>>());
}

#[test]
fn titles_show_counter_sort_and_filters() {
    let mut c = console();
    let app = &mut c.app;
    press(app, code(KeyCode::Tab));
    for _ in 0..3 {
        press(app, key('j'));
    }
    // Controls in state failed, sorted by unhealthy resources, filtered by text.
    press(app, key('f'));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Esc));
    press(app, key('s'));
    press(app, key('s'));
    press(app, key('/'));
    typed(app, "root");
    press(app, code(KeyCode::Enter));
    let top = rows(app, 120, 40)[0].clone();
    assert!(top.contains("1/") && top.contains("by unhealthy") && top.contains("/root [state=failed]"), "{top}");
    insta::assert_snapshot!("controls_filtered_120x40", screen(app, 120, 40));
    insta::assert_snapshot!("controls_filtered_80x24", screen(app, 80, 24));
}

#[test]
fn findings_counter_is_the_controls_total_and_tags_that_do_not_fit_are_summarised() {
    let mut c = console();
    let app = &mut c.app;
    open_longest_control(app);
    press(app, key('j'));
    let total = app.findings.total;
    assert!(total > 1, "{total}");
    let control = app.control().unwrap().id.clone();
    let cli = cli_json(app, &["findings", "--standard", "cis-azure-2.0", "--control", &control, "--format", "json"]);
    assert_eq!(cli.len() as u64, total);
    let top = rows(app, 80, 24)[0].clone();
    assert!(top.contains(&format!(" 2/{total} ")), "{top}");
    insta::assert_snapshot!("findings_counter_80x24", screen(app, 80, 24));
    // Four facets and a text filter: at 80 columns the tags that do not fit become "+N".
    app.facets.severity = Some(posture::model::Severity::High);
    app.facets.cloud = Some(posture::model::Cloud::Azure);
    app.facets.finding_state = Some(posture::model::FindingState::Unhealthy);
    app.facets.scope = Some("a-very-long-subscription-name-for-the-tags".into());
    app.filters.findings = "storage".into();
    app.refresh_findings();
    let top = rows(app, 80, 24)[0].clone();
    assert!(top.contains(" +"), "{top}");
    insta::assert_snapshot!("findings_tags_80x24", screen(app, 80, 24));
    insta::assert_snapshot!("findings_tags_120x40", screen(app, 120, 40));
}

/// The last row of the screen.
fn hint_line(app: &mut App, w: u16, h: u16) -> String {
    rows(app, w, h).last().cloned().unwrap_or_default()
}

#[test]
fn hints_follow_the_place_and_the_keymap() {
    let mut c = console_with_keys(&[("exempt", &["w"]), ("assign", &["ctrl-o"]), ("yank", &["Y"])]);
    let app = &mut c.app;
    let standards = hint_line(app, 120, 40);
    assert!(standards.starts_with("Enter controls · d details"), "{standards}");
    assert!(!standards.contains("exempt"), "{standards}");
    focus(app, Pane::Findings);
    let findings = hint_line(app, 120, 40);
    assert!(findings.contains("w exempt") && findings.contains("Ctrl-O owner") && findings.contains("Y copy fix"));
    focus(app, Pane::Actions);
    let actions = hint_line(app, 120, 40);
    assert!(actions.contains("Ctrl-O owner & due"), "{actions}");
    // Narrow: fewer hints, none cut.
    let narrow = hint_line(app, 80, 24);
    assert!(narrow.trim_end().len() < actions.trim_end().len() && !narrow.contains('…'), "{narrow}");
    assert!(narrow.contains("? help"), "{narrow}");
    press(app, key('?'));
    assert!(hint_line(app, 80, 24).contains("j/k scroll"));
    press(app, code(KeyCode::Esc));
    press(app, KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL));
    assert!(app.form.is_some());
    let form = hint_line(app, 80, 24);
    assert!(form.contains("Tab next field") && form.contains("Enter save") && form.contains("Esc cancel"), "{form}");
    press(app, code(KeyCode::Esc));
    press(app, key('/'));
    let prompt = hint_line(app, 80, 24);
    assert!(prompt.starts_with("/▏") && prompt.contains("Esc clear"), "{prompt}");
    insta::assert_snapshot!("hints_actions_120x40", hint_line(app, 120, 40));
}

#[test]
fn help_names_keys_as_typed_indents_wraps_and_scrolls() {
    let mut c = console();
    let app = &mut c.app;
    press(app, key('?'));
    insta::assert_snapshot!("help_120x40", screen(app, 120, 40));
    insta::assert_snapshot!("help_80x24", screen(app, 80, 24));
    let mut all = String::new();
    for _ in 0..8 {
        all.push_str(&screen(app, 80, 24));
        press(app, code(KeyCode::PageDown));
    }
    insta::assert_snapshot!("help_end_80x24", screen(app, 80, 24));
    for want in ["Shift-Tab", "PgUp", "Ctrl-C", "In a form", "Esc, Ctrl-C", "⚑", "⊘", "◷", "points achieved"] {
        assert!(all.contains(want), "help lacks {want}");
    }
    assert!(!all.contains("backtab"));
}

/// Opens a popup.
type Open = fn(&mut App);

/// Open a popup, close it with `key`; the console stays open.
fn closes(app: &mut App, open: Open, close: KeyEvent, what: &str) {
    open(app);
    assert!(app.overlay.is_some(), "{what} did not open");
    press(app, close);
    assert!(app.overlay.is_none(), "{what} stayed open after {:?}", close.code);
    assert!(!app.quit, "{what}: {:?} quit the console", close.code);
}

#[test]
fn q_and_esc_close_every_popup() {
    let mut c = console();
    let app = &mut c.app;
    let to_findings = |app: &mut App| {
        typed(app, ":standard cis-azure-2.0");
        press(app, code(KeyCode::Enter));
        press(app, key('s'));
        press(app, key('s'));
        press(app, code(KeyCode::Enter));
    };
    to_findings(app);
    let popups: Vec<(&str, Open)> = vec![
        ("help", |a: &mut App| press(a, key('?'))),
        ("error log", |a: &mut App| press(a, key('L'))),
        ("facets", |a: &mut App| press(a, key('f'))),
        ("resource", |a: &mut App| press(a, code(KeyCode::Enter))),
        ("audit", |a: &mut App| press(a, key('A'))),
        ("text", (|a: &mut App| a.overlay = Some(Overlay::Text(TextView::new("t", vec!["x".into()]))))),
        (
            "control",
            (|a: &mut App| {
                a.focus = Pane::Controls;
                press(a, key('d'));
            }),
        ),
        (
            "standard",
            (|a: &mut App| {
                a.focus = Pane::Standards;
                press(a, key('d'));
            }),
        ),
    ];
    for (what, open) in &popups {
        for close in [key('q'), code(KeyCode::Esc)] {
            if matches!(*what, "resource" | "audit" | "facets") {
                app.focus = Pane::Findings;
            }
            closes(app, *open, close, what);
        }
    }
}

#[test]
fn typing_a_search_in_a_resource_detail_moves_to_the_first_match() {
    let mut c = console();
    let app = &mut c.app;
    focus(app, Pane::Findings);
    press(app, code(KeyCode::Enter));
    let top = rows(app, 120, 40).join("\n");
    assert!(matches!(app.overlay, Some(Overlay::Resource(_))), "{top}");
    // A check id below the first lines: the view starts at its line.
    typed(app, "/security_contact");
    let shown = rows(app, 120, 40).join("\n");
    let Some(Overlay::Resource(d)) = &app.overlay else { panic!("closed") };
    assert!(d.scroll > 0, "the view moved to the match:\n{shown}");
    assert!(shown.lines().nth(1).is_some_and(|l| l.contains("aws.account.security_contact")), "{shown}");
}

#[test]
fn a_filter_that_matches_no_failing_resource_says_so_and_how_to_clear_it() {
    let mut c = console();
    let app = &mut c.app;
    open_longest_control(app);
    press(app, key('/'));
    typed(app, "no-such-resource-anywhere");
    let shown = rows(app, 80, 24);
    assert!(shown[0].contains("0/0"), "{}", shown[0]);
    assert!(shown[1].contains("No failing resource matches the filter (Esc clears it)."), "{}", shown[1]);
    press(app, code(KeyCode::Esc));
    assert!(!rows(app, 80, 24)[1].contains("matches the filter"));
}
