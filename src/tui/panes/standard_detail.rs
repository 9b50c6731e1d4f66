//! The standard detail popup (`d` in Standards): its score, counts, description and its
//! score over the stored runs as a chart.

use super::popup::{popup_above, scrolling_key};
use crate::tui::app::App;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::widgets::{gauge, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// The selected standard's detail.
#[derive(Debug, Clone, Default)]
pub struct StandardView {
    scroll: usize,
}

impl StandardView {
    /// Scroll, or close.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        scrolling_key(&mut self.scroll, action, ctx.page)
    }

    /// Draw over `area` (nothing when no standard is selected).
    pub fn draw(&mut self, f: &mut Frame, area: Rect, app: &App) {
        let t = &app.theme;
        let Some(s) = app.standard() else { return };
        let mut lines = vec![
            line(format!("{} {}", s.name, s.version), t.get("title")),
            line(s.id.clone(), t.get("dim")),
            Line::default(),
            Line::from(vec![
                Span::styled(format!("{} of {} controls passed  ", s.passed_controls, s.counted()), t.get("text")),
                Span::styled(format!("{} {:.1}%", gauge(s.compliance_pct, 20), s.compliance_pct), t.control(s.state)),
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
        let chart = popup_above(f, area, t, &mut self.scroll, ("Standard", lines, 80), chart_rows);
        super::trend::standard_chart(f, chart, app);
    }
}
