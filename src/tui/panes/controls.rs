//! Controls of the selected standard, grouped by section, with state and resource counts.

use crate::assess::{Attested, ControlSummary};
use crate::tui::app::{App, ControlRow, Pane};
use crate::tui::order::SortOrder;
use crate::tui::widgets::{Col, Title, cell, control_icon, pane_block, row, widths};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The counts cell: `61222✔ 26278✘` with each number as wide as the widest of the pane (so
/// the marks line up), or what stands in for counts on a control without checks.
fn counts(c: &ControlSummary, healthy_w: usize, unhealthy_w: usize) -> String {
    match (&c.attestation, c.checks.is_empty()) {
        (Some(Attested::Expired), _) => "att. expired".to_string(),
        (Some(Attested::Partial { .. }), _) => "att. partial".to_string(),
        (Some(_), true) => "attested".to_string(),
        (None, true) => "manual".to_string(),
        _ => format!("{:>healthy_w$}✔ {:>unhealthy_w$}✘", c.healthy_resources, unhealthy(c)),
    }
}

fn unhealthy(c: &ControlSummary) -> u64 {
    c.unhealthy_resources + c.error_resources
}

/// Draw the controls pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Controls;
    let height = area.height.saturating_sub(2) as usize;
    let rows = app.control_rows();
    // The cursor counts controls only; find the display row of the selected control.
    let control_positions: Vec<usize> =
        rows.iter().enumerate().filter(|(_, r)| matches!(r, ControlRow::Control(_))).map(|(i, _)| i).collect();
    let sel_row = control_positions.get(app.controls.selected).copied().unwrap_or(0);
    let mut view = crate::tui::list::ListState { selected: sel_row, offset: app.controls.offset, len: rows.len() };
    let range = view.window(height);
    app.controls.offset = view.offset;
    let t = &app.theme;
    let inner_w = area.width.saturating_sub(2) as usize;
    let Some(std) = app.standard() else {
        let b = pane_block(t, Pane::Controls.title().into(), focused, 0, 0);
        f.render_widget(Paragraph::new(Line::from(Span::styled("Select a standard.", t.get("dim")))).block(b), area);
        return;
    };
    let healthy_w = Col::width_of(std.controls.iter().map(|c| c.healthy_resources.to_string()));
    let unhealthy_w = Col::width_of(std.controls.iter().map(|c| unhealthy(c).to_string()));
    // Icon, id, title, counts; numbers are never cut: the title gives way first.
    let cols = [
        Col::fixed(1, 20),
        Col::text(Col::width_of(std.controls.iter().map(|c| c.id.as_str())).clamp(3, 14), 3, 17),
        Col::flex(12, 1, 16),
        Col::num(Col::width_of(std.controls.iter().map(|c| counts(c, healthy_w, unhealthy_w))), 18),
    ];
    let w = widths(&cols, inner_w);
    let mut lines = Vec::new();
    if rows.is_empty() {
        lines.push(Line::from(Span::styled("No control matches the filter.", t.get("dim"))));
    }
    for i in range.clone() {
        match &rows[i] {
            ControlRow::Section(s) => lines.push(Line::from(Span::styled(cell(s, inner_w), t.get("dim")))),
            ControlRow::Control(ci) => {
                let c = &std.controls[*ci];
                let style = t.control(c.state);
                let cells = vec![
                    Span::styled(control_icon(c.state), style),
                    Span::styled(c.id.clone(), t.get("accent")),
                    Span::styled(c.title.clone(), t.get("text")),
                    Span::styled(counts(c, healthy_w, unhealthy_w), style),
                ];
                let mut spans = row(cells, &cols, &w);
                if i == sel_row {
                    spans = crate::tui::widgets::selected(spans, t);
                }
                lines.push(Line::from(spans));
            }
        }
    }
    let mut tags = Vec::new();
    if !app.filters.controls.is_empty() {
        tags.push(format!("/{}", app.filters.controls));
    }
    if let Some(s) = app.facets.control_state {
        tags.push(format!("[state={s}]"));
    }
    let title = Title {
        name: format!("{} · {}", Pane::Controls.title(), std.id),
        counter: Title::counter(app.controls.selected, control_positions.len() as u64),
        sort: app.sorts.controls.label().into(),
        tags,
        ..Title::default()
    };
    let title = title.render(inner_w.saturating_sub(2));
    let block = pane_block(t, title, focused, range.start, rows.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
