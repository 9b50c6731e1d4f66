//! The diff popup (`:diff`): what changed from one run to another, as a list in sections
//! that the cursor moves through; Enter opens a resource row's detail in its run.

use crate::sanitize::clean;
use crate::store::{DiffReport, FindingRow};
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::list::ListState;
use crate::tui::theme::Theme;
use crate::tui::widgets::{cell, centered, fit, line, selected};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

/// The sections of a diff, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Unhealthy in the newer run only.
    NewFailures,
    /// Unhealthy in the older run, no longer in the newer.
    Fixed,
    /// Resources in the newer run only.
    Appeared,
    /// Resources in the older run only.
    Disappeared,
    /// Standards whose state or percentage changed.
    Standards,
    /// Controls whose state changed.
    Controls,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::NewFailures,
        Section::Fixed,
        Section::Appeared,
        Section::Disappeared,
        Section::Standards,
        Section::Controls,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::NewFailures => "New failures",
            Section::Fixed => "Fixed",
            Section::Appeared => "Resources appeared",
            Section::Disappeared => "Resources disappeared",
            Section::Standards => "Standards changed",
            Section::Controls => "Controls changed",
        }
    }

    fn len(self, d: &DiffReport) -> usize {
        match self {
            Section::NewFailures => d.new_failures.len(),
            Section::Fixed => d.fixed.len(),
            Section::Appeared => d.appeared.len(),
            Section::Disappeared => d.disappeared.len(),
            Section::Standards => d.standards.len(),
            Section::Controls => d.controls.len(),
        }
    }
}

/// What a key in the diff asks of the console.
#[derive(Debug, Clone)]
pub enum DiffEffect {
    /// Nothing beyond the view's own state.
    None,
    /// Close the popup.
    Close,
    /// Open the detail of resource `id` in run `run`, showing `known` until it is read.
    Open {
        /// The run the row belongs to (the older one for fixed and disappeared rows).
        run: i64,
        /// The resource's cloud id.
        id: String,
        /// The row's finding, when it is one.
        known: Vec<FindingRow>,
    },
    /// Show standard `standard` (and its control `control`) in the panes.
    Standard {
        /// Standard id.
        standard: String,
        /// Control id (None: the standard's own row).
        control: Option<String>,
    },
}

/// The diff of two runs with a cursor over its rows (section headings are skipped).
#[derive(Debug, Clone)]
pub struct DiffView {
    report: Box<DiffReport>,
    /// Every row: its section and index in that section's list.
    rows: Vec<(Section, usize)>,
    list: ListState,
    /// First screen line shown.
    scroll: usize,
}

impl DiffView {
    /// The view of `report`, the cursor on its first row.
    pub fn new(report: Box<DiffReport>) -> DiffView {
        let rows: Vec<(Section, usize)> =
            Section::ALL.iter().flat_map(|&s| (0..s.len(&report)).map(move |i| (s, i))).collect();
        let mut list = ListState::default();
        list.set_len(rows.len());
        DiffView { report, rows, list, scroll: 0 }
    }

    /// The older and the newer run.
    pub fn runs(&self) -> (i64, i64) {
        (self.report.from.id, self.report.to.id)
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<(Section, usize)> {
        self.rows.get(self.list.selected).copied()
    }

    /// Handle a key; `page` is the rows a page moves.
    pub fn on_action(&mut self, action: Action, page: usize) -> DiffEffect {
        match action {
            Action::Enter => self.open(),
            Action::Back | Action::Quit => DiffEffect::Close,
            other => {
                move_cursor(&mut self.list, other, page);
                DiffEffect::None
            }
        }
    }

    /// [`DiffView::on_action`] as the console's effects: Enter opens the row's resource over
    /// the diff, or shows its standard or control in the panes.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        match self.on_action(action, ctx.page) {
            DiffEffect::None => Vec::new(),
            DiffEffect::Close => vec![Effect::Close],
            DiffEffect::Open { run, id, known } => super::resource::open_over(ctx, run, id, known),
            DiffEffect::Standard { standard, control } => vec![Effect::ShowControl { standard, control }],
        }
    }

    fn open(&self) -> DiffEffect {
        let (from, to) = self.runs();
        let d = &self.report;
        let finding =
            |run: i64, f: &FindingRow| DiffEffect::Open { run, id: f.resource.id.clone(), known: vec![f.clone()] };
        let resource = |run: i64, id: &str| DiffEffect::Open { run, id: id.to_string(), known: Vec::new() };
        match self.selected() {
            Some((Section::NewFailures, i)) => d.new_failures.get(i).map_or(DiffEffect::None, |f| finding(to, f)),
            Some((Section::Fixed, i)) => d.fixed.get(i).map_or(DiffEffect::None, |f| finding(from, f)),
            Some((Section::Appeared, i)) => d.appeared.get(i).map_or(DiffEffect::None, |r| resource(to, &r.id)),
            Some((Section::Disappeared, i)) => d.disappeared.get(i).map_or(DiffEffect::None, |r| resource(from, &r.id)),
            Some((Section::Standards, i)) => d
                .standards
                .get(i)
                .map_or(DiffEffect::None, |s| DiffEffect::Standard { standard: s.standard.clone(), control: None }),
            Some((Section::Controls, i)) => d.controls.get(i).map_or(DiffEffect::None, |c| DiffEffect::Standard {
                standard: c.standard.clone(),
                control: c.control.clone(),
            }),
            None => DiffEffect::None,
        }
    }

    /// The text of row `i` of section `s`.
    fn row_spans(&self, s: Section, i: usize, w: usize, t: &Theme) -> Vec<Span<'static>> {
        let d = &self.report;
        let finding = |f: &FindingRow, icon: &str, style: &str| {
            vec![
                Span::styled(format!("  {icon} "), t.get(style)),
                Span::styled(cell(&f.resource.name, 28), t.get("text")),
                Span::styled(format!(" {}", cell(&f.check, 40)), t.get("dim")),
                Span::styled(format!(" {}", fit(&f.resource.scope, w.saturating_sub(76))), t.get("dim")),
            ]
        };
        let resource = |r: &crate::model::ResourceRef, icon: &str| {
            vec![
                Span::styled(format!("  {icon} "), t.get("accent")),
                Span::styled(cell(&r.name, 28), t.get("text")),
                Span::styled(format!(" {}", cell(&r.rtype, 40)), t.get("dim")),
                Span::styled(format!(" {}", fit(&r.scope, w.saturating_sub(76))), t.get("dim")),
            ]
        };
        match s {
            Section::NewFailures => d.new_failures.get(i).map(|f| finding(f, "✘", "failed")),
            Section::Fixed => d.fixed.get(i).map(|f| finding(f, "✔", "passed")),
            Section::Appeared => d.appeared.get(i).map(|r| resource(r, "+")),
            Section::Disappeared => d.disappeared.get(i).map(|r| resource(r, "-")),
            Section::Standards => d.standards.get(i).map(|x| {
                let (a, b) = x.pct.unwrap_or_default();
                vec![
                    Span::styled(format!("  {} ", cell(&x.standard, 28)), t.get("text")),
                    Span::styled(format!("{} {a:.1}% → {} {b:.1}% ({:+.1} pts)", x.from, x.to, b - a), t.get("dim")),
                ]
            }),
            Section::Controls => d.controls.get(i).map(|x| {
                let c = format!("{} {}", x.standard, x.control.as_deref().unwrap_or(""));
                vec![
                    Span::styled(format!("  {} ", cell(&c, 28)), t.get("text")),
                    Span::styled(format!("{} → {}", x.from, x.to), t.get("dim")),
                ]
            }),
        }
        .unwrap_or_default()
    }

    /// The popup's lines, and which one the cursor is on.
    fn lines(&self, w: usize, t: &Theme) -> (Vec<Line<'static>>, Option<usize>) {
        let d = &self.report;
        let (from, to) = self.runs();
        let when = |at: &str| at.get(..16).unwrap_or(at).replace('T', " ");
        let mut lines = vec![
            line(
                fit(&format!("run {from} ({}) → run {to} ({})", when(&d.from.started_at), when(&d.to.started_at)), w),
                t.get("title"),
            ),
            line(
                format!("compliance {:+.1} pts · secure {:+.1} pts", d.compliance_delta, d.secure_delta),
                t.get("text"),
            ),
        ];
        if self.rows.is_empty() {
            lines.push(Line::default());
            lines.push(line(format!("Nothing changed between run {from} and run {to}."), t.get("dim")));
            return (lines, None);
        }
        let mut cursor = None;
        let mut at = 0;
        for s in Section::ALL {
            let n = s.len(d);
            if n == 0 {
                continue;
            }
            lines.push(Line::default());
            lines.push(line(format!("{} ({n})", s.title()), t.get("title")));
            for i in 0..n {
                let spans = self.row_spans(s, i, w, t);
                if at == self.list.selected {
                    cursor = Some(lines.len());
                    lines.push(Line::from(selected(spans, t)));
                } else {
                    lines.push(Line::from(spans));
                }
                at += 1;
            }
        }
        (lines, cursor)
    }

    /// Draw the popup over `area`.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, t: &Theme) {
        let (lines, cursor) = self.lines(popup_inner_width(area), t);
        let title = format!("Diff: run {} → run {}", self.report.from.id, self.report.to.id);
        let hint = if self.rows.is_empty() { "Esc close" } else { "j/k move · Enter open · Esc close" };
        self.scroll = list_popup(f, area, t, &title, hint, lines, cursor, self.scroll);
    }
}

/// Move `list`'s cursor for j/k, PgUp/PgDn (by `page`) and g/G; other actions leave it.
pub(crate) fn move_cursor(list: &mut ListState, action: Action, page: usize) {
    let page = page.max(1) as isize;
    match action {
        Action::Down => list.move_by(1),
        Action::Up => list.move_by(-1),
        Action::PageDown => list.move_by(page),
        Action::PageUp => list.move_by(-page),
        Action::Top => list.select(0),
        Action::Bottom => list.select(list.len.saturating_sub(1)),
        _ => {}
    }
}

/// The width inside a list popup over `area`.
pub(crate) fn popup_inner_width(area: Rect) -> usize {
    area.width.saturating_sub(6) as usize
}

/// Draw `lines` in a bordered popup centred over `area` (as tall as they need, up to the
/// area), scrolled from `scroll` so the `cursor` line is
/// in view (the first row brings the heading above it in view too); the new scroll.
#[allow(clippy::too_many_arguments)]
pub(crate) fn list_popup(
    f: &mut Frame,
    area: Rect,
    t: &Theme,
    title: &str,
    hint: &str,
    lines: Vec<Line<'static>>,
    cursor: Option<usize>,
    scroll: usize,
) -> usize {
    let height = (lines.len() as u16).saturating_add(2).min(area.height.saturating_sub(2)).max(5);
    let rect = centered(area, area.width.saturating_sub(4), height);
    let h = rect.height.saturating_sub(2).max(1) as usize;
    let mut scroll = scroll;
    if let Some(c) = cursor {
        if c < scroll {
            scroll = c;
        } else if c >= scroll + h {
            scroll = c + 1 - h;
        }
        // Near the top, show from the top: the run line and the first heading stay in view.
        if c < h {
            scroll = 0;
        }
    }
    scroll = scroll.min(lines.len().saturating_sub(h));
    let below = lines.len().saturating_sub(scroll + h);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(t.get("border_focus"))
        .title(Line::from(Span::styled(format!(" {} ", clean(title)), t.get("accent"))))
        .title_bottom(Line::from(Span::styled(format!(" {hint} "), t.get("dim"))).right_aligned());
    if scroll > 0 || below > 0 {
        block =
            block.title_top(Line::from(Span::styled(format!(" ↑{scroll} ↓{below} "), t.get("dim"))).right_aligned());
    }
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll as u16, 0)), rect);
    scroll
}

/// The keys of the diff and the resource picker, for the hint line.
pub fn hints() -> Vec<super::hints::Spec> {
    use super::hints::K::{Bound, Pair};
    vec![
        (Pair(Action::Down, Action::Up), "move", 8),
        (Bound(Action::Enter), "open", 9),
        (Pair(Action::PageDown, Action::PageUp), "page", 5),
        (Bound(Action::Back), "close", 10),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Cloud, FindingState, ResourceRef};
    use crate::store::RunInfo;

    fn run(id: i64) -> RunInfo {
        RunInfo {
            id,
            started_at: "2026-11-22T08:00:00+00:00".into(),
            finished_at: None,
            status: crate::assess::RunStatus::Complete,
            sources: serde_json::Value::Null,
            standards: Vec::new(),
            clouds: Vec::new(),
            demo: false,
            resources_seen: 0,
            resources: 0,
            compliance: Default::default(),
            secure: Default::default(),
        }
    }

    /// A resource named `name` (id `/r/NAME`).
    pub(crate) fn res(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!("/r/{name}"),
            name: name.into(),
            rtype: "t".into(),
            cloud: Cloud::Azure,
            scope: "s".into(),
            region: "r".into(),
        }
    }

    fn finding(name: &str) -> FindingRow {
        FindingRow {
            check: "c".into(),
            state: FindingState::Unhealthy,
            resource: res(name),
            evidence: Vec::new(),
            message: None,
            origin: Default::default(),
        }
    }

    fn report(new: &[&str], fixed: &[&str], gone: &[&str]) -> Box<DiffReport> {
        Box::new(DiffReport {
            from: run(3),
            to: run(7),
            new_failures: new.iter().map(|n| finding(n)).collect(),
            fixed: fixed.iter().map(|n| finding(n)).collect(),
            appeared: Vec::new(),
            disappeared: gone.iter().map(|n| res(n)).collect(),
            standards: Vec::new(),
            controls: Vec::new(),
            compliance_delta: 0.0,
            secure_delta: 0.0,
        })
    }

    fn opened(e: DiffEffect) -> Option<(i64, String, usize)> {
        match e {
            DiffEffect::Open { run, id, known } => Some((run, id, known.len())),
            _ => None,
        }
    }

    #[test]
    fn rows_skip_empty_sections_and_open_in_the_run_they_belong_to() {
        let mut v = DiffView::new(report(&["a"], &["b", "c"], &["d"]));
        assert_eq!(v.selected(), Some((Section::NewFailures, 0)));
        assert_eq!(opened(v.on_action(Action::Enter, 10)), Some((7, "/r/a".into(), 1)), "newer run");
        v.on_action(Action::Down, 10);
        assert_eq!(v.selected(), Some((Section::Fixed, 0)));
        assert_eq!(opened(v.on_action(Action::Enter, 10)), Some((3, "/r/b".into(), 1)), "older run");
        v.on_action(Action::Bottom, 10);
        assert_eq!(v.selected(), Some((Section::Disappeared, 0)), "no appeared rows between");
        assert_eq!(opened(v.on_action(Action::Enter, 10)), Some((3, "/r/d".into(), 0)));
        v.on_action(Action::PageUp, 10);
        assert_eq!(v.selected(), Some((Section::NewFailures, 0)));
        assert!(matches!(v.on_action(Action::Back, 10), DiffEffect::Close));
        assert!(matches!(v.on_action(Action::Quit, 10), DiffEffect::Close));
    }

    #[test]
    fn an_empty_diff_has_no_rows_and_says_nothing_changed() {
        let mut v = DiffView::new(report(&[], &[], &[]));
        assert_eq!(v.selected(), None);
        assert!(matches!(v.on_action(Action::Enter, 10), DiffEffect::None));
        let (lines, cursor) = v.lines(80, &Theme::default_theme());
        assert_eq!(cursor, None);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text.last().map(String::as_str), Some("Nothing changed between run 3 and run 7."));
        assert!(!text.iter().any(|l| l.contains("(0)")), "{text:?}");
    }
}
