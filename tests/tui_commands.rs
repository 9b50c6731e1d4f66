//! The `:` command line on ratatui's TestBackend: `:diff` with its arguments as a list that
//! opens resources, `:resource` by id, name or part with its picker, the pane commands, the
//! standard aliases and Tab completion; at 120×40 and 80×24 with a fixed clock.

mod common;

use common::console::{code, command, demo_console as console_with, key, press, screen, typed};
use crossterm::event::KeyCode;
use posture::store::Store;
use posture::tui::app::{App, Overlay, Pane, Prompt};
use posture::tui::panes::diff::Section;

/// Resources deleted from a run to make them appear and disappear in the diff.
const APPEARED: &str = "bas-kestrel-prod";
const DISAPPEARED: &str = "disk-kestrel-dev-olddata";

/// Two runs of the demo estate, changed in each way a diff shows: only unhealthy findings are
/// stored, so one made healthy in run 2 is fixed and one made healthy in run 1 is a new
/// failure; a resource appeared, one disappeared, a standard and a control changed.
fn two_runs() -> common::console::Console {
    console_with(
        2,
        &format!(
            "UPDATE findings SET state = 0 WHERE rowid = (SELECT rowid FROM findings WHERE run_id = 2 AND state = 1 ORDER BY name, check_id LIMIT 1);
             UPDATE findings SET state = 0 WHERE rowid = (SELECT rowid FROM findings WHERE run_id = 1 AND state = 1 ORDER BY name DESC, check_id LIMIT 1);
             DELETE FROM findings WHERE run_id = 1 AND rid IN (SELECT rid FROM resources WHERE run_id = 1 AND name = '{APPEARED}');
             DELETE FROM resources WHERE run_id = 1 AND name = '{APPEARED}';
             DELETE FROM findings WHERE run_id = 2 AND rid IN (SELECT rid FROM resources WHERE run_id = 2 AND name = '{DISAPPEARED}');
             DELETE FROM resources WHERE run_id = 2 AND name = '{DISAPPEARED}';
             UPDATE standard_summaries SET pct = pct + 2.5 WHERE run_id = 2 AND standard_id = 'cis-azure-2.0';
             UPDATE control_summaries SET state = 'passed' WHERE run_id = 2 AND standard_id = 'cis-azure-2.0'
                AND ord = (SELECT min(ord) FROM control_summaries WHERE run_id = 2 AND standard_id = 'cis-azure-2.0' AND state = 'failed');"
        ),
    )
}

fn notice(app: &App) -> String {
    app.notice.as_ref().map(|n| n.text.clone()).unwrap_or_default()
}

fn last_error(app: &App) -> String {
    app.errors.last().map(|n| n.text.clone()).unwrap_or_default()
}

fn diff_runs(app: &App) -> Option<(i64, i64)> {
    match &app.overlay {
        Some(Overlay::Diff(v)) => Some(v.runs()),
        _ => None,
    }
}

fn diff_row(app: &App) -> Option<(Section, usize)> {
    match &app.overlay {
        Some(Overlay::Diff(v)) => v.selected(),
        _ => None,
    }
}

fn resource_open(app: &App) -> Option<String> {
    match &app.overlay {
        Some(Overlay::Resource(d)) => Some(d.id.clone()),
        _ => None,
    }
}

#[test]
fn diff_is_a_list_in_sections_that_opens_resources_in_their_run() {
    let mut c = two_runs();
    let app = &mut c.app;
    command(app, "diff");
    assert_eq!(diff_runs(app), Some((1, 2)));
    insta::assert_snapshot!("diff_120x40", screen(app, 120, 40));
    insta::assert_snapshot!("diff_80x24", screen(app, 80, 24));

    // Enter on a new failure opens its resource (of the newer run); Esc comes back to the diff.
    assert_eq!(diff_row(app), Some((Section::NewFailures, 0)));
    press(app, code(KeyCode::Enter));
    let opened = resource_open(app).expect("the resource detail");
    let s = screen(app, 120, 40);
    assert!(!s.contains("reading the resource") && s.contains("Fails 5 check(s)"), "its findings are read: {s}");
    press(app, code(KeyCode::Esc));
    assert_eq!(diff_row(app), Some((Section::NewFailures, 0)), "back in the diff, where it was");

    // A fixed finding's resource is shown as it was in the older run.
    while diff_row(app).is_some_and(|(s, _)| s != Section::Fixed) {
        press(app, key('j'));
    }
    press(app, code(KeyCode::Enter));
    assert!(resource_open(app).is_some_and(|id| id != opened));
    assert!(notice(app).ends_with("as it was in run 1"), "{}", notice(app));
    press(app, key('q'));

    // The disappeared resource is only in run 1: it opens there.
    while diff_row(app).is_some_and(|(s, _)| s != Section::Disappeared) {
        press(app, key('j'));
    }
    press(app, code(KeyCode::Enter));
    assert!(resource_open(app).is_some_and(|id| id.contains(DISAPPEARED)), "{:?}", resource_open(app));
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    press(app, code(KeyCode::Esc));

    // g is the first row, G the last; PgDn/PgUp move by pages.
    press(app, key('G'));
    press(app, key('g'));
    assert_eq!(diff_row(app), Some((Section::NewFailures, 0)));
    press(app, code(KeyCode::PageDown));
    press(app, code(KeyCode::PageUp));
    assert_eq!(diff_row(app), Some((Section::NewFailures, 0)));
    press(app, code(KeyCode::Esc));
    assert!(app.overlay.is_none(), "Esc closes the diff");
    command(app, "diff");
    press(app, key('q'));
    assert!(app.overlay.is_none() && !app.quit, "q closes it too");

    // Enter on the last row, a control's change, shows that control in the panes.
    command(app, "diff");
    press(app, key('G'));
    assert_eq!(diff_row(app).map(|r| r.0), Some(Section::Controls));
    press(app, code(KeyCode::Enter));
    assert!(app.overlay.is_none(), "{:?}", app.errors);
    assert_eq!(app.standard().map(|s| s.id.as_str()), Some("cis-azure-2.0"));
    assert_eq!(app.control().map(|c| c.id.as_str()), Some("1.1.1"));
    assert_eq!(app.focus, Pane::Controls);
}

#[test]
fn diff_takes_one_or_two_run_ids_and_names_a_bad_one() {
    let mut c = console_with(3, "");
    let app = &mut c.app;
    command(app, "diff 1 3");
    assert_eq!(diff_runs(app), Some((1, 3)));
    press(app, code(KeyCode::Esc));
    // One id: that run against the run shown (3), older first.
    command(app, "diff 1");
    assert_eq!(diff_runs(app), Some((1, 3)));
    press(app, code(KeyCode::Esc));
    command(app, "diff 3 2");
    assert_eq!(diff_runs(app), Some((3, 2)), "A → B as typed");
    press(app, code(KeyCode::Esc));
    // Against the run shown, which is an older one once pinned.
    command(app, "run 1");
    command(app, "diff 2");
    assert_eq!(diff_runs(app), Some((1, 2)));
    press(app, code(KeyCode::Esc));
    command(app, "latest");
    command(app, "diff");
    assert_eq!(diff_runs(app), Some((2, 3)), "the run shown against the one before it");
    press(app, code(KeyCode::Esc));

    for (line, says) in [
        ("diff 7", "no run 7"),
        ("diff 1 9", "no run 9"),
        ("diff x", "x is not a run id"),
        ("diff 3", "run 3 is the run shown"),
        ("diff 2 2", "the same run twice"),
        ("diff 1 2 3", "at most two run ids"),
    ] {
        command(app, line);
        assert!(app.overlay.is_none(), "{line}: no popup");
        assert!(last_error(app).contains(says), "{line}: {}", last_error(app));
    }
    insta::assert_snapshot!("diff_unknown_run_80x24", {
        command(app, "diff 7");
        screen(app, 80, 24)
    });
}

#[test]
fn nothing_changed_says_so_and_a_single_run_has_nothing_to_compare() {
    let mut c = console_with(2, "");
    let app = &mut c.app;
    command(app, "diff");
    let s = screen(app, 80, 24);
    assert!(s.contains("Nothing changed between run 1 and run 2."), "{s}");
    assert!(!s.contains("(0)"), "no empty section: {s}");
    insta::assert_snapshot!("diff_nothing_changed_80x24", s);

    let mut c = console_with(1, "");
    command(&mut c.app, "diff");
    assert!(c.app.overlay.is_none());
    assert_eq!(notice(&c.app), "no earlier run to compare with");
}

#[test]
fn resource_by_full_id_name_or_unique_part_ignoring_case() {
    let mut c = console_with(1, "");
    let app = &mut c.app;
    let store = Store::open(app.db_path()).unwrap();
    let id = store.find_resources(1, "aks-kestrel-prod", 50).unwrap()[0].id.clone();
    for typed_as in [id.as_str(), "aks-kestrel-prod", "AKS-Kestrel-Prod", "COSMOS"] {
        command(app, &format!("resource {typed_as}"));
        let opened = resource_open(app).unwrap_or_else(|| panic!("{typed_as}: {}", last_error(app)));
        assert!(opened.ends_with(if typed_as == "COSMOS" { "cosmos-kestrel-events-prod" } else { "aks-kestrel-prod" }));
        press(app, code(KeyCode::Esc));
        assert!(app.overlay.is_none());
    }
    command(app, "resource no-such-thing");
    assert!(app.overlay.is_none());
    assert_eq!(last_error(app), ":resource no-such-thing: no resource of run 1 has an id or name containing it");
    command(app, "resource");
    assert!(last_error(app).contains("needs a resource id, a name or part of one"));
}

#[test]
fn several_matches_open_a_picker_and_enter_opens_one() {
    let mut c = console_with(1, "");
    let app = &mut c.app;
    // Two resources are named bastion-01 (an instance and its disk).
    command(app, "res bastion-01");
    assert!(matches!(app.overlay, Some(Overlay::Pick(_))));
    insta::assert_snapshot!("resource_picker_80x24", screen(app, 80, 24));
    press(app, key('j'));
    let chosen = match &app.overlay {
        Some(Overlay::Pick(p)) => p.selected().unwrap().id.clone(),
        _ => unreachable!(),
    };
    press(app, code(KeyCode::Enter));
    assert_eq!(resource_open(app), Some(chosen));
    press(app, code(KeyCode::Esc));
    assert!(matches!(app.overlay, Some(Overlay::Pick(_))), "back to the picker");
    press(app, code(KeyCode::Esc));
    assert!(app.overlay.is_none());

    // A part many ids share: a bounded list, and it says so.
    command(app, "resource kestrel");
    let Some(Overlay::Pick(_)) = &app.overlay else { panic!("{:?}", app.overlay) };
    let s = screen(app, 120, 40);
    assert!(s.contains("50 resources of run 1 match \"kestrel\" (the first ones: type more to narrow)"), "{s}");
}

#[test]
fn pane_commands_focus_their_pane() {
    let mut c = console_with(1, "");
    let app = &mut c.app;
    for (cmd, pane) in [
        ("controls", Pane::Controls),
        ("findings", Pane::Findings),
        ("actions", Pane::Actions),
        ("standards", Pane::Standards),
    ] {
        command(app, cmd);
        assert_eq!(app.focus, pane, ":{cmd}");
    }
    command(app, "controls");
    insta::assert_snapshot!("controls_command_80x24", screen(app, 80, 24));
}

#[test]
fn standard_aliases_switch_standard_or_say_which_they_could_mean() {
    let mut c = console_with(1, "");
    let app = &mut c.app;
    let shown = |app: &App| app.standard().map(|s| s.id.clone()).unwrap_or_default();
    command(app, "nist");
    assert_eq!((shown(app), app.focus), ("nist-800-53-rev5-moderate".to_string(), Pane::Controls));
    command(app, "soc2");
    assert_eq!(shown(app), "soc2");
    command(app, "s 27001");
    assert_eq!(shown(app), "iso-27001-2022");
    command(app, "cis-azure-2.0");
    assert_eq!(shown(app), "cis-azure-2.0");
    // Versions of one standard: the newest, and it says which others there are.
    command(app, "cis-azure");
    assert_eq!(shown(app), "cis-azure-6.0");
    assert_eq!(notice(app), "cis-azure-6.0: the newest of cis-azure-2.0, cis-azure-6.0");
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    command(app, "cis");
    assert_eq!(shown(app), "cis-azure-6.0", "unchanged");
    assert_eq!(
        last_error(app),
        ":cis: more than one standard matches (cis-aws-7.0, cis-azure-2.0, cis-azure-6.0, cis-gcp-5.0): type more of the id"
    );
    // A standard filtered out of the list is still reached (the filter is cleared).
    press(app, code(KeyCode::Esc));
    typed(app, "/PCI");
    press(app, code(KeyCode::Enter));
    command(app, "gcp");
    assert_eq!(shown(app), "cis-gcp-5.0");

    command(app, "frobnicate");
    let e = last_error(app);
    assert!(
        e.starts_with(":frobnicate: not a command or a standard (commands: standard, assessment, resource, run,"),
        "{e}"
    );
    assert!(e.contains("diff") && e.contains("controls") && e.contains("quit; Tab completes)"), "{e}");
    command(app, "standard hipaa");
    assert!(
        last_error(app).starts_with(":standard hipaa: no such standard (known: cis-aws-7.0,"),
        "{}",
        last_error(app)
    );
}

fn prompt_line(app: &App) -> Option<String> {
    match &app.prompt {
        Some(Prompt::Command(i)) => Some(i.value().to_string()),
        _ => None,
    }
}

#[test]
fn tab_completes_commands_and_standard_ids_and_cycles_candidates() {
    let mut c = console_with(1, "");
    let app = &mut c.app;
    typed(app, ":con");
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("controls "));
    press(app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Controls);

    typed(app, ":s cis-az");
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("s cis-azure-"));
    // The candidates show in the status line.
    let s = screen(app, 80, 24);
    assert!(s.contains(":s cis-azure-▏  cis-azure-2.0  cis-azure-6.0"), "{s}");
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("s cis-azure-2.0"));
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("s cis-azure-6.0"));
    insta::assert_snapshot!("tab_cycle_80x24", screen(app, 80, 24));
    press(app, code(KeyCode::BackTab));
    assert_eq!(prompt_line(app).as_deref(), Some("s cis-azure-2.0"));
    press(app, code(KeyCode::Enter));
    assert_eq!(app.standard().map(|s| s.id.as_str()), Some("cis-azure-2.0"));

    // A word that is no command completes to a standard id; nothing to complete keeps the line.
    typed(app, ":nis");
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("nist-800-53-rev5-moderate "));
    press(app, code(KeyCode::Esc));
    typed(app, ":zzz");
    press(app, code(KeyCode::Tab));
    assert_eq!(prompt_line(app).as_deref(), Some("zzz"));
    press(app, code(KeyCode::Esc));
    // A new prompt starts without the last one's candidates.
    typed(app, ":a");
    press(app, code(KeyCode::Tab));
    press(app, code(KeyCode::Esc));
    press(app, key(':'));
    assert!(app.completion_hint().is_none());
}
