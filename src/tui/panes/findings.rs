//! Failing resources of the selected control, grouped by check: severity, cloud, scope, name,
//! and the evidence line. Rows come from the store a window at a time.

use crate::tui::app::{App, Pane};
use crate::tui::order::SortOrder;
use crate::tui::reader::Kind;
use crate::tui::widgets::{Col, Title, cell, finding_icon, pane_block, row as columns, widths};
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
    let rows = &app.findings.rows;
    let sev_of = |check: &str| app.catalog.check(check).map(|c| c.severity);
    // Icon, severity, cloud, scope, name, evidence: the scope goes first when room runs out;
    // the name is as wide as the longest (to a limit), the evidence takes the rest.
    let cols = [
        Col::fixed(1, 20),
        Col::fixed(Col::width_of(rows.iter().map(|r| sev_of(&r.check).map(|s| s.as_str()).unwrap_or("-"))), 14),
        Col::fixed(Col::width_of(rows.iter().map(|r| r.resource.cloud.as_str())), 8),
        Col::text(Col::width_of(rows.iter().map(|r| r.resource.scope.as_str())).min(20), 10, 6),
        Col::text(Col::width_of(rows.iter().map(|r| r.resource.name.as_str())).min(40), 16, 15),
        Col::flex(28, 1, 12),
    ];
    let w = widths(&cols, inner_w);
    let mut lines = Vec::new();
    if app.findings.total == 0 {
        let msg = match app.control() {
            None => "Select a control.".to_string(),
            Some(_) if app.loading(Kind::Findings) => "⟳ reading the failing resources …".into(),
            Some(_) if !app.filters.findings.is_empty() => {
                "No failing resource matches the filter (Esc clears it).".into()
            }
            Some(_) if app.facets.narrow_findings() => {
                "No failing resource matches the facets (f changes them).".into()
            }
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
        let cells = vec![
            Span::styled(finding_icon(row.state), t.finding(row.state)),
            Span::styled(sev.map(|s| s.as_str()).unwrap_or("-"), sev.map(|s| t.severity(s)).unwrap_or_default()),
            Span::styled(row.resource.cloud.as_str(), t.get("dim")),
            Span::styled(row.resource.scope.clone(), t.get("dim")),
            Span::styled(row.resource.name.clone(), t.get("text")),
            Span::styled(evidence, t.get("dim")),
        ];
        let mut spans = columns(cells, &cols, &w);
        if i == app.findings.list.selected {
            spans = crate::tui::widgets::selected(spans, t);
        }
        lines.push(Line::from(spans));
    }
    let mut tags = Vec::new();
    if !app.filters.findings.is_empty() {
        tags.push(format!("/{}", app.filters.findings));
    }
    let fc = &app.facets;
    for (k, v) in [
        ("state", fc.finding_state.map(|s| s.to_string())),
        ("sev", fc.severity.map(|s| s.to_string())),
        ("cloud", fc.cloud.map(|s| s.to_string())),
        ("scope", fc.scope.clone()),
    ] {
        if let Some(v) = v {
            tags.push(format!("[{k}={v}]"));
        }
    }
    // The counter's total is the store's count for the control, not the rows read so far;
    // while rows are being read (⟳) the ones shown are the last ones read.
    let title = Title {
        name: Pane::Findings.title().into(),
        subject: app.findings.subject.clone(),
        counter: Title::counter(app.findings.list.selected, app.findings.total)
            + if app.findings.at_least { "+" } else { "" },
        sort: app.sorts.findings.label().into(),
        busy: app.loading(Kind::Findings) || app.loading(Kind::Count),
        tags,
    };
    let title = title.render(inner_w.saturating_sub(2));
    let total = app.findings.total as usize;
    let block = pane_block(t, title, focused, range.start, total.saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
