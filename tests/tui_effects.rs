//! Keys turned into effects without applying them (`App::update`): what a key asks of the
//! reader, the worker or the popups is returned, and nothing reaches the reader until
//! `App::apply` performs it.

mod common;

use common::console::{code, command, console, key, press};
use crossterm::event::KeyCode;
use posture::tui::app::{App, Overlay, Pane};
use posture::tui::effect::Effect;
use posture::tui::reader::{Kind, Request};
use posture::worker::Command as WorkerCommand;

/// Focus the first failing resource of a failing control of CIS Azure.
fn to_failing_resource(app: &mut App) {
    command(app, "standard cis-azure-2.0");
    // facet: controls in state failed (all → passed → failed)
    press(app, key('f'));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Enter));
    press(app, code(KeyCode::Esc));
    press(app, code(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Findings);
}

#[test]
fn enter_on_a_finding_opens_its_resource_and_asks_the_reader_for_it_when_applied() {
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    let id = app.finding().map(|f| f.resource.id.clone()).expect("a failing resource");
    let sent = app.requests_sent(Kind::Resource);
    let effects = app.update(code(KeyCode::Enter));
    match &effects[..] {
        [Effect::Open(Overlay::Resource(d)), Effect::Ask(Request::Resource { id: asked, .. })] => {
            assert_eq!((&d.id, asked), (&id, &id));
        }
        other => panic!("{other:?}"),
    }
    assert!(app.overlay.is_none(), "nothing done yet");
    assert_eq!(app.requests_sent(Kind::Resource), sent, "nothing asked yet");
    app.apply_all(effects);
    assert!(matches!(app.overlay, Some(Overlay::Resource(_))));
    assert_eq!(app.requests_sent(Kind::Resource), sent + 1);
}

#[test]
fn q_in_help_closes_it_and_q_in_the_panes_quits() {
    let mut c = console();
    let app = &mut c.app;
    assert!(matches!(app.update(key('?'))[..], [Effect::Open(Overlay::Help(_))]));
    press(app, key('?'));
    assert!(matches!(app.update(key('q'))[..], [Effect::Close]));
    press(app, key('q'));
    assert!(app.overlay.is_none() && !app.quit);
    assert!(matches!(app.update(key('q'))[..], [Effect::Quit]));
    assert!(!app.quit, "only when applied");
}

#[test]
fn assess_commands_the_worker_and_diff_asks_the_reader() {
    let mut c = console();
    let app = &mut c.app;
    assert!(matches!(
        &app.update(key('r'))[..],
        [Effect::Worker(WorkerCommand::AssessNow { standards })] if standards.is_empty()
    ));
    for k in ":diff".chars() {
        press(app, key(k));
    }
    let sent = app.requests_sent(Kind::Diff);
    assert!(matches!(app.update(code(KeyCode::Enter))[..], [Effect::Ask(Request::Diff { from: None, .. })]));
    assert_eq!(app.requests_sent(Kind::Diff), sent);
}

#[test]
fn attest_on_a_control_opens_its_form_and_d_asks_for_its_breakdown() {
    let mut c = console();
    let app = &mut c.app;
    command(app, "standard cis-azure-2.0");
    assert!(matches!(app.update(key('a'))[..], [Effect::Form(_)]));
    match &app.update(key('d'))[..] {
        [Effect::Open(Overlay::Control(_)), Effect::Ask(Request::Breakdown { .. })] => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn e_in_a_resource_detail_opens_the_exemption_of_its_selected_finding() {
    let mut c = console();
    let app = &mut c.app;
    to_failing_resource(app);
    let check = app.finding().map(|f| f.check.clone()).expect("a failing resource");
    press(app, code(KeyCode::Enter));
    assert!(matches!(app.update(key('e'))[..], [Effect::Form(_)]));
    press(app, key('e'));
    let form = app.form.as_ref().expect("the exemption form");
    assert!(form.title.contains(&check), "{}", form.title);
    assert!(matches!(app.overlay, Some(Overlay::Resource(_))), "the detail stays under the form");
}
