//! Standards on and off, assessments and the per-scope breakdown in the console, on
//! ratatui's TestBackend over the demo estate with a fixed clock.

mod common;

use common::console::{code, command, configured as console, key, press, screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::config::Config;
use posture::store::Store;
use posture::tui::app::{App, Overlay, Pane};

const SCOPE_A: &str = "3f6c2a1e-8b4d-4e27-9a15-6c0d7e2f9b31";

fn shown(app: &App) -> Vec<String> {
    app.visible_standards().iter().map(|s| s.id.clone()).collect()
}

#[test]
fn x_switches_a_standard_off_and_on_and_the_choice_is_kept_beside_the_cache() {
    let mut c = console("");
    let app = &mut c.app;
    let before = app.visible_standards().len();
    command(app, "standard cis-azure-2.0");
    press(app, KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    press(app, key('x'));
    assert_eq!(app.visible_standards().len(), before - 1);
    assert!(!shown(app).contains(&"cis-azure-2.0".to_string()), "a standard switched off is hidden");
    insta::assert_snapshot!("standard_off_hidden_160x48", screen(app, 160, 48));
    let kept = std::fs::read_to_string(c.dir.path().join("console.toml")).unwrap();
    assert!(kept.contains("[standards]") && kept.contains("\"cis-azure-2.0\" = false"), "{kept}");
    // X shows every standard, the one switched off marked.
    press(app, key('X'));
    assert_eq!(app.visible_standards().len(), before);
    insta::assert_snapshot!("standard_off_shown_80x24", screen(app, 80, 24));
    // Switched on again, from the same row.
    command(app, "standard cis-azure-2.0");
    press(app, KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    press(app, key('x'));
    press(app, key('X'));
    assert_eq!(app.visible_standards().len(), before);
    let kept = std::fs::read_to_string(c.dir.path().join("console.toml")).unwrap();
    assert!(kept.contains("\"cis-azure-2.0\" = true"), "{kept}");
}

#[test]
fn the_configs_disabled_standards_are_hidden_and_the_console_file_wins() {
    let c = console("standards_disabled = [\"soc2\", \"pci-dss-4.0\"]\n");
    let ids: Vec<String> = c.app.visible_standards().iter().map(|s| s.id.clone()).collect();
    assert!(!ids.contains(&"soc2".to_string()) && ids.contains(&"cis-azure-2.0".to_string()));
    // A console choice made before: on again.
    std::fs::write(c.dir.path().join("console.toml"), "[standards]\nsoc2 = true\n").unwrap();
    let mut app = c.app;
    let cfg = Config::load(Some(&c.dir.path().join("config.toml"))).unwrap();
    app.set_scoping(cfg.scoping);
    let ids: Vec<String> = app.visible_standards().iter().map(|s| s.id.clone()).collect();
    assert!(ids.contains(&"soc2".to_string()) && !ids.contains(&"pci-dss-4.0".to_string()));
}

#[test]
fn an_assessment_is_a_row_rolled_up_over_its_scopes_only() {
    let cfg = format!("[[assessment]]\nname = \"prod\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"{SCOPE_A}\"]\n");
    let mut c = console(&cfg);
    let app = &mut c.app;
    command(app, "assessment prod");
    assert_eq!(app.focus, Pane::Controls);
    let row = app.standard().unwrap().clone();
    assert!(row.name.starts_with("◆ prod · cis-azure-2.0 · 1 scope"), "{}", row.name);
    // The same counts as the standard's rollup over that scope only.
    let store = Store::open(app.db_path()).unwrap();
    let run = store.latest_run().unwrap().unwrap();
    let scoped = posture::pipeline::live_rollup_in(
        &store,
        &app.catalog,
        &run,
        &["cis-azure-2.0".into()],
        &[SCOPE_A.to_string()],
    )
    .unwrap();
    let expect = &scoped.standards[0];
    assert_eq!((row.passed_controls, row.failed_controls), (expect.passed_controls, expect.failed_controls));
    let whole = app.rollup.as_ref().unwrap().standards.iter().find(|s| s.id == "cis-azure-2.0").unwrap();
    let sum = |s: &posture::assess::StandardSummary| s.controls.iter().map(|c| c.unhealthy_resources).sum::<u64>();
    assert!(sum(&row) < sum(whole), "the other subscription's failures are not counted");
    insta::assert_snapshot!("assessment_row_160x48", screen(app, 160, 48));
    // `:report` of the row: over its scopes, and its header says so.
    let out = c.dir.path().join("prod.md");
    command(app, &format!("report {}", out.display()));
    let started = std::time::Instant::now();
    while app.reports.busy() && started.elapsed() < std::time::Duration::from_secs(60) {
        app.poll_reports();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.contains(&format!("| Covers | assessment prod: 1 scope ({SCOPE_A}) |")), "no coverage line");
    command(app, "assessment nope");
    assert!(app.notice.as_ref().unwrap().text.contains("no such assessment (known: prod)"));
}

#[test]
fn an_assessments_failing_resources_are_those_of_its_scopes_only() {
    let cfg = format!("[[assessment]]\nname = \"prod\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"{SCOPE_A}\"]\n");
    let mut c = console(&cfg);
    let app = &mut c.app;
    command(app, "assessment prod");
    let row = app.standard().unwrap().clone();
    let i = app.visible_controls().into_iter().find(|i| row.controls[*i].unhealthy_resources > 0).unwrap();
    let expect = row.controls[i].unhealthy_resources + row.controls[i].error_resources;
    let at = app.visible_controls().iter().position(|j| *j == i).unwrap();
    app.controls.select(at);
    press(app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Findings);
    // The pane's count is the row's: the other subscription's resources are not listed.
    assert_eq!(app.findings.total, expect);
    assert!(app.findings.rows.iter().all(|f| f.resource.scope == SCOPE_A), "only {SCOPE_A}");
}

/// The control `id` of the selected row (else its first failing one), its detail open.
fn open_failing_control(app: &mut App, id: &str) {
    let s = app.standard().unwrap();
    let visible = app.visible_controls();
    let failing = |i: &usize| s.controls[*i].unhealthy_resources > 0;
    let i =
        visible.iter().position(|i| failing(i) && s.controls[*i].id == id).or_else(|| visible.iter().position(failing));
    for _ in 0..i.unwrap() {
        press(app, key('j'));
    }
    press(app, key('d'));
    assert!(matches!(app.overlay, Some(Overlay::Control(_))));
}

#[test]
fn a_controls_detail_shows_its_results_per_scope() {
    let cfg = format!("[[assessment]]\nname = \"prod\"\nstandard = \"cis-azure-2.0\"\nscopes = [\"{SCOPE_A}\"]\n");
    let mut c = console(&cfg);
    let app = &mut c.app;
    command(app, "standard cis-azure-2.0");
    open_failing_control(app, "6.1");
    let text = screen(app, 120, 40);
    assert!(text.contains("Per scope: ") && text.contains(SCOPE_A), "{text}");
    insta::assert_snapshot!("control_per_scope_120x40", text);
    insta::assert_snapshot!("control_per_scope_80x24", screen(app, 80, 24));
    // An assessment's control: only its scopes.
    press(app, key('q'));
    command(app, "assessment prod");
    open_failing_control(app, "6.1");
    let text = screen(app, 120, 40);
    assert!(text.contains("Per scope: 1 of 1 failing"), "{text}");
    assert!(!text.contains("a92e5d04-1c7b-4f63-8e29-d4b01f6a7c58"), "{text}");
}

#[test]
fn an_actions_detail_shows_its_results_per_scope() {
    let mut c = console("");
    let app = &mut c.app;
    for _ in 0..3 {
        press(app, code(KeyCode::Tab));
    }
    assert_eq!(app.focus, Pane::Actions);
    press(app, key('d'));
    let Some(Overlay::Text(text)) = &app.overlay else { panic!("no action detail") };
    let lines = &text.lines;
    assert_eq!(text.title, "Improvement action");
    assert!(lines.iter().any(|l| l.starts_with("Per scope: ") && l.contains("failing")), "{lines:?}");
    insta::assert_snapshot!("action_per_scope_120x40", screen(app, 120, 40));
}
