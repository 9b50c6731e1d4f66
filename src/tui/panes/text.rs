//! A popup of plain text lines (an improvement action's detail): scrolls, Esc closes.

use super::popup::{frame, scroll_key};
use crate::sanitize::clean;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

/// Lines under a title.
#[derive(Debug, Clone, Default)]
pub struct TextView {
    /// Title.
    pub title: String,
    /// Lines (cleaned when drawn).
    pub lines: Vec<String>,
    /// Scroll offset.
    pub scroll: usize,
}

impl TextView {
    /// `lines` under `title`, from the top.
    pub fn new(title: impl Into<String>, lines: Vec<String>) -> TextView {
        TextView { title: title.into(), lines, scroll: 0 }
    }

    /// Scroll, or close (Esc, `q`, Enter).
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        match action {
            Action::Back | Action::Enter | Action::Quit => vec![Effect::Close],
            // No `G`: the text does not know its height before it is drawn.
            Action::Bottom => Vec::new(),
            other => {
                scroll_key(&mut self.scroll, other, ctx.page);
                Vec::new()
            }
        }
    }

    /// Draw over `area`.
    pub fn draw(&self, f: &mut Frame, area: Rect, t: &Theme) {
        let lines: Vec<Line> = self.lines.iter().map(|l| line(clean(l).into_owned(), t.get("text"))).collect();
        let h = area.height.saturating_sub(2);
        let rect = centered(area, area.width.saturating_sub(4), h);
        f.render_widget(Clear, rect);
        f.render_widget(Paragraph::new(lines).block(frame(t, &self.title)).scroll((self.scroll as u16, 0)), rect);
    }
}
