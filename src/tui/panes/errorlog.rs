//! The error log popup (`E`, `:errors`): every error of the session, newest first.

use super::popup::{popup, scrolling_key};
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::widgets::line;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// The error log popup.
#[derive(Debug, Clone, Default)]
pub struct ErrorLogView {
    scroll: usize,
}

impl ErrorLogView {
    /// Scroll, or close.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        scrolling_key(&mut self.scroll, action, ctx.page)
    }

    /// Draw over `area`.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, app: &App) {
        let t = &app.theme;
        // Newest first: the error that just happened is at the top.
        let mut lines: Vec<Line> = app
            .errors
            .iter()
            .rev()
            .map(|e| {
                Line::from(vec![
                    Span::styled(e.at.format("%H:%M:%S  ").to_string(), t.get("dim")),
                    Span::styled(clean(&e.text).into_owned(), t.get("error")),
                ])
            })
            .collect();
        if lines.is_empty() {
            lines.push(line("No error in this session.", t.get("dim")));
        }
        let title = format!("Error log ({}, newest first)", app.errors.len());
        popup(f, area, t, &mut self.scroll, &title, lines, area.width.saturating_sub(4));
    }
}
