//! Standards: where do we stand — "N of M", a gauge, the state.

use crate::tui::app::{App, Pane};
use crate::tui::widgets::{cell, control_icon, gauge, pane_block};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draw the standards pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Standards;
    let height = area.height.saturating_sub(2) as usize;
    let range = app.standards.window(height);
    let t = &app.theme;
    let list = app.visible_standards();
    let inner_w = area.width.saturating_sub(2) as usize;
    let gauge_w = if inner_w >= 70 { 12 } else { 6 };
    let name_w = inner_w.saturating_sub(2 + 11 + gauge_w + 8 + 2);
    let mut lines: Vec<Line> = Vec::new();
    if list.is_empty() {
        let msg = if app.run.is_none() {
            "No run in the cache yet: press r to assess."
        } else {
            "No standard matches the filter."
        };
        lines.push(Line::from(Span::styled(msg, t.get("dim"))));
    }
    for i in range.clone() {
        let s = list[i];
        let style = t.control(s.state);
        let mut row = vec![
            Span::styled(format!("{} ", control_icon(s.state)), style),
            Span::styled(cell(&app.standard_label(s), name_w), t.get("text")),
            Span::styled(format!(" {:>10}", format!("{} of {}", s.passed_controls, s.counted())), t.get("text")),
            Span::styled(format!(" {}", gauge(s.compliance_pct, gauge_w)), t.get("gauge")),
            Span::styled(format!(" {:>5.1}%", s.compliance_pct), style),
        ];
        if i == app.standards.selected {
            row = crate::tui::widgets::selected(row, t);
        }
        lines.push(Line::from(row));
    }
    let filter = &app.filters.standards;
    let title = if filter.is_empty() {
        Pane::Standards.title().to_string()
    } else {
        format!("{} /{}", Pane::Standards.title(), filter)
    };
    let block = pane_block(t, title, focused, range.start, list.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
