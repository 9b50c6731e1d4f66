//! Improvement actions: what to do first, by points at stake, with owner and due date.

use crate::model::ControlState;
use crate::tui::app::{App, Pane};
use crate::tui::widgets::{cell, control_icon, pane_block};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draw the actions pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Actions;
    let height = area.height.saturating_sub(2) as usize;
    let range = app.actions.window(height);
    let t = &app.theme;
    let today = (app.clock)().date_naive();
    let list = app.visible_actions();
    let inner_w = area.width.saturating_sub(2) as usize;
    let owner_w = if inner_w >= 70 { 12 } else { 0 };
    // Room for the overdue marker before the date when one is shown.
    let marker = list.iter().any(|a| crate::governance::overdue(a.due, a.achieved, a.points, today));
    let due_w = match (inner_w >= 70, marker) {
        (false, _) => 0,
        (true, true) => 12,
        (true, false) => 10,
    };
    let title_w = inner_w.saturating_sub(2 + 7 + 1 + 8 + owner_w + due_w + 2);
    let mut lines = Vec::new();
    if list.is_empty() {
        lines.push(Line::from(Span::styled("No improvement action.", t.get("dim"))));
    }
    for i in range.clone() {
        let a = list[i];
        let style = t.control(a.state);
        let stake = a.points - a.achieved;
        let what = if a.state == ControlState::Failed && a.unhealthy_resources > 0 {
            format!("{}✘", a.unhealthy_resources)
        } else {
            a.state.to_string()
        };
        let overdue = crate::governance::overdue(a.due, a.achieved, a.points, today);
        let mut spans = vec![
            Span::styled(format!("{} ", control_icon(a.state)), style),
            Span::styled(format!("{:>3}/{:<3}", stake, a.points), t.get("accent")),
            Span::raw(" "),
            Span::styled(cell(&what, 8), style),
            Span::styled(cell(&a.title, title_w), t.get("text")),
        ];
        if owner_w > 0 {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(cell(a.owner.as_deref().unwrap_or(""), owner_w), t.get("dim")));
            spans.push(Span::raw(" "));
            spans.push(Span::styled(
                // A marker, not only a colour: readable in 16 colours, in mono, and when copied.
                cell(
                    &a.due
                        .map(
                            |d| {
                                if marker {
                                    format!("{}{d}", if overdue { "⚑ " } else { "  " })
                                } else {
                                    d.to_string()
                                }
                            },
                        )
                        .unwrap_or_default(),
                    due_w,
                ),
                if overdue { t.get("failed") } else { t.get("dim") },
            ));
        }
        if i == app.actions.selected {
            spans = crate::tui::widgets::selected(spans, t);
        }
        lines.push(Line::from(spans));
    }
    let mut title = format!("{} · points at stake", Pane::Actions.title());
    if !app.filters.actions.is_empty() {
        title.push_str(&format!(" /{}", app.filters.actions));
    }
    if app.facets.overdue {
        title.push_str(" [overdue]");
    }
    let block = pane_block(t, title, focused, range.start, list.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
