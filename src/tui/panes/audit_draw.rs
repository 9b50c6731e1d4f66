//! Drawing the audit views (a tab line, a table, the selected record's detail) and the
//! attestation lines of a control's detail. Reads `App::review` only: nothing here touches
//! the store or the file system.

use super::audit::{AuditTab, AuditView, Row};
use crate::governance::{
    AssignmentState, EvidenceState, ReviewedAssignment, ReviewedAttestation, ReviewedExemption, Standing,
};
use crate::model::{AttestationStatus, EvidenceRef};
use crate::sanitize::clean;
use crate::store::Revocation;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::widgets::{cell, fit, line, selected};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// Icon of a standing (readable without colour).
pub fn standing_icon(s: Standing) -> &'static str {
    match s {
        Standing::Valid => "✔",
        Standing::Expiring => "◷",
        Standing::Expired => "✘",
        Standing::Revoked => "⊘",
        Standing::Replaced => "↻",
        Standing::EvidenceChanged => "≠",
        Standing::EvidenceMissing => "?",
    }
}

/// Icon of an assignment state; overdue has its own marker, not only a colour.
pub fn assignment_icon(s: AssignmentState) -> &'static str {
    match s {
        AssignmentState::Open => "○",
        AssignmentState::DueSoon => "◷",
        AssignmentState::Overdue => "⚑",
        AssignmentState::Done => "✔",
        AssignmentState::Revoked => "⊘",
        AssignmentState::Replaced => "↻",
    }
}

fn standing_style(t: &Theme, s: Standing) -> Style {
    match s {
        Standing::Valid => t.get("passed"),
        Standing::Expiring => t.get("manual"),
        Standing::Expired | Standing::EvidenceChanged | Standing::EvidenceMissing => t.get("failed"),
        Standing::Revoked | Standing::Replaced => t.get("dim"),
    }
}

fn assignment_style(t: &Theme, s: AssignmentState) -> Style {
    match s {
        AssignmentState::Done => t.get("passed"),
        AssignmentState::Open => t.get("text"),
        AssignmentState::DueSoon => t.get("manual"),
        AssignmentState::Overdue => t.get("failed"),
        AssignmentState::Revoked | AssignmentState::Replaced => t.get("dim"),
    }
}

fn status_word(s: AttestationStatus) -> &'static str {
    match s {
        AttestationStatus::NotApplicable => "n/a",
        other => other.as_str(),
    }
}

/// `until 2027-03-31 (129 days left)` / `(expired 3 days ago)`.
fn until(expires: NaiveDate, today: NaiveDate) -> String {
    let left = (expires - today).num_days();
    match left {
        n if n < 0 => format!("until {expires} (expired {} days ago)", -n),
        0 => format!("until {expires} (last day today)"),
        n => format!("until {expires} ({n} days left)"),
    }
}

fn text(s: impl AsRef<str>, style: Style) -> Line<'static> {
    line(clean(s.as_ref()).into_owned(), style)
}

fn revoked_line(t: &Theme, r: &Option<Revocation>) -> Option<Line<'static>> {
    r.as_ref().map(|r| {
        let at = r.at.get(..16).unwrap_or(&r.at).replace('T', " ");
        text(format!("  revoked by {} on {at}: {}", r.actor, r.reason), t.get("dim"))
    })
}

fn evidence_line(t: &Theme, e: &EvidenceRef, st: EvidenceState) -> Line<'static> {
    let what = match e {
        EvidenceRef::Url { url } => url.clone(),
        EvidenceRef::File { original, sha256, size } => {
            format!("{original} ({size} B, sha256 {}…)", sha256.get(..8).unwrap_or(sha256))
        }
    };
    let style = match st {
        EvidenceState::Intact => t.get("passed"),
        EvidenceState::Link => t.get("dim"),
        _ => t.get("failed"),
    };
    let icon = match st {
        EvidenceState::Intact => "✔",
        EvidenceState::Link => "↗",
        _ => "✘",
    };
    // The state first: a long path wraps, the verdict stays in sight.
    Line::from(vec![
        Span::styled("  evidence ", t.get("dim")),
        Span::styled(format!("{icon} {}", st.as_str()), style),
        Span::styled(format!(" · {}", clean(&what)), t.get("text")),
    ])
}

/// Who attested, when, until when, the note and each piece of evidence with its hash state.
pub fn attestation_lines(t: &Theme, a: &ReviewedAttestation, today: NaiveDate) -> Vec<Line<'static>> {
    let r = &a.record;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} {}", standing_icon(a.standing), a.standing), standing_style(t, a.standing)),
            Span::styled(
                clean(&format!(
                    " · {} · {} · attestation {}",
                    r.status.as_str(),
                    r.scope.as_deref().unwrap_or("everywhere"),
                    r.id
                ))
                .into_owned(),
                t.get("text"),
            ),
        ]),
        text(
            format!(
                "  attested by {} on {} · {}",
                r.attester,
                r.created_at.format("%Y-%m-%d %H:%M UTC"),
                until(r.expires, today)
            ),
            t.get("text"),
        ),
        text(format!("  note {}", if r.note.is_empty() { "(none)" } else { &r.note }), t.get("text")),
    ];
    if r.evidence.is_empty() {
        lines.push(text("  evidence (none)", t.get("dim")));
    }
    for (e, st) in r.evidence.iter().zip(&a.evidence) {
        lines.push(evidence_line(t, e, *st));
    }
    lines.extend(revoked_line(t, &a.revocation));
    lines
}

/// The attestation part of a control's detail: every attestation of it, newest first.
pub fn control_attestations(app: &App, standard: &str, control: &str) -> Vec<Line<'static>> {
    let t = &app.theme;
    let today = (app.clock)().date_naive();
    let all: Vec<&ReviewedAttestation> = app.review.of_control(standard, control).collect();
    let mut lines = vec![line(format!("Attestations ({})", all.len()), t.get("title"))];
    if all.is_empty() {
        lines.push(line("  none: a to attest", t.get("dim")));
    }
    for a in all.iter().take(3) {
        lines.extend(attestation_lines(t, a, today));
    }
    if all.len() > 3 {
        lines.push(line(format!("  {} older: A lists them all", all.len() - 3), t.get("dim")));
    }
    lines
}

fn exemption_lines(app: &App, e: &ReviewedExemption, today: NaiveDate) -> Vec<Line<'static>> {
    let t = &app.theme;
    let r = &e.record;
    let title = app.catalog.check(&r.check).map(|c| c.title.clone()).unwrap_or_default();
    let mut lines = vec![
        text(format!("Exemption {} · {} · {title}", r.id, r.check), t.get("title")),
        Line::from(vec![
            Span::styled(format!("{} {}", standing_icon(e.standing), e.standing), standing_style(t, e.standing)),
            Span::styled(clean(&format!(" · {} · on {}", r.category, place(r))).into_owned(), t.get("text")),
        ]),
        text(
            format!("  by {} on {} · {}", r.author, r.created_at.format("%Y-%m-%d %H:%M UTC"), until(r.expires, today)),
            t.get("text"),
        ),
        text(format!("  reason {}", r.reason), t.get("text")),
    ];
    lines.extend(revoked_line(t, &e.revocation));
    lines
}

fn assignment_lines(app: &App, a: &ReviewedAssignment, today: NaiveDate) -> Vec<Line<'static>> {
    let t = &app.theme;
    let r = &a.record;
    let left = (r.due - today).num_days();
    let when = match left {
        n if n < 0 => format!("{} days past due", -n),
        0 => "due today".to_string(),
        n => format!("due in {n} days"),
    };
    let mut lines = vec![
        text(format!("Assignment {} · {}", r.id, r.action), t.get("title")),
        Line::from(vec![
            Span::styled(format!("{} {}", assignment_icon(a.state), a.state), assignment_style(t, a.state)),
            Span::styled(clean(&format!(" · owner {} · due {} ({when})", r.owner, r.due)).into_owned(), t.get("text")),
        ]),
        text(format!("  assigned by {} on {}", r.author, r.created_at.format("%Y-%m-%d %H:%M UTC")), t.get("text")),
    ];
    lines.extend(revoked_line(t, &a.revocation));
    lines
}

fn place(r: &crate::model::Exemption) -> String {
    r.resource
        .clone()
        .or_else(|| r.resource_pattern.as_ref().map(|p| format!("~{p}")))
        .or_else(|| r.scope.clone())
        .unwrap_or_else(|| "everywhere".into())
}

/// One table cell per column; the last column takes what is left.
fn row(cols: &[(String, usize, Style)], w: usize) -> Vec<Span<'static>> {
    let fixed: usize = cols.iter().take(cols.len().saturating_sub(1)).map(|c| c.1 + 1).sum();
    let last = w.saturating_sub(fixed);
    // A last column too narrow to read is left out (the detail below shows it in full).
    let dropped = last < 8;
    let cols = if dropped { &cols[..cols.len().saturating_sub(1)] } else { cols };
    let n = cols.len();
    cols.iter()
        .enumerate()
        .flat_map(|(i, (s, cw, st))| {
            let width = if i + 1 == n && !dropped { last } else { *cw };
            let mut v = vec![Span::styled(cell(s, width), *st)];
            if i + 1 < n {
                v.push(Span::raw(" "));
            }
            v
        })
        .collect()
}

/// The columns of one row of `tab` (header when `r` is None), fitted to `w`.
fn columns(app: &App, tab: AuditTab, r: Option<Row>, w: usize) -> Vec<(String, usize, Style)> {
    let t = &app.theme;
    let wide = w >= 100;
    let h = t.get("dim");
    let s = |x: &str| x.to_string();
    let mut cols: Vec<(String, usize, Style)> = match (tab, r) {
        (AuditTab::Attestations, None) => {
            vec![(s("ID"), 4, h), (s("STATE"), 18, h), (s("CONTROL"), 22, h), (s("STATUS"), 6, h), (s("UNTIL"), 10, h)]
        }
        (AuditTab::Attestations, Some(Row(i))) => {
            let a = &app.review.attestations[i];
            let r = &a.record;
            vec![
                (r.id.to_string(), 4, t.get("accent")),
                (format!("{} {}", standing_icon(a.standing), a.standing), 18, standing_style(t, a.standing)),
                (format!("{} {}", r.standard, r.control), 22, t.get("text")),
                (s(status_word(r.status)), 6, t.get("text")),
                (r.expires.to_string(), 10, t.get("text")),
            ]
        }
        (AuditTab::Exemptions, None) => {
            vec![
                (s("ID"), 4, h),
                (s("STATE"), 18, h),
                (s("CHECK"), 26, h),
                (s("WHERE"), if wide { 28 } else { 14 }, h),
                (s("UNTIL"), 10, h),
            ]
        }
        (AuditTab::Exemptions, Some(Row(i))) => {
            let e = &app.review.exemptions[i];
            let r = &e.record;
            vec![
                (r.id.to_string(), 4, t.get("accent")),
                (format!("{} {}", standing_icon(e.standing), e.standing), 18, standing_style(t, e.standing)),
                (r.check.clone(), 26, t.get("text")),
                (place(r), if wide { 28 } else { 14 }, t.get("text")),
                (r.expires.to_string(), 10, t.get("text")),
            ]
        }
        (AuditTab::Assignments, None) => {
            vec![(s("ID"), 4, h), (s("STATE"), 10, h), (s("ACTION"), 30, h), (s("OWNER"), 14, h), (s("DUE"), 10, h)]
        }
        (AuditTab::Assignments, Some(Row(i))) => {
            let a = &app.review.assignments[i];
            let r = &a.record;
            vec![
                (r.id.to_string(), 4, t.get("accent")),
                (format!("{} {}", assignment_icon(a.state), a.state), 10, assignment_style(t, a.state)),
                (r.action.clone(), 30, t.get("text")),
                (r.owner.clone(), 14, t.get("text")),
                (r.due.to_string(), 10, assignment_style(t, a.state)),
            ]
        }
    };
    let (by, last) = match (tab, r) {
        (_, None) => (s("BY"), s(if tab == AuditTab::Exemptions { "REASON" } else { "NOTE" })),
        (AuditTab::Attestations, Some(Row(i))) => {
            let r = &app.review.attestations[i].record;
            (r.attester.clone(), r.note.clone())
        }
        (AuditTab::Exemptions, Some(Row(i))) => {
            let r = &app.review.exemptions[i].record;
            (r.author.clone(), r.reason.clone())
        }
        (AuditTab::Assignments, Some(Row(i))) => {
            let r = &app.review.assignments[i].record;
            (r.author.clone(), r.created_at.format("%Y-%m-%d").to_string())
        }
    };
    let style = if r.is_none() { h } else { t.get("dim") };
    if wide {
        cols.push((by, 12, style));
    }
    let last = if tab == AuditTab::Assignments && r.is_none() { s("ASSIGNED") } else { last };
    cols.push((last, 0, if r.is_none() { h } else { t.get("text") }));
    cols
}

fn detail(app: &App, tab: AuditTab, r: Row) -> Vec<Line<'static>> {
    let today = (app.clock)().date_naive();
    match tab {
        AuditTab::Attestations => {
            let a = &app.review.attestations[r.0];
            let title = app
                .catalog
                .standard(&a.record.standard)
                .and_then(|s| s.controls.iter().find(|c| c.id == a.record.control))
                .map(|c| c.title.clone())
                .unwrap_or_default();
            let mut lines =
                vec![text(format!("{} {} · {title}", a.record.standard, a.record.control), app.theme.get("title"))];
            lines.extend(attestation_lines(&app.theme, a, today));
            lines
        }
        AuditTab::Exemptions => exemption_lines(app, &app.review.exemptions[r.0], today),
        AuditTab::Assignments => assignment_lines(app, &app.review.assignments[r.0], today),
    }
}

/// Draw the audit view over the panes.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App, view: &mut AuditView) {
    let t = app.theme.clone();
    let rows = view.visible(&app.review);
    view.list.set_len(rows.len());
    let mut title = format!("Audit · {}", view.tab.as_str());
    if let Some(s) = &view.subject {
        title.push_str(&format!(" of {}", s.label));
    }
    if let Some(s) = view.state.label() {
        title.push_str(&format!(" [{s}]"));
    }
    if !view.text.is_empty() {
        title.push_str(&format!(" /{}", view.text));
    }
    let keys = " Tab kind · / filter · f state · R revoke · Esc close ";
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(t.get("border_focus"))
        .title(Line::from(Span::styled(
            format!(" {} ", fit(&title, area.width.saturating_sub(4) as usize)),
            t.get("accent"),
        )))
        .title_bottom(
            Line::from(Span::styled(fit(keys, area.width.saturating_sub(2) as usize), t.get("dim"))).right_aligned(),
        );
    let inner = block.inner(area);
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    let detail_h = if inner.height >= 16 { (inner.height / 3).clamp(7, 12) } else { 0 };
    let [tabs, head, list, detail_area] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1), Constraint::Length(detail_h)])
        .areas(inner);
    let w = inner.width as usize;
    let mut spans = Vec::new();
    for (i, tab) in AuditTab::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", t.get("dim")));
        }
        let label = format!("{} {}", tab.as_str(), AuditView::total(&app.review, *tab));
        spans.push(Span::styled(label, if *tab == view.tab { t.get("selected") } else { t.get("text") }));
    }
    spans.push(Span::styled(format!("   {} shown", rows.len()), t.get("dim")));
    f.render_widget(Paragraph::new(Line::from(spans)), tabs);
    f.render_widget(Paragraph::new(Line::from(row(&columns(app, view.tab, None, w), w))), head);
    let range = view.list.window(list.height as usize);
    let mut lines: Vec<Line> = Vec::new();
    if rows.is_empty() {
        let why = if AuditView::total(&app.review, view.tab) == 0 {
            format!("No {} recorded.", view.tab.as_str())
        } else {
            "Nothing matches: Esc clears the text filter, f changes the state filter.".to_string()
        };
        lines.push(line(why, t.get("dim")));
    }
    for i in range.clone() {
        let mut spans = row(&columns(app, view.tab, Some(rows[i]), w), w);
        if i == view.list.selected {
            spans = selected(spans, &t);
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), list);
    if detail_h > 0
        && let Some(r) = rows.get(view.list.selected)
    {
        let mut lines = vec![line("─".repeat(w), t.get("border"))];
        lines.extend(detail(app, view.tab, *r));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail_area);
    }
}
