//! Small drawing helpers shared by the panes.

use super::theme::Theme;
use crate::model::{ControlState, FindingState};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

/// Icon of a control state (readable without colour).
pub fn control_icon(s: ControlState) -> &'static str {
    match s {
        ControlState::Passed => "✔",
        ControlState::Failed => "✘",
        ControlState::Manual => "✎",
        ControlState::Skipped => "–",
        ControlState::Unsupported => "?",
    }
}

/// Icon of a finding state.
pub fn finding_icon(s: FindingState) -> &'static str {
    match s {
        FindingState::Healthy => "✔",
        FindingState::Unhealthy => "✘",
        FindingState::NotApplicable => "–",
        FindingState::Error => "!",
        FindingState::Exempt => "⊘",
        FindingState::Manual => "✎",
    }
}

pub use crate::sanitize::{cell, fit};

/// A pane's frame: title, focus colour, and "more above/below" counts at the bottom.
pub fn pane_block<'a>(theme: &Theme, title: String, focused: bool, above: usize, below: usize) -> Block<'a> {
    let border = if focused { theme.get("border_focus") } else { theme.get("border") };
    let mut b = Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(border)
        .title(Line::from(Span::styled(
            format!(" {title} "),
            if focused { theme.get("accent") } else { theme.get("title") },
        )));
    let mut more = Vec::new();
    if above > 0 {
        more.push(format!("↑{above} more"));
    }
    if below > 0 {
        more.push(format!("↓{below} more"));
    }
    if !more.is_empty() {
        b = b.title_bottom(Line::from(Span::styled(format!(" {} ", more.join(" ")), theme.get("dim"))).right_aligned());
    }
    b
}

/// A text gauge like `███████░░░ 70%`.
pub fn gauge(pct: f64, width: usize) -> String {
    let width = width.max(1);
    let filled = ((pct / 100.0) * width as f64).round().clamp(0.0, width as f64) as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// A centred rectangle of at most `w` × `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// A line of one style.
pub fn line(text: impl Into<String>, style: Style) -> Line<'static> {
    Line::from(Span::styled(text.into(), style))
}

/// A row's spans with the selection style laid over each (the cursor row of a list).
pub fn selected(spans: Vec<Span<'static>>, theme: &Theme) -> Vec<Span<'static>> {
    let sel = theme.get("selected");
    spans
        .into_iter()
        .map(|sp| {
            let st = sp.style.patch(sel);
            sp.style(st)
        })
        .collect()
}
