//! Failing resources of the selected control, grouped by check: severity, cloud, scope, name,
//! and the evidence line. Rows come from the store a window at a time.

use crate::tui::app::{App, Pane};
use crate::tui::widgets::{cell, finding_icon, pane_block};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draw the findings pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Findings;
    let height = area.height.saturating_sub(2) as usize;
    let range = app.findings.list.window(height);
    let t = &app.theme;
    let inner_w = area.width.saturating_sub(2) as usize;
    let wide = inner_w >= 100;
    let sev_w = 6;
    let cloud_w = 5;
    let scope_w = if wide { 14 } else { 0 };
    let rest = inner_w.saturating_sub(2 + sev_w + 1 + cloud_w + 1 + scope_w + usize::from(wide));
    let name_w = (rest * 2 / 5).max(8);
    let ev_w = rest.saturating_sub(name_w + 1);
    let mut lines = Vec::new();
    if app.findings.total == 0 {
        let msg = match app.control() {
            None => "Select a control.".to_string(),
            Some(_) if app.loading(crate::tui::reader::Kind::Findings) => "⟳ reading the failing resources …".into(),
            Some(c) if c.checks.is_empty() => "A manual control: no automated checks (see d for details).".into(),
            // Skipped or unsupported: say why ("no resource of type … in any scope").
            Some(c) if c.reason.is_some() && c.attestation.is_none() => {
                format!("{}: {}", c.state, c.reason.as_deref().unwrap_or_default())
            }
            Some(_) => "No failing resource for this control.".into(),
        };
        lines.push(Line::from(Span::styled(crate::sanitize::fit(&msg, inner_w), t.get("dim"))));
    }
    let mut prev_check: Option<String> = None;
    for i in range.clone() {
        let Some(row) = i.checked_sub(app.findings.start as usize).and_then(|k| app.findings.rows.get(k)) else {
            lines.push(Line::from(Span::styled("…", t.get("dim"))));
            continue;
        };
        let check = app.catalog.check(&row.check);
        // Group by check: a heading line where the check changes (when sorted by check).
        if app.sorts.findings == crate::store::FindingOrder::Check
            && prev_check.as_deref() != Some(row.check.as_str())
            && lines.len() < height
        {
            let title = check.map(|c| c.title.as_str()).unwrap_or(row.check.as_str());
            if i == range.start || prev_check.is_some() {
                lines.push(Line::from(vec![
                    Span::styled("▸ ", t.get("dim")),
                    Span::styled(cell(title, inner_w.saturating_sub(2)), t.get("title")),
                ]));
            }
        }
        prev_check = Some(row.check.clone());
        if lines.len() >= height {
            break;
        }
        let sev = check.map(|c| c.severity);
        let evidence = match &row.message {
            Some(m) => m.clone(),
            None => row.evidence.iter().map(|e| format!("{} = {}", e.path, e.value)).collect::<Vec<_>>().join("; "),
        };
        let mut spans = vec![
            Span::styled(format!("{} ", finding_icon(row.state)), t.finding(row.state)),
            Span::styled(
                cell(sev.map(|s| s.as_str()).unwrap_or("-"), sev_w),
                sev.map(|s| t.severity(s)).unwrap_or_default(),
            ),
            Span::raw(" "),
            Span::styled(cell(row.resource.cloud.as_str(), cloud_w), t.get("dim")),
            Span::raw(" "),
        ];
        if wide {
            spans.push(Span::styled(cell(&row.resource.scope, scope_w), t.get("dim")));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(cell(&row.resource.name, name_w), t.get("text")));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(cell(&evidence, ev_w), t.get("dim")));
        if i == app.findings.list.selected {
            spans = crate::tui::widgets::selected(spans, t);
        }
        lines.push(Line::from(spans));
    }
    let mut title = Pane::Findings.title().to_string();
    if !app.findings.subject.is_empty() {
        title.push_str(&format!(" · {}", crate::tui::widgets::fit(&app.findings.subject, 40)));
    }
    if app.loading(crate::tui::reader::Kind::Findings) {
        // Rows shown are the last ones read; the new ones are on their way.
        title.push_str(" ⟳");
    }
    title.push_str(&format!(" ({})", app.findings.total));
    if !app.filters.findings.is_empty() {
        title.push_str(&format!(" /{}", app.filters.findings));
    }
    let fc = &app.facets;
    for (k, v) in [
        ("state", fc.finding_state.map(|s| s.to_string())),
        ("sev", fc.severity.map(|s| s.to_string())),
        ("cloud", fc.cloud.map(|s| s.to_string())),
        ("scope", fc.scope.clone()),
    ] {
        if let Some(v) = v {
            title.push_str(&format!(" [{k}={v}]"));
        }
    }
    let total = app.findings.total as usize;
    let block = pane_block(t, title, focused, range.start, total.saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
