//! A form popup: one line per field, every problem next to its field, the keys at the bottom.

use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::widgets::{centered, fit, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

/// Draw the open form, if any.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let Some(form) = &app.form else { return };
    let t = &app.theme;
    let w = area.width.saturating_sub(4).min(96);
    let value_w = w.saturating_sub(16) as usize;
    let mut lines = vec![Line::default()];
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let value = field.input.value();
        let shown = if field.choices.is_empty() { clean(value).into_owned() } else { format!("◂ {} ▸", value) };
        let mut spans = vec![
            Span::styled(
                format!("{}{:>10}  ", if focused { "▶" } else { " " }, field.label),
                if focused { t.get("accent") } else { t.get("dim") },
            ),
            Span::styled(fit(&shown, value_w), if focused { t.get("selected") } else { t.get("text") }),
        ];
        if focused && field.choices.is_empty() {
            spans.push(Span::styled("▏", t.get("accent")));
        }
        if value.is_empty() && !field.hint.is_empty() {
            spans.push(Span::styled(format!(" {}", field.hint), t.get("dim")));
        }
        lines.push(Line::from(spans));
        for (_, msg) in form.errors.iter().filter(|(ei, _)| *ei == i) {
            lines.push(line(
                fit(&format!("              ✘ {}", clean(msg)), w.saturating_sub(2) as usize),
                t.get("error"),
            ));
        }
    }
    lines.push(Line::default());
    if form.errors.len() > 1 {
        lines.push(line(format!("{} problems: nothing was saved", form.errors.len()), t.get("error")));
    }
    if form.confirm_cancel {
        lines.push(line("Discard what you typed? y to discard, any other key to keep editing", t.get("failed")));
    } else {
        lines.push(line("Tab/↑↓ field · ←/→ choose · Enter save · Esc cancel", t.get("dim")));
    }
    let h = lines.len() as u16 + 2;
    let rect = centered(area, w, h);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(t.get("border_focus"))
        .title(Line::from(Span::styled(
            format!(" {} ", fit(&clean(&form.title), w.saturating_sub(4) as usize)),
            t.get("accent"),
        )));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
}
