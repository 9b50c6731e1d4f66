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

/// One column of a list row. Panes describe their rows as a list of columns and
/// [`widths`] decides, for the room there is, how wide each is and which are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Width of its widest content.
    pub want: usize,
    /// Narrowest it may be cut to (with `…`); `want` for numbers, which are never cut.
    pub min: usize,
    /// Share of the room left over once every column has its width (0: none).
    pub grow: usize,
    /// Kept longest when the room runs out (higher first).
    pub priority: u8,
    /// Right-aligned (numbers).
    pub right: bool,
}

impl Col {
    /// A column that is shown whole or not at all (icons, numbers, dates).
    pub fn fixed(want: usize, priority: u8) -> Col {
        Col { want, min: want, grow: 0, priority, right: false }
    }

    /// A right-aligned number column, never cut.
    pub fn num(want: usize, priority: u8) -> Col {
        Col { right: true, ..Col::fixed(want, priority) }
    }

    /// A text column of `want` columns that may be cut down to `min`.
    pub fn text(want: usize, min: usize, priority: u8) -> Col {
        Col { want, min: min.min(want), grow: 0, priority, right: false }
    }

    /// A text column that takes a `grow` share of the room left (titles, names).
    pub fn flex(min: usize, grow: usize, priority: u8) -> Col {
        Col { want: min, min, grow, priority, right: false }
    }

    /// Width of the widest of `texts` (display columns, as drawn).
    pub fn width_of<S: AsRef<str>>(texts: impl IntoIterator<Item = S>) -> usize {
        texts
            .into_iter()
            .map(|s| unicode_width::UnicodeWidthStr::width(crate::sanitize::clean(s.as_ref()).as_ref()))
            .max()
            .unwrap_or(0)
    }
}

/// The width of each column in `avail` display columns, one space between the columns shown;
/// 0 for a column left out. When the room runs out, columns give way least important first: a
/// text column is cut down to its minimum (with `…`), a fixed one (numbers) is dropped whole,
/// and a text column that is still too wide is dropped too; a more important column is touched
/// only once every less important one has given way. The room left goes to the growing
/// columns by their share.
pub fn widths(cols: &[Col], avail: usize) -> Vec<usize> {
    // An empty column (no content anywhere) takes no room.
    let mut w: Vec<usize> = cols.iter().map(|c| if c.want > 0 || c.grow > 0 { c.want } else { 0 }).collect();
    let total = |w: &[usize]| {
        let n = w.iter().filter(|x| **x > 0).count();
        w.iter().sum::<usize>() + n.saturating_sub(1)
    };
    let mut order: Vec<usize> = (0..cols.len()).filter(|&i| w[i] > 0).collect();
    order.sort_by_key(|&i| (cols[i].priority, std::cmp::Reverse(i)));
    // The most important column stays, cut to the room if it must.
    let keep = order.pop();
    for i in order {
        let t = total(&w);
        if t <= avail {
            break;
        }
        let over = t - avail;
        let slack = w[i].saturating_sub(cols[i].min);
        if slack >= over { w[i] -= over } else { w[i] = 0 }
    }
    if let Some(k) = keep {
        let rest = total(&w).saturating_sub(w[k] + 1);
        let others = w.iter().filter(|x| **x > 0).count() > 1;
        let room = avail.saturating_sub(if others { rest + 1 } else { 0 });
        w[k] = w[k].min(room.max(1));
    }
    let shown: Vec<bool> = w.iter().map(|x| *x > 0).collect();
    let room = avail.saturating_sub(total(&w));
    grow_into(cols, &mut w, &shown, room);
    w
}

/// Share `room` among the shown growing columns by their `grow` (the last takes what is left).
fn grow_into(cols: &[Col], w: &mut [usize], shown: &[bool], room: usize) {
    let growing: Vec<usize> = (0..cols.len()).filter(|&i| shown[i] && cols[i].grow > 0).collect();
    let total: usize = growing.iter().map(|&i| cols[i].grow).sum();
    let mut left = room;
    for (k, &i) in growing.iter().enumerate() {
        let share = if k + 1 == growing.len() { left } else { room * cols[i].grow / total };
        w[i] += share;
        left -= share;
    }
}

/// A row's spans: each cell cut (with `…`) or padded to its column's width, one space
/// between the columns shown; cells of left-out columns are skipped.
pub fn row(cells: Vec<Span<'static>>, cols: &[Col], widths: &[usize]) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for ((sp, col), &w) in cells.into_iter().zip(cols).zip(widths) {
        if w == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push(Span::raw(" "));
        }
        let text = if col.right { format!("{:>w$}", fit(&sp.content, w)) } else { cell(&sp.content, w) };
        out.push(Span::styled(text, sp.style));
    }
    out
}

/// What a list pane's title says: its name, what it shows (cut first when the title is too
/// long), the cursor's row of the total, the sort order, and the active filters as tags
/// (those that do not fit are summarised as `+N`).
#[derive(Debug, Clone, Default)]
pub struct Title {
    /// The pane's name.
    pub name: String,
    /// What the pane shows (a standard, a control), if it depends on the selection.
    pub subject: String,
    /// `12/17500`: the cursor's row of all the rows.
    pub counter: String,
    /// The sort order's label.
    pub sort: String,
    /// A mark after the counter (`⟳` while rows are being read).
    pub busy: bool,
    /// Active filters: `/text`, `[state=failed]`.
    pub tags: Vec<String>,
}

impl Title {
    /// `cursor/total` of a list (0/0 when it is empty).
    pub fn counter(selected: usize, total: u64) -> String {
        if total == 0 { "0/0".into() } else { format!("{}/{total}", selected + 1) }
    }

    /// The title in at most `width` display columns.
    pub fn render(&self, width: usize) -> String {
        use unicode_width::UnicodeWidthStr as W;
        let mut tail = format!(" {}", self.counter);
        if self.busy {
            tail.push_str(" ⟳");
        }
        if !self.sort.is_empty() {
            tail.push_str(&format!(" · by {}", self.sort));
        }
        let name = crate::sanitize::clean(&self.name).into_owned();
        // Room kept for a few columns of the subject before any tag.
        let subject_min = if self.subject.is_empty() { 0 } else { 3 + self.subject.width().min(10) };
        let essential = name.width() + tail.width() + subject_min;
        // Tags in order while they fit, with room kept for the `+N` of the rest.
        let mut tags = String::new();
        for (k, tag) in self.tags.iter().enumerate() {
            let tag = format!(" {}", crate::sanitize::clean(tag));
            let rest = self.tags.len() - k - 1;
            let more = if rest > 0 { format!(" +{rest}").width() } else { 0 };
            if essential + tags.width() + tag.width() + more <= width {
                tags.push_str(&tag);
            } else {
                tags.push_str(&format!(" +{}", self.tags.len() - k));
                break;
            }
        }
        let used = essential - subject_min + tags.width();
        let subject = if self.subject.is_empty() || used + subject_min > width {
            String::new()
        } else {
            format!(" · {}", fit(&self.subject, width - used - 3))
        };
        fit(&format!("{name}{subject}{tail}{tags}"), width)
    }
}

/// `text` cut into lines of at most `width` columns, at the last space that fits where there is
/// one (the space ends its line), else in the middle of the word: the lines joined give `text`
/// back exactly, so a command shown wrapped is the command copied.
pub fn wrap_exact(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar as W;
    let width = width.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut cur_w, mut last_space) = (0, None::<usize>);
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if cur_w + w > width && !cur.is_empty() {
            // Break after the last space when there is one, carrying the rest of the word.
            let rest = match last_space {
                Some(at) if at < cur.len() => cur.split_off(at),
                _ => String::new(),
            };
            out.push(std::mem::replace(&mut cur, rest));
            cur_w = cur.chars().map(|c| c.width().unwrap_or(0)).sum();
            last_space = None;
        }
        cur.push(ch);
        cur_w += w;
        if ch == ' ' {
            last_space = Some(cur.len());
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn exact_wrapping_keeps_every_character_and_breaks_at_spaces() {
        let cmd = "aws s3api put-bucket-policy --bucket 'a  b' --policy file://p.json";
        for w in [1, 5, 12, 20, 80] {
            let lines = super::wrap_exact(cmd, w);
            assert_eq!(lines.concat(), cmd, "width {w}");
            assert!(lines.iter().all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= w), "width {w}");
        }
        assert_eq!(super::wrap_exact("one two three", 8), ["one two ", "three"]);
        assert_eq!(super::wrap_exact("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(super::wrap_exact("", 4), [""]);
    }
    use super::*;

    #[test]
    fn columns_give_way_least_important_first() {
        // icon, number, a low-priority state, a title that grows, an owner that may be cut.
        let cols = [Col::fixed(1, 20), Col::num(4, 19), Col::fixed(6, 5), Col::flex(10, 1, 18), Col::text(12, 6, 7)];
        // Room for everything: the title takes the rest.
        assert_eq!(widths(&cols, 60), [1, 4, 6, 33, 12]);
        // Less room: the state goes first, then the owner is cut, then it goes too.
        assert_eq!(widths(&cols, 30), [1, 4, 0, 10, 12]);
        assert_eq!(widths(&cols, 25), [1, 4, 0, 10, 7]);
        assert_eq!(widths(&cols, 17), [1, 4, 0, 10, 0]);
        // An empty column takes no room.
        let cols = [Col::fixed(1, 20), Col::text(0, 0, 7), Col::flex(5, 1, 18)];
        assert_eq!(widths(&cols, 20), [1, 0, 18]);
    }

    #[test]
    fn numbers_are_never_cut_and_text_ends_in_an_ellipsis() {
        let cols = [Col::flex(4, 1, 10), Col::num(13, 19)];
        let w = widths(&cols, 20);
        let spans = row(vec![Span::raw("Security groups do not"), Span::raw("61222✔ 26278✘")], &cols, &w);
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "Secur… 61222✔ 26278✘");
    }

    #[test]
    fn titles_keep_counter_and_sort_and_summarise_tags() {
        let t = Title {
            name: "Failing resources".into(),
            subject: "1.1 Security defaults are on".into(),
            counter: Title::counter(11, 17500),
            sort: "check".into(),
            busy: false,
            tags: vec!["/web".into(), "[sev=high]".into(), "[cloud=azure]".into()],
        };
        assert_eq!(
            t.render(200),
            "Failing resources · 1.1 Security defaults are on 12/17500 · by check /web [sev=high] [cloud=azure]"
        );
        assert_eq!(t.render(60), "Failing resources · 1.1 Securit… 12/17500 · by check /web +2");
        assert_eq!(Title::counter(0, 0), "0/0");
    }
}
