//! The facet chooser (`f`): the focused pane's facets (state, severity, cloud, scope, due)
//! and their values; Enter/`n` steps a value forward, `N` back.

use super::popup::popup;
use crate::model::{Cloud, ControlState, FindingState, Severity};
use crate::tui::app::{App, Pane};
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::widgets::{fit, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Facet rows per pane.
pub fn facet_rows(p: Pane) -> usize {
    match p {
        Pane::Standards => 0,
        Pane::Controls => 1,
        Pane::Actions => 2,
        Pane::Findings => 4,
    }
}

/// The chooser, with its selected row.
#[derive(Debug, Clone, Default)]
pub struct FacetsView {
    /// Selected facet row.
    pub selected: usize,
    scroll: usize,
}

impl FacetsView {
    /// Choose a row, step its value, or close (Esc, `q`, `f`).
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        match action {
            Action::Down => self.selected = (self.selected + 1).min(facet_rows(ctx.focus).saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Enter | Action::NextMatch => return vec![Effect::CycleFacet { row: self.selected, forward: true }],
            Action::PrevMatch => return vec![Effect::CycleFacet { row: self.selected, forward: false }],
            Action::Back | Action::Facet | Action::Quit => return vec![Effect::Close],
            _ => {}
        }
        Vec::new()
    }

    /// Draw over `area`.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, app: &App) {
        let t = &app.theme;
        let facets = app.facet_lines();
        let mut lines = vec![line(format!("Filter {} by", app.focus.title()), t.get("title")), Default::default()];
        if facets.is_empty() {
            lines.push(line("Nothing to filter here; / filters by text.", t.get("dim")));
        }
        for (i, (k, v)) in facets.iter().enumerate() {
            let st = if i == self.selected { t.get("selected") } else { t.get("text") };
            lines.push(Line::from(vec![
                Span::styled(format!("  {k:<10}"), st),
                Span::styled(format!("◂ {} ▸", fit(v, 40)), st),
            ]));
        }
        lines.push(Line::default());
        lines.push(line("j/k choose · Enter/n next value · N previous · Esc done", t.get("dim")));
        popup(f, area, t, &mut self.scroll, "Filter", lines, 60);
    }
}

impl App {
    /// Facet names and current values for the focused pane.
    pub fn facet_lines(&self) -> Vec<(String, String)> {
        let show = |o: Option<String>| o.unwrap_or_else(|| "all".into());
        match self.focus {
            Pane::Standards => vec![],
            Pane::Controls => vec![("state".into(), show(self.facets.control_state.map(|s| s.to_string())))],
            Pane::Findings => vec![
                ("state".into(), show(self.facets.finding_state.map(|s| s.to_string()))),
                ("severity".into(), show(self.facets.severity.map(|s| s.to_string()))),
                ("cloud".into(), show(self.facets.cloud.map(|s| s.to_string()))),
                ("scope".into(), show(self.facets.scope.clone())),
            ],
            Pane::Actions => vec![
                ("state".into(), show(self.facets.action_state.map(|s| s.to_string()))),
                ("due".into(), if self.facets.overdue { "overdue".into() } else { "all".into() }),
            ],
        }
    }

    /// Step facet `row` of the focused pane to its next (or previous) value.
    pub(crate) fn cycle_facet(&mut self, row: usize, forward: bool) {
        fn cycle<T: Clone + PartialEq>(cur: &Option<T>, all: &[T], forward: bool) -> Option<T> {
            let mut opts: Vec<Option<T>> = vec![None];
            opts.extend(all.iter().cloned().map(Some));
            let i = opts.iter().position(|o| o == cur).unwrap_or(0);
            let n = opts.len();
            opts[if forward { (i + 1) % n } else { (i + n - 1) % n }].clone()
        }
        let f = &mut self.facets;
        match (self.focus, row) {
            (Pane::Controls, 0) => f.control_state = cycle(&f.control_state, ControlState::ALL, forward),
            (Pane::Findings, 0) => {
                f.finding_state = cycle(
                    &f.finding_state,
                    &[FindingState::Unhealthy, FindingState::Error, FindingState::Exempt],
                    forward,
                )
            }
            (Pane::Findings, 1) => f.severity = cycle(&f.severity, Severity::ALL, forward),
            (Pane::Findings, 2) => f.cloud = cycle(&f.cloud, Cloud::ALL, forward),
            (Pane::Findings, 3) => f.scope = cycle(&f.scope, &self.scopes, forward),
            (Pane::Actions, 0) => {
                f.action_state = cycle(
                    &f.action_state,
                    &[ControlState::Failed, ControlState::Manual, ControlState::Passed, ControlState::Unsupported],
                    forward,
                )
            }
            (Pane::Actions, 1) => f.overdue = !f.overdue,
            _ => {}
        }
        self.refresh_lists();
    }
}

/// The keys of the chooser, for the hint line.
pub fn hints() -> Vec<super::hints::Spec> {
    use super::hints::K::{Bound, Pair};
    vec![
        (Pair(Action::Down, Action::Up), "choose", 8),
        (Bound(Action::Enter), "next value", 9),
        (Bound(Action::PrevMatch), "previous value", 5),
        (Bound(Action::Back), "done", 10),
    ]
}
