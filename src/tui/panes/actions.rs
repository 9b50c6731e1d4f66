//! Improvement actions: what to do first, by points at stake, with owner and due date.
//! Points read `achieved/possible`, as `posture actions` prints them.

use crate::assess::Action as ImprovementAction;
use crate::model::ControlState;
use crate::tui::app::{App, Pane};
use crate::tui::order::SortOrder;
use crate::tui::widgets::{Col, Title, control_icon, pane_block, row, widths};
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// `achieved/possible`: the action's share of the compliance score (DESIGN.md), the CLI's figure.
pub fn points(a: &ImprovementAction) -> String {
    format!("{}/{}", a.achieved, a.points)
}

/// The unhealthy resources of a failed action (`3✘`); other states say enough by their icon.
fn what(a: &ImprovementAction) -> String {
    if a.state == ControlState::Failed && a.unhealthy_resources > 0 {
        format!("{}✘", a.unhealthy_resources)
    } else {
        String::new()
    }
}

/// The due date, after an overdue marker when any row has one (a marker, not only a colour:
/// readable in 16 colours, in mono, and when copied).
fn due(a: &ImprovementAction, marker: bool, today: NaiveDate) -> String {
    let overdue = crate::governance::overdue(a.due, a.achieved, a.points, today);
    match (a.due, marker) {
        (None, _) => String::new(),
        (Some(d), true) => format!("{}{d}", if overdue { "⚑ " } else { "  " }),
        (Some(d), false) => d.to_string(),
    }
}

/// Draw the actions pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Actions;
    let height = area.height.saturating_sub(2) as usize;
    let range = app.actions.window(height);
    let t = &app.theme;
    let today = (app.clock)().date_naive();
    let list = app.visible_actions();
    let inner_w = area.width.saturating_sub(2) as usize;
    let marker = list.iter().any(|a| crate::governance::overdue(a.due, a.achieved, a.points, today));
    // Icon, points, unhealthy resources, title, owner, due: each as wide as its content.
    let cols = [
        Col::fixed(1, 20),
        Col::num(Col::width_of(list.iter().map(|a| points(a))), 19),
        Col::num(Col::width_of(list.iter().map(|a| what(a))), 5),
        Col::flex(22, 1, 18),
        Col::text(Col::width_of(list.iter().filter_map(|a| a.owner.as_deref())).min(14), 6, 7),
        Col::fixed(Col::width_of(list.iter().map(|a| due(a, marker, today))), 8),
    ];
    let w = widths(&cols, inner_w);
    let mut lines = Vec::new();
    if list.is_empty() {
        lines.push(Line::from(Span::styled("No improvement action.", t.get("dim"))));
    }
    for i in range.clone() {
        let a = list[i];
        let style = t.control(a.state);
        let overdue = crate::governance::overdue(a.due, a.achieved, a.points, today);
        let cells = vec![
            Span::styled(control_icon(a.state), style),
            Span::styled(points(a), t.get("accent")),
            Span::styled(what(a), style),
            Span::styled(a.title.clone(), t.get("text")),
            Span::styled(a.owner.clone().unwrap_or_default(), t.get("dim")),
            Span::styled(due(a, marker, today), if overdue { t.get("failed") } else { t.get("dim") }),
        ];
        let mut spans = row(cells, &cols, &w);
        if i == app.actions.selected {
            spans = crate::tui::widgets::selected(spans, t);
        }
        lines.push(Line::from(spans));
    }
    let mut tags = Vec::new();
    if !app.filters.actions.is_empty() {
        tags.push(format!("/{}", app.filters.actions));
    }
    if let Some(s) = app.facets.action_state {
        tags.push(format!("[state={s}]"));
    }
    if app.facets.overdue {
        tags.push("[overdue]".into());
    }
    let title = Title {
        name: Pane::Actions.title().into(),
        counter: Title::counter(app.actions.selected, list.len() as u64),
        sort: app.sorts.actions.label().into(),
        tags,
        ..Title::default()
    };
    let title = title.render(inner_w.saturating_sub(2));
    let block = pane_block(t, title, focused, range.start, list.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
