//! Standards: where do we stand — "N of M", a gauge, the state, the score over the runs.

use crate::assess::StandardSummary;
use crate::tui::app::{App, Pane};
use crate::tui::order::SortOrder;
use crate::tui::widgets::{Col, Title, control_icon, gauge, pane_block, row, widths};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn passed(s: &StandardSummary) -> String {
    format!("{} of {}", s.passed_controls, s.counted())
}

fn pct(s: &StandardSummary) -> String {
    format!("{:.1}%", s.compliance_pct)
}

/// Draw the standards pane.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let focused = app.focus == Pane::Standards;
    let height = area.height.saturating_sub(2) as usize;
    let range = app.standards.window(height);
    let t = &app.theme;
    let list = app.visible_standards();
    let inner_w = area.width.saturating_sub(2) as usize;
    let gauge_w = if inner_w >= 70 { 12 } else { 6 };
    // The score over the stored runs, where it leaves the names room enough.
    let spark_w = super::trend::spark_width(app, inner_w.saturating_sub(2 + 11 + gauge_w + 8 + 2));
    // Icon, name, "N of M", gauge, sparkline, percentage: the sparkline and then the gauge go
    // first when room runs out, then the name is cut; the figures never are.
    let cols = [
        Col::fixed(1, 20),
        Col::flex(12, 1, 16),
        Col::num(Col::width_of(list.iter().map(|s| passed(s))), 18),
        Col::fixed(gauge_w, 5),
        Col::fixed(spark_w, 4),
        Col::num(Col::width_of(list.iter().map(|s| pct(s))), 19),
    ];
    let w = widths(&cols, inner_w);
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
        let cells = vec![
            Span::styled(control_icon(s.state), style),
            Span::styled(app.standard_label(s).into_owned(), t.get("text")),
            Span::styled(passed(s), t.get("text")),
            Span::styled(gauge(s.compliance_pct, gauge_w), t.get("gauge")),
            super::trend::spark_cell(app, s, spark_w).unwrap_or_else(|| Span::raw("")),
            Span::styled(pct(s), style),
        ];
        let mut spans = row(cells, &cols, &w);
        if i == app.standards.selected {
            spans = crate::tui::widgets::selected(spans, t);
        }
        lines.push(Line::from(spans));
    }
    let filter = &app.filters.standards;
    let title = Title {
        name: Pane::Standards.title().into(),
        counter: Title::counter(app.standards.selected, list.len() as u64),
        sort: app.sorts.standards.label().into(),
        tags: if filter.is_empty() { Vec::new() } else { vec![format!("/{filter}")] },
        ..Title::default()
    };
    let title = title.render(inner_w.saturating_sub(2));
    let block = pane_block(t, title, focused, range.start, list.len().saturating_sub(range.end));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
