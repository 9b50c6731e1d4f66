//! Popups: help (from the keymap table), error log, control and standard details, text
//! (diff), facet chooser.

use crate::sanitize::clean;
use crate::tui::app::{App, Overlay};
use crate::tui::widgets::{centered, control_icon, fit, gauge, line};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// Columns of the help popup at most.
const HELP_W: u16 = 84;

fn frame<'a>(app: &App, title: &str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(app.theme.get("border_focus"))
        .title(Line::from(Span::styled(format!(" {title} "), app.theme.get("accent"))))
        .title_bottom(Line::from(Span::styled(" Esc close ", app.theme.get("dim"))).right_aligned())
}

/// A centred popup that scrolls (j/k) when its lines do not fit, saying how many are hidden.
fn popup(f: &mut Frame, area: Rect, app: &mut App, title: &str, lines: Vec<Line<'static>>, w: u16) {
    popup_above(f, area, app, title, lines, w, 0);
}

/// [`popup`] with up to `chart_rows` rows kept under its lines (for a chart; at most half
/// the popup), returned.
fn popup_above(
    f: &mut Frame,
    area: Rect,
    app: &mut App,
    title: &str,
    lines: Vec<Line<'static>>,
    w: u16,
    chart_rows: u16,
) -> Rect {
    // Rows after wrapping, so long descriptions scroll as far as they go.
    let inner_w = w.min(area.width).saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_w)).sum();
    let h = (rows as u16 + 2 + chart_rows).min(area.height);
    let rect = centered(area, w, h.max(5));
    let chart_rows = chart_rows.min(rect.height.saturating_sub(2) / 2);
    let inner = rect.height.saturating_sub(2 + chart_rows) as usize;
    let max = rows.saturating_sub(inner);
    app.overlay_scroll = app.overlay_scroll.min(max);
    let scroll = app.overlay_scroll;
    let below = rows.saturating_sub(scroll + inner);
    let mut block = frame(app, title);
    if scroll > 0 || below > 0 {
        block = block.title_top(
            Line::from(Span::styled(format!(" ↑{scroll} ↓{below} j/k "), app.theme.get("dim"))).right_aligned(),
        );
    }
    f.render_widget(Clear, rect);
    let text = block.inner(rect);
    f.render_widget(block, rect);
    let [text, chart] = Layout::vertical([Constraint::Min(0), Constraint::Length(chart_rows)]).areas(text);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll as u16, 0)), text);
    chart
}

/// Draw whichever popup is open.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let t = app.theme.clone();
    match app.overlay.clone() {
        Some(Overlay::Help) => {
            let commands = [
                (":standard ID  :ID", "switch standard (an alias works: :nist, :cis-azure)"),
                (":controls  :findings", "focus a pane (also :standards, :actions)"),
                (":resource TEXT", "open a resource by its id, name or part of either"),
                (":run ID / :latest", "show a past run / back to the newest"),
                (":diff [A [B]]", "what changed since the previous run (or between runs)"),
                ("Tab", "complete the command or standard id (again: next)"),
                (":attestations  :exemptions", "records with their state (also :assignments, :overdue)"),
                (":assess  :cancel", "start / cancel a run"),
                (":errors  :quit", "error log / quit"),
            ];
            // Wrapped to the popup's inside, so it scrolls by the rows it shows.
            let w = HELP_W.min(area.width);
            let lines = super::help::lines(app, w.saturating_sub(2) as usize, &commands);
            popup(f, area, app, "Help", lines, w);
        }
        Some(Overlay::ErrorLog) => {
            // Newest first: the error that just happened is at the top.
            let mut lines: Vec<Line> = app
                .errors
                .iter()
                .rev()
                .map(|e| {
                    Line::from(vec![
                        Span::styled(e.at.format("%H:%M:%S  ").to_string(), t.get("dim")),
                        Span::styled(clean(&e.text).into_owned(), t.get("error")),
                    ])
                })
                .collect();
            if lines.is_empty() {
                lines.push(line("No error in this session.", t.get("dim")));
            }
            let title = format!("Error log ({}, newest first)", app.errors.len());
            popup(f, area, app, &title, lines, area.width.saturating_sub(4));
        }
        Some(Overlay::Control) => {
            let (Some(s), Some(c)) = (app.standard(), app.control()) else {
                return;
            };
            let mut lines = vec![
                line(format!("{} {}", c.id, clean(&c.title)), t.get("title")),
                line(format!("{} · {}", s.name, c.section), t.get("dim")),
                Line::default(),
                Line::from(vec![Span::styled(format!("{} {}", control_icon(c.state), c.state), t.control(c.state))]),
            ];
            // Defender for Cloud's verdict on the same control, beside posture's.
            if let Some(d) = &c.defender {
                lines.push(Line::from(vec![
                    Span::styled(format!("Defender for Cloud ({}): ", clean(&d.standard)), t.get("dim")),
                    Span::styled(format!("{} {}", control_icon(d.state), d.state), t.control(d.state)),
                    Span::styled(
                        format!(" · {} passed, {} failed, {} skipped assessments", d.passed, d.failed, d.skipped),
                        t.get("dim"),
                    ),
                ]));
            }
            if let Some(ctl) = app.catalog.standard(&s.id).and_then(|st| st.controls.iter().find(|x| x.id == c.id))
                && !ctl.description.is_empty()
            {
                lines.push(Line::default());
                lines.push(line(ctl.description.clone(), t.get("text")));
            }
            lines.push(Line::default());
            if s.origin == crate::model::Origin::Defender {
                lines.push(line(
                    "Imported from Defender for Cloud: its own assessments, not posture's checks.",
                    t.get("dim"),
                ));
            } else if c.checks.is_empty() {
                lines.push(line("Manual control: no automated check. A person attests it.", t.get("manual")));
            } else {
                lines.push(line(
                    format!(
                        "healthy {} · unhealthy {} · error {} · exempt {}",
                        c.healthy_resources, c.unhealthy_resources, c.error_resources, c.exempt_resources
                    ),
                    t.get("text"),
                ));
                lines.push(line("Checks:", t.get("title")));
                for k in &c.checks {
                    let (title, sev) =
                        app.catalog.check(k).map(|x| (x.title.clone(), x.severity.to_string())).unwrap_or_default();
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {sev:<6} "), t.get("dim")),
                        Span::styled(title, t.get("text")),
                        Span::styled(format!("  {k}"), t.get("dim")),
                    ]));
                }
                lines.extend(super::scopes::breakdown_lines(app));
            }
            lines.push(Line::default());
            // What the attestations decide for the control; none: the list below says so.
            if let Some(a) = &c.attestation {
                lines.push(line(
                    match a {
                        crate::assess::Attested::Expired => "Attestation: expired (it no longer counts)".to_string(),
                        a => clean(&format!("Attestation: {a}")).into_owned(),
                    },
                    t.get("dim"),
                ));
            }
            lines.extend(super::trend::control_lines(app, &s.id, c));
            // Who attested, when, until when, the note and the evidence's hash state.
            let (sid, cid) = (s.id.clone(), c.id.clone());
            lines.extend(super::audit_draw::control_attestations(app, &sid, &cid));
            popup(f, area, app, "Control", lines, 90);
        }
        Some(Overlay::Standard) => {
            let Some(s) = app.standard() else { return };
            let mut lines = vec![
                line(format!("{} {}", s.name, s.version), t.get("title")),
                line(s.id.clone(), t.get("dim")),
                Line::default(),
                Line::from(vec![
                    Span::styled(format!("{} of {} controls passed  ", s.passed_controls, s.counted()), t.get("text")),
                    Span::styled(
                        format!("{} {:.1}%", gauge(s.compliance_pct, 20), s.compliance_pct),
                        t.control(s.state),
                    ),
                ]),
                line(
                    format!(
                        "failed {} · manual {} · skipped {} · unsupported {}",
                        s.failed_controls, s.manual_controls, s.skipped_controls, s.unsupported_controls
                    ),
                    t.get("dim"),
                ),
            ];
            if let Some(std) = app.catalog.standard(&s.id)
                && !std.description.is_empty()
            {
                lines.push(Line::default());
                lines.push(line(std.description.clone(), t.get("text")));
            }
            lines.push(Line::default());
            let (trend, chart_rows) = super::trend::standard_lines(app, s);
            lines.extend(trend);
            let chart = popup_above(f, area, app, "Standard", lines, 80, chart_rows);
            super::trend::standard_chart(f, chart, app);
        }
        Some(Overlay::Text { title, lines, scroll }) => {
            let lines: Vec<Line> = lines.iter().map(|l| line(clean(l).into_owned(), t.get("text"))).collect();
            let h = area.height.saturating_sub(2);
            let rect = centered(area, area.width.saturating_sub(4), h);
            f.render_widget(Clear, rect);
            f.render_widget(Paragraph::new(lines).block(frame(app, &title)).scroll((scroll as u16, 0)), rect);
        }
        Some(Overlay::Facets { selected }) => {
            let facets = app.facet_lines();
            let mut lines = vec![line(format!("Filter {} by", app.focus.title()), t.get("title")), Default::default()];
            if facets.is_empty() {
                lines.push(line("Nothing to filter here; / filters by text.", t.get("dim")));
            }
            for (i, (k, v)) in facets.iter().enumerate() {
                let st = if i == selected { t.get("selected") } else { t.get("text") };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {k:<10}"), st),
                    Span::styled(format!("◂ {} ▸", fit(v, 40)), st),
                ]));
            }
            lines.push(Line::default());
            lines.push(line("j/k choose · Enter/n next value · N previous · Esc done", t.get("dim")));
            popup(f, area, app, "Filter", lines, 60);
        }
        Some(Overlay::Resource(_)) => super::resource::draw(f, area, app),
        Some(Overlay::Audit(v)) => super::audit_draw::draw(f, area, app, *v),
        Some(Overlay::Diff(_) | Overlay::Pick(_)) => super::diff::draw_overlay(f, area, app),
        None => {}
    }
}
