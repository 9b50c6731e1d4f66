//! Controls of the selected standard, grouped by section, with state and resource counts.

use crate::assess::Attested;
use crate::tui::app::{App, ControlRow, Pane};
use crate::tui::widgets::{cell, control_icon, pane_block};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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
    let Some(std) = app.standard() else {
        let b = pane_block(t, Pane::Controls.title().into(), focused, 0, 0);
        f.render_widget(Paragraph::new(Line::from(Span::styled("Select a standard.", t.get("dim")))).block(b), area);
        return;
    };
    let inner_w = area.width.saturating_sub(2) as usize;
    let id_w = std.controls.iter().map(|c| c.id.chars().count()).max().unwrap_or(4).clamp(3, 12);
    let counts_w = 12;
    let title_w = inner_w.saturating_sub(2 + id_w + 1 + counts_w + 1);
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
                let counts = match (&c.attestation, c.checks.is_empty()) {
                    (Some(Attested::Expired), _) => "att. expired".to_string(),
                    (Some(Attested::Partial { .. }), _) => "att. partial".to_string(),
                    (Some(_), true) => "attested".to_string(),
                    (None, true) => "manual".to_string(),
                    _ => format!("{:>4}✔ {:>4}✘", c.healthy_resources, c.unhealthy_resources + c.error_resources),
                };
                let mut row = vec![
                    Span::styled(format!("{} ", control_icon(c.state)), style),
                    Span::styled(cell(&c.id, id_w), t.get("accent")),
                    Span::raw(" "),
                    Span::styled(cell(&c.title, title_w), t.get("text")),
                    Span::styled(format!(" {:>12}", counts), style),
                ];
                if i == sel_row {
                    row = crate::tui::widgets::selected(row, t);
                }
                lines.push(Line::from(row));
            }
        }
    }
    let filter = &app.filters.controls;
    let mut title = format!("{} · {}", Pane::Controls.title(), std.id);
    if !filter.is_empty() {
        title.push_str(&format!(" /{filter}"));
    }
    if let Some(s) = app.facets.control_state {
        title.push_str(&format!(" [{s}]"));
    }
    let block = pane_block(t, title, focused, range.start, rows.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
