//! The help popup's text: the keys (from the keymap, as users type them), the form and prompt
//! keys, the commands, and a legend of every state icon with its colour. Lines are wrapped
//! here, each continuation indented under its description, so the popup scrolls by rows.

use super::popup::{popup, scrolling_key};
use crate::tui::app::App;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::{Action, BINDINGS};
use crate::tui::widgets::{fit, line};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Columns of the help popup at most.
const HELP_W: u16 = 84;

/// The commands the help lists (the `:` line).
const COMMANDS: &[(&str, &str)] = &[
    (":standard ID  :ID", "switch standard (an alias works: :nist, :cis-azure)"),
    (":controls  :findings", "focus a pane (also :standards, :actions)"),
    (":resource TEXT", "open a resource by its id, name or part of either"),
    (":run ID / :latest", "show a past run / back to the newest"),
    (":diff [A [B]]", "what changed since the previous run (or between runs)"),
    ("Tab", "complete the command or standard id (again: next)"),
    (":attestations  :exemptions", "records with their state (also :assignments, :overdue)"),
    (":assess  :cancel", "start / cancel a run"),
    (":errors  :quit", "error log / quit"),
];

/// The help popup (`?`, `:help`).
#[derive(Debug, Clone, Default)]
pub struct HelpView {
    scroll: usize,
}

impl HelpView {
    /// Scroll, or close (Esc, `q`, `?`).
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        scrolling_key(&mut self.scroll, action, ctx.page)
    }

    /// Draw over `area`.
    pub fn draw(&mut self, f: &mut ratatui::Frame, area: ratatui::layout::Rect, app: &App) {
        // Wrapped to the popup's inside, so it scrolls by the rows it shows.
        let w = HELP_W.min(area.width);
        let lines = lines(app, w.saturating_sub(2) as usize, COMMANDS);
        popup(f, area, &app.theme, &mut self.scroll, "Help", lines, w);
    }
}

/// Columns of the key column (with its two-space indent).
const KEY_W: usize = 24;

/// Icons the console draws, the palette key each is drawn in, and what they mean.
pub const LEGEND: &[(&str, &str, &str)] = &[
    ("✔", "passed", "passed · healthy · attestation valid · evidence intact · done"),
    ("✘", "failed", "failed · unhealthy · attestation expired · evidence changed"),
    ("✎", "manual", "manual: no automated check, a person attests it"),
    ("–", "skipped", "skipped · not applicable (nothing of the checked type in scope)"),
    ("?", "unsupported", "unsupported (no check can judge it) · evidence missing"),
    ("!", "error", "error: the check could not be evaluated"),
    ("⊘", "exempt", "exempt · revoked"),
    ("⚑", "failed", "overdue (an action past its due date)"),
    ("◷", "manual", "expiring soon · due soon"),
    ("○", "text", "open (an owner, not yet done)"),
    ("↻", "dim", "replaced by a newer record"),
    ("≠", "failed", "evidence changed since it was attested"),
    ("↗", "dim", "evidence is a link"),
    ("⟳", "manual", "being read, or a run in progress"),
    ("▸", "dim", "the check the resources below fail"),
    ("█░", "gauge", "compliance: controls passed of those counted"),
    ("0/27", "accent", "improvement action: points achieved of possible (as `posture actions`)"),
    ("↑3 ↓9", "dim", "rows above and below the window"),
];

/// Keys of the forms and prompts (read directly, not through the keymap).
const FORM_KEYS: &[(&str, &str)] = &[
    ("Tab, ↓", "next field"),
    ("Shift-Tab, ↑", "previous field"),
    ("←, →, Space", "change a choice (status, category)"),
    ("Enter", "save: every problem is shown beside its field"),
    ("Esc, Ctrl-C", "cancel (asks y/n when something was typed)"),
];

const PROMPT_KEYS: &[(&str, &str)] =
    &[("Enter", "keep the filter / run the command"), ("Esc", "clear the filter / leave the command line")];

/// `text` wrapped at word boundaries into lines of at most `width` columns (a word longer than
/// the width is cut with `…`).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let word = fit(word, width);
        if !cur.is_empty() && cur.width() + 1 + word.width() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// A key (or icon) and its description, wrapped to `width` with the continuation lines
/// indented under the description; keys wider than their column get a line of their own.
fn entry(key: &str, what: &str, width: usize, key_style: Style, text: Style) -> Vec<Line<'static>> {
    let key = fit(key, width.saturating_sub(2));
    let desc_w = width.saturating_sub(KEY_W).max(8);
    let indent = " ".repeat(width.saturating_sub(desc_w));
    let mut lines = Vec::new();
    let mut first = format!("  {key}");
    if first.width() + 1 > width.saturating_sub(desc_w) {
        lines.push(Line::from(Span::styled(first, key_style)));
        first = indent.clone();
    } else {
        let pad = width.saturating_sub(desc_w) - first.width();
        first.push_str(&" ".repeat(pad));
    }
    for (k, part) in wrap(what, desc_w).into_iter().enumerate() {
        let lead = if k == 0 { Span::styled(first.clone(), key_style) } else { Span::raw(indent.clone()) };
        lines.push(Line::from(vec![lead, Span::styled(part, text)]));
    }
    lines
}

/// Every line of help for a popup `width` columns inside; `commands` lists the `:` commands.
pub fn lines(app: &App, width: usize, commands: &[(&str, &str)]) -> Vec<Line<'static>> {
    let t = &app.theme;
    let (accent, text, title) = (t.get("accent"), t.get("text"), t.get("title"));
    let heading = |s: &str| wrap(s, width).into_iter().map(|l| line(l, title)).collect::<Vec<_>>();
    let mut out = heading("Keys (override them in the config's [keys] table)");
    out.push(Line::default());
    for b in BINDINGS {
        out.extend(entry(&app.keymap.labels(b.action).join(", "), b.help, width, accent, text));
    }
    for (head, keys) in [("In a form (a, e, o, R)", FORM_KEYS), ("At the / and : prompts", PROMPT_KEYS)] {
        out.push(Line::default());
        out.extend(heading(head));
        for (k, what) in keys {
            out.extend(entry(k, what, width, accent, text));
        }
    }
    out.push(Line::default());
    out.extend(heading("Commands (:)"));
    for (c, h) in commands {
        out.extend(entry(c, h, width, accent, text));
    }
    out.push(Line::default());
    out.extend(heading("Icons (each in its colour; readable without colour too)"));
    for (icon, key, what) in LEGEND {
        out.extend(entry(icon, what, width, t.get(key), text));
    }
    out.push(Line::default());
    out.push(line(format!("theme: {}", t.name), t.get("dim")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 5), ["abcd…"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn legend_uses_palette_keys() {
        for (_, key, _) in LEGEND {
            assert!(crate::tui::theme::KEYS.contains(key), "{key}");
        }
    }
}
