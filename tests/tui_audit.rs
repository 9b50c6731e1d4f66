//! The audit loop in the console: the attestations, exemptions and assignments views with where
//! each record stands, their filters, `R` to revoke with a reason, the control detail's
//! attestations, the forms' rules, and the overdue marker and filter; on ratatui's TestBackend
//! at 120×40 and 80×24 with a fixed clock, and against the CLI's listings.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::console::{Console, build};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use posture::governance::{AssignmentState, Standing};
use posture::model::{Assignment, Attestation, AttestationStatus, EvidenceRef, Exemption};
use posture::sources::SourceSpec;
use posture::store::{RecordKind, Store};
use posture::tui::app::{App, Overlay};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A demo cache and a console over it; `records` writes decisions before the console opens.
fn console_with(records: impl FnOnce(&mut Store, &std::path::Path)) -> Console {
    let mut c = build(&[SourceSpec::Demo], &[], records);
    c.app.attester = "carol".into();
    c.app.reload(None);
    c.app.settle();
    c
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn attestation(control: &str, status: AttestationStatus, note: &str, created: &str, expires: &str) -> Attestation {
    Attestation {
        id: 0,
        standard: "cis-azure-2.0".into(),
        control: control.into(),
        status,
        scope: None,
        note: note.into(),
        evidence: vec![EvidenceRef::Url { url: "https://wiki.example.com/reviews/q4".into() }],
        attester: "alice".into(),
        created_at: at(created),
        expires: day(expires),
    }
}

fn exemption(check: &str, resource: Option<&str>, reason: &str, expires: &str) -> Exemption {
    Exemption {
        id: 0,
        check: check.into(),
        resource: resource.map(str::to_string),
        resource_pattern: None,
        scope: None,
        regions: Vec::new(),
        category: "waiver".into(),
        reason: reason.into(),
        author: "bob".into(),
        created_at: at("2026-10-01T10:00:00Z"),
        expires: day(expires),
    }
}

fn assignment(action: &str, owner: &str, due: &str) -> Assignment {
    Assignment {
        id: 0,
        action: action.into(),
        owner: owner.into(),
        due: day(due),
        author: "alice".into(),
        created_at: at("2026-10-15T08:00:00Z"),
    }
}

/// One record in each state the views show.
fn every_state(s: &mut Store, _dir: &std::path::Path) {
    use AttestationStatus::*;
    s.add_attestation(&attestation("1.1.1", Passed, "first review", "2026-09-01T09:00:00Z", "2027-09-01")).unwrap();
    s.add_attestation(&attestation("1.1.1", Passed, "CA-01..CA-04 reviewed", "2026-11-01T09:00:00Z", "2027-06-30"))
        .unwrap();
    s.add_attestation(&attestation("1.1.2", Passed, "MFA report checked", "2026-11-02T09:00:00Z", "2026-11-30"))
        .unwrap();
    s.add_attestation(&attestation("1.1.3", Failed, "legacy accounts left", "2025-11-01T09:00:00Z", "2026-11-01"))
        .unwrap();
    let r = s
        .add_attestation(&attestation(
            "1.1.4",
            NotApplicable,
            "no trusted devices",
            "2026-11-03T09:00:00Z",
            "2027-11-03",
        ))
        .unwrap();
    s.revoke(RecordKind::Attestation, r, "carol", "trusted devices came back", at("2026-11-20T12:00:00Z")).unwrap();
    let check = "azure.storage.secure_transfer";
    s.add_exemption(&exemption(check, Some("/subscriptions/s1/rg/legacy-blob"), "read-only archive", "2027-03-31"))
        .unwrap();
    s.add_exemption(&exemption(check, None, "migration window", "2026-11-10")).unwrap();
    s.add_assignment(&assignment("azure.network.nsg_rdp_restricted", "bob", "2026-11-01")).unwrap();
    s.add_assignment(&assignment(check, "finn", "2026-11-01")).unwrap();
    s.add_assignment(&assignment("cis-azure-2.0/1.1.3", "dana", "2027-01-31")).unwrap();
    s.add_assignment(&assignment("azure.sql.tde", "erin", "2026-11-25")).unwrap();
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE })
}

trait Keys {
    fn press(&mut self, k: KeyCode);
    fn typed(&mut self, s: &str);
    fn screen(&mut self, w: u16, h: u16) -> String;
}

impl Keys for App {
    fn press(&mut self, k: KeyCode) {
        self.on_key(KeyEvent::new(k, KeyModifiers::NONE));
        self.settle();
    }
    fn typed(&mut self, s: &str) {
        for c in s.chars() {
            self.on_key(key(c));
            self.settle();
        }
    }
    fn screen(&mut self, w: u16, h: u16) -> String {
        self.settle();
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| posture::tui::ui::draw(f, self)).unwrap();
        t.backend().to_string()
    }
}

fn command(app: &mut App, line: &str) {
    app.typed(&format!(":{line}"));
    app.press(KeyCode::Enter);
}

fn audit(app: &App) -> &posture::tui::panes::audit::AuditView {
    match &app.overlay {
        Some(Overlay::Audit(v)) => v,
        other => panic!("no audit view open: {other:?}"),
    }
}

fn shown(app: &App) -> usize {
    audit(app).visible(&app.review).len()
}

#[test]
fn attestations_view_shows_each_state_at_120x40_and_80x24() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    command(app, "attestations");
    let s = app.screen(120, 40);
    for state in ["✔ valid", "◷ expiring", "✘ expired", "⊘ revoked", "↻ replaced"] {
        assert!(s.contains(state), "{state}:\n{s}");
    }
    // newest first: the revoked one says who, when and why
    assert!(s.contains("  revoked by carol on 2026-11-20 12:00: trusted devices came back"), "{s}");
    insta::assert_snapshot!("audit_attestations_120x40", s);
    insta::assert_snapshot!("audit_attestations_80x24", app.screen(80, 24));
    // the detail follows the cursor
    app.typed("jjjj");
    let s = app.screen(120, 40);
    assert!(s.contains("↻ replaced · passed · everywhere · attestation 1"), "{s}");
    assert!(s.contains("note first review"), "{s}");
}

#[test]
fn the_views_filter_by_state_and_text() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    command(app, "attestations");
    assert_eq!(shown(app), 5);
    app.typed("f");
    assert_eq!(audit(app).state, posture::tui::panes::audit::StateFilter::Standing(Standing::Valid));
    assert_eq!(shown(app), 1, "only the newest 1.1.1 is valid");
    app.typed("f");
    assert_eq!(shown(app), 1, "expiring: 1.1.2, 8 days left in a 14-day window");
    assert!(app.screen(120, 40).contains("[expiring]"));
    app.typed("/legacy");
    app.press(KeyCode::Enter);
    assert_eq!(shown(app), 0, "text and state together");
    app.press(KeyCode::Esc);
    assert!(audit(app).text.is_empty(), "Esc clears the text first");
    assert_eq!(shown(app), 1);
    // `:attestations expired` opens with the state filter, other words filter the text
    app.press(KeyCode::Esc);
    assert!(app.overlay.is_none());
    command(app, "attestations expired");
    assert_eq!(shown(app), 1);
    app.press(KeyCode::Esc);
    command(app, "attestations CA-01");
    assert_eq!(shown(app), 1);
    assert_eq!(audit(app).text, "CA-01");
}

#[test]
fn exemptions_and_assignments_with_the_overdue_marker_at_both_sizes() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    command(app, "exemptions");
    let s = app.screen(80, 24);
    assert!(s.contains("✔ valid") && s.contains("✘ expired"), "{s}");
    insta::assert_snapshot!("audit_exemptions_80x24", s);
    app.press(KeyCode::Tab);
    assert_eq!(audit(app).tab, posture::tui::panes::audit::AuditTab::Assignments);
    let s = app.screen(120, 40);
    assert!(s.contains("⚑ overdue"), "a marker, not only a colour:\n{s}");
    assert!(s.contains("◷ due soon") && s.contains("○ open") && s.contains("✔ done"), "{s}");
    insta::assert_snapshot!("audit_assignments_120x40", s);
    insta::assert_snapshot!("audit_assignments_80x24", app.screen(80, 24));
    app.press(KeyCode::Esc);
    command(app, "overdue");
    assert_eq!(shown(app), 1);
    let row = audit(app).visible(&app.review)[0].0;
    assert_eq!(app.review.assignments[row].record.owner, "bob");
    assert_eq!(app.review.assignments[row].state, AssignmentState::Overdue);
}

#[test]
fn overdue_actions_have_a_marker_and_a_filter() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    app.press(KeyCode::BackTab); // the actions pane
    let all = app.visible_actions().len();
    let s = app.screen(80, 24);
    assert!(s.contains("⚑ 2026-11-01"), "{s}");
    // facet: the second row of the actions' filter is "due": all → overdue
    app.typed("fj");
    app.press(KeyCode::Enter);
    app.press(KeyCode::Esc);
    let overdue: Vec<String> = app.visible_actions().iter().map(|a| a.id.clone()).collect();
    assert_eq!(overdue, ["azure.network.nsg_rdp_restricted"], "of {all}");
    let s = app.screen(80, 24);
    assert!(s.contains("[overdue]"), "{s}");
}

#[test]
fn r_revokes_the_selected_record_with_a_reason() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    command(app, "exemptions");
    let first = audit(app).visible(&app.review)[0].0;
    let id = app.review.exemptions[first].record.id;
    app.typed("R");
    let form = app.form.as_ref().expect("a revocation form");
    assert!(form.title.starts_with(&format!("Revoke exemption {id}: azure.storage.secure_transfer")), "{}", form.title);
    // no reason: refused beside the field
    app.press(KeyCode::Enter);
    let form = app.form.as_ref().expect("still open");
    assert_eq!(form.errors.len(), 1);
    assert!(form.errors[0].1.contains("say why"));
    insta::assert_snapshot!("audit_revoke_form_80x24", app.screen(80, 24));
    app.typed("the archive was deleted");
    app.press(KeyCode::Enter);
    assert!(app.form.is_none(), "{:?}", app.notice);
    let r = Store::open(app.db_path()).unwrap().revocations().unwrap();
    let mine = r.iter().find(|x| x.kind == RecordKind::Exemption && x.record_id == id).expect("revoked");
    assert_eq!((mine.actor.as_str(), mine.reason.as_str()), ("carol", "the archive was deleted"));
    assert!(Store::open(app.db_path()).unwrap().verify_audit().unwrap().ok);
    // the view shows it at once, and a second R says so instead of failing
    let row = audit(app).visible(&app.review)[audit(app).list.selected].0;
    assert_eq!(app.review.exemptions[row].standing, Standing::Revoked);
    app.typed("R");
    assert!(app.form.is_none());
    assert!(app.notice.as_ref().unwrap().text.contains("already revoked"));
}

#[test]
fn the_control_detail_says_who_when_until_note_and_evidence_hash_state() {
    let mut c = console_with(|s, dir| {
        let original = dir.join("access-review.txt");
        std::fs::write(&original, b"Q4 access review: 14 admins, all with MFA").unwrap();
        let stored =
            posture::governance::store_evidence(&posture::governance::evidence_dir(s.path()), &original).unwrap();
        let mut a = attestation(
            "1.1.1",
            AttestationStatus::Passed,
            "CA-01..CA-04 reviewed",
            "2026-11-01T09:00:00Z",
            "2027-06-30",
        );
        a.evidence.insert(0, stored);
        s.add_attestation(&a).unwrap();
    });
    let app = &mut c.app;
    command(app, "standard cis-azure-2.0");
    app.typed("d");
    let s = app.screen(120, 40);
    assert!(s.contains("attested by alice on 2026-11-01 09:00 UTC"), "{s}");
    assert!(s.contains("until 2027-06-30 (220 days left)"), "{s}");
    assert!(s.contains("note CA-01..CA-04 reviewed"), "{s}");
    assert!(s.contains("✔ hash matches"), "{s}");
    assert!(s.contains("link, not checked"), "{s}");
    assert!(s.contains("✔ valid"), "{s}");
    app.press(KeyCode::Esc);
    // the original is edited after attesting: the state is read again on reload
    std::fs::write(c.dir.path().join("access-review.txt"), b"edited later").unwrap();
    let app = &mut c.app;
    app.reload(None);
    app.typed("d");
    let s = app.screen(120, 40);
    assert!(s.contains("≠ evidence changed"), "{s}");
    assert!(s.contains("✘ original changed"), "{s}");
    app.press(KeyCode::Esc);
    // A from the control: its attestations only
    app.typed("A");
    assert_eq!(audit(app).subject.as_ref().unwrap().label, "cis-azure-2.0 1.1.1");
    assert_eq!(shown(app), 1);
}

#[test]
fn the_attest_form_names_the_control_and_shows_every_problem_at_once() {
    let mut c = console_with(|_, _| {});
    let app = &mut c.app;
    command(app, "standard cis-azure-2.0");
    app.typed("a");
    let form = app.form.as_ref().unwrap();
    assert_eq!(form.title, "Attest cis-azure-2.0 1.1.1 · Security defaults are turned on in the tenant");
    // Enter at once: a passed attestation without note and evidence is refused, both said
    app.press(KeyCode::Enter);
    let form = app.form.as_ref().expect("nothing saved");
    let fields: Vec<&str> = form.errors.iter().map(|(i, _)| form.fields[*i].name).collect();
    assert_eq!(fields, ["note", "evidence"]);
    insta::assert_snapshot!("attest_form_two_problems_80x24", app.screen(80, 24));
    insta::assert_snapshot!("attest_form_two_problems_120x40", app.screen(120, 40));
    assert!(Store::open(app.db_path()).unwrap().attestations().unwrap().is_empty());
    // ~/ evidence is expanded (the field is not a shell)
    let home = std::env::var_os("HOME").expect("HOME");
    let ev = tempfile::tempdir_in(&home).unwrap();
    std::fs::write(ev.path().join("review.txt"), b"reviewed").unwrap();
    let rel = ev.path().strip_prefix(&home).unwrap().join("review.txt");
    // the cursor went to the first problem: the note
    app.typed("security defaults replaced by CA policies");
    app.press(KeyCode::Tab);
    app.typed(&format!("~/{}", rel.display()));
    app.press(KeyCode::Enter);
    assert!(app.form.is_none(), "{:?}", app.form.as_ref().map(|f| &f.errors));
    let saved = Store::open(app.db_path()).unwrap().attestations().unwrap();
    let EvidenceRef::File { original, .. } = &saved[0].evidence[0] else { panic!("a file: {:?}", saved[0].evidence) };
    assert!(original.ends_with("review.txt") && !original.contains('~'), "{original}");
}

#[test]
fn the_exempt_form_names_the_resource() {
    let mut c = console_with(|_, _| {});
    let app = &mut c.app;
    command(app, "standard cis-azure-2.0");
    // facet: controls in state failed, then the first failing resource
    app.typed("f");
    app.press(KeyCode::Enter);
    app.press(KeyCode::Enter);
    app.press(KeyCode::Esc);
    app.press(KeyCode::Enter);
    let f = app.finding().expect("a failing resource").clone();
    app.typed("e");
    let form = app.form.as_ref().unwrap();
    assert!(form.title.starts_with(&format!("Exempt {}", f.check)), "{}", form.title);
    assert!(form.title.ends_with(&format!("on {}", f.resource.name)), "{}", form.title);
    assert_eq!(form.value("applies_to"), format!("this resource: {}", f.resource.name));
    insta::assert_snapshot!("exempt_form_named_80x24", app.screen(80, 24));
    // the scope choice is named too, and saves a scope exemption
    app.press(KeyCode::Tab);
    app.press(KeyCode::Right);
    assert_eq!(app.form.as_ref().unwrap().value("applies_to"), format!("its scope: {}", f.resource.scope));
    app.press(KeyCode::Tab);
    app.typed("sandbox subscription");
    app.press(KeyCode::Enter);
    assert!(app.form.is_none(), "{:?}", app.form.as_ref().map(|f| &f.errors));
    let e = Store::open(app.db_path()).unwrap().exemptions().unwrap();
    assert_eq!((e[0].resource.as_deref(), e[0].scope.as_deref()), (None, Some(f.resource.scope.as_str())));
}

/// `posture attestations` / `exemptions` say what the console's views say, record by record.
#[test]
fn the_cli_listings_and_the_console_agree_on_every_state() {
    let mut c = console_with(every_state);
    let db = c.app.db_path().to_path_buf();
    c.app.clock = Utc::now;
    c.app.reload(None);
    c.app.settle();
    let cli = |args: &[&str]| -> serde_json::Value {
        let out = common::posture_on(&db, "").args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let states = |v: serde_json::Value| -> Vec<(i64, String)> {
        let mut s: Vec<(i64, String)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["id"].as_i64().unwrap(), x["state"].as_str().unwrap().to_string()))
            .collect();
        s.sort();
        s
    };
    let mut console: Vec<(i64, String)> =
        c.app.review.attestations.iter().map(|a| (a.record.id, a.standing.to_string())).collect();
    console.sort();
    assert_eq!(states(cli(&["attestations", "--all", "--format", "json"])), console);
    assert!(console.iter().any(|(_, s)| s == "revoked") && console.iter().any(|(_, s)| s == "replaced"));
    let mut console: Vec<(i64, String)> =
        c.app.review.exemptions.iter().map(|a| (a.record.id, a.standing.to_string())).collect();
    console.sort();
    assert_eq!(states(cli(&["exemptions", "--all", "--format", "json"])), console);
}

/// The views read the store when they open and on reload, never while drawing or per key.
#[test]
fn the_views_read_the_store_on_open_and_reload_only() {
    let mut c = console_with(every_state);
    let app = &mut c.app;
    command(app, "attestations");
    assert_eq!(shown(app), 5);
    // Another process records an attestation meanwhile.
    let mut other = Store::open(app.db_path()).unwrap();
    let a = attestation(
        "1.2.1",
        AttestationStatus::Passed,
        "named locations reviewed",
        "2026-11-21T09:00:00Z",
        "2027-11-21",
    );
    other.add_attestation(&a).unwrap();
    app.typed("jjkf");
    app.press(KeyCode::Esc);
    app.screen(120, 40);
    command(app, "attestations");
    assert_eq!(shown(app), 6, "opening the view reads the records again");
    app.screen(80, 24);
    other.add_exemption(&exemption("azure.storage.secure_transfer", None, "later", "2027-01-01")).unwrap();
    app.press(KeyCode::Tab);
    assert_eq!(shown(app), 2, "keys and frames do not read the store");
    app.reload(None);
    app.settle();
    assert_eq!(shown(app), 3, "a reload does");
}
