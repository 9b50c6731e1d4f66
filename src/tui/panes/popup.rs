//! The frame and scrolling shared by the text popups (help, error log, details, facets).

use crate::tui::effect::Effect;
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// A popup's border with its title and the close hint.
pub fn frame<'a>(t: &Theme, title: &str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(t.get("border_focus"))
        .title(Line::from(Span::styled(format!(" {title} "), t.get("accent"))))
        .title_bottom(Line::from(Span::styled(" Esc close ", t.get("dim"))).right_aligned())
}

/// Move `scroll` for a scrolling key (j/k, pages, top); false for any other key.
pub fn scroll_key(scroll: &mut usize, action: Action, page: usize) -> bool {
    match action {
        Action::Down => *scroll += 1,
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::PageDown => *scroll += page,
        Action::PageUp => *scroll = scroll.saturating_sub(page),
        Action::Top => *scroll = 0,
        _ => return false,
    }
    true
}

/// A centred popup that scrolls (j/k) when its lines do not fit, saying how many are hidden;
/// `scroll` is clamped to what can be scrolled.
pub fn popup(f: &mut Frame, area: Rect, t: &Theme, scroll: &mut usize, title: &str, lines: Vec<Line<'static>>, w: u16) {
    popup_above(f, area, t, scroll, (title, lines, w), 0);
}

/// [`popup`] with up to `chart_rows` rows kept under its lines (for a chart; at most half
/// the popup), returned.
pub fn popup_above(
    f: &mut Frame,
    area: Rect,
    t: &Theme,
    scroll: &mut usize,
    (title, lines, w): (&str, Vec<Line<'static>>, u16),
    chart_rows: u16,
) -> Rect {
    // Rows after wrapping, so long descriptions scroll as far as they go.
    let inner_w = w.min(area.width).saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_w)).sum();
    let h = (rows as u16 + 2 + chart_rows).min(area.height);
    let rect = centered(area, w, h.max(5));
    let chart_rows = chart_rows.min(rect.height.saturating_sub(2) / 2);
    let inner = rect.height.saturating_sub(2 + chart_rows) as usize;
    let max = rows.saturating_sub(inner);
    *scroll = (*scroll).min(max);
    let scroll = *scroll;
    let below = rows.saturating_sub(scroll + inner);
    let mut block = frame(t, title);
    if scroll > 0 || below > 0 {
        block = block
            .title_top(Line::from(Span::styled(format!(" ↑{scroll} ↓{below} j/k "), t.get("dim"))).right_aligned());
    }
    f.render_widget(Clear, rect);
    let text = block.inner(rect);
    f.render_widget(block, rect);
    let [text, chart] = Layout::vertical([Constraint::Min(0), Constraint::Length(chart_rows)]).areas(text);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll as u16, 0)), text);
    chart
}

/// The keys of a popup that only scrolls (help, error log, details): j/k and pages move,
/// Esc, `q`, Enter and the key that opened one of them close it.
pub fn scrolling_key(scroll: &mut usize, action: Action, page: usize) -> Vec<Effect> {
    match action {
        Action::Back | Action::Enter | Action::Help | Action::ErrorLog | Action::Detail | Action::Quit => {
            vec![Effect::Close]
        }
        other => {
            scroll_key(scroll, other, page);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrolling_popup_scrolls_and_closes_on_q_esc_and_its_own_key() {
        let mut scroll = 0;
        assert!(scrolling_key(&mut scroll, Action::PageDown, 10).is_empty());
        assert!(scrolling_key(&mut scroll, Action::Up, 10).is_empty());
        assert_eq!(scroll, 9);
        for a in [Action::Quit, Action::Back, Action::Help, Action::Enter] {
            assert!(matches!(scrolling_key(&mut scroll, a, 10).as_slice(), [Effect::Close]), "{a:?}");
        }
        assert!(scrolling_key(&mut scroll, Action::Yank, 10).is_empty(), "other keys do nothing");
    }
}
