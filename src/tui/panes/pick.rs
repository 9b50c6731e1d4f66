//! The resource picker: `:resource PART` matched several resources; Enter opens one.

use super::diff::{list_popup, move_cursor, popup_inner_width};
use crate::model::ResourceRef;
use crate::store::LOOKUP_LIMIT;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::list::ListState;
use crate::tui::theme::Theme;
use crate::tui::widgets::{cell, fit, line, selected};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// What a key in the picker asks of the console.
#[derive(Debug, Clone, PartialEq)]
pub enum PickEffect {
    /// Nothing beyond the picker's own state.
    None,
    /// Close the picker.
    Close,
    /// Open resource `id` of run `run`.
    Open {
        /// The run.
        run: i64,
        /// The resource's cloud id.
        id: String,
    },
}

/// The resources a lookup found, with a cursor.
#[derive(Debug, Clone)]
pub struct PickView {
    query: String,
    run: i64,
    found: Vec<ResourceRef>,
    list: ListState,
    scroll: usize,
}

impl PickView {
    /// The picker over `found`, what was typed and the run they are of.
    pub fn new(query: String, run: i64, found: Vec<ResourceRef>) -> PickView {
        let mut list = ListState::default();
        list.set_len(found.len());
        PickView { query, run, found, list, scroll: 0 }
    }

    /// The resource under the cursor.
    pub fn selected(&self) -> Option<&ResourceRef> {
        self.found.get(self.list.selected)
    }

    /// Handle a key; `page` is the rows a page moves.
    pub fn on_action(&mut self, action: Action, page: usize) -> PickEffect {
        match action {
            Action::Enter => {
                self.selected().map_or(PickEffect::None, |r| PickEffect::Open { run: self.run, id: r.id.clone() })
            }
            Action::Back | Action::Quit => PickEffect::Close,
            other => {
                move_cursor(&mut self.list, other, page);
                PickEffect::None
            }
        }
    }

    /// [`PickView::on_action`] as the console's effects: Enter opens the resource over the picker.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        match self.on_action(action, ctx.page) {
            PickEffect::None => Vec::new(),
            PickEffect::Close => vec![Effect::Close],
            PickEffect::Open { run, id } => super::resource::open_over(ctx, run, id, Vec::new()),
        }
    }

    /// Draw the picker over `area`.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, t: &Theme) {
        let w = popup_inner_width(area);
        let more = if self.found.len() as u64 >= LOOKUP_LIMIT { " (the first ones: type more to narrow)" } else { "" };
        let mut lines = vec![
            line(
                fit(&format!("{} resources of run {} match \"{}\"{more}", self.found.len(), self.run, self.query), w),
                t.get("title"),
            ),
            Line::default(),
        ];
        let first = lines.len();
        for (i, r) in self.found.iter().enumerate() {
            let spans = vec![
                Span::styled(format!("  {}", cell(&r.name, 28)), t.get("text")),
                Span::styled(format!(" {}", cell(&r.rtype, 32)), t.get("dim")),
                Span::styled(format!(" {}", fit(&r.scope, w.saturating_sub(63))), t.get("dim")),
            ];
            lines.push(Line::from(if i == self.list.selected { selected(spans, t) } else { spans }));
        }
        let cursor = (!self.found.is_empty()).then_some(first + self.list.selected);
        // Names repeat (a disk and its instance): the selected one's full id tells them apart.
        if let Some(r) = self.selected() {
            lines.push(Line::default());
            lines.push(line(fit(&format!("id  {}", r.id), w), t.get("dim")));
        }
        let hint = "j/k move · Enter open · Esc close";
        self.scroll = list_popup(f, area, t, "Resources", hint, lines, cursor, self.scroll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::diff::tests::res;

    #[test]
    fn enter_opens_the_selected_resource_of_the_run_looked_in() {
        let mut p = PickView::new("x".into(), 4, vec![res("a"), res("b")]);
        p.on_action(Action::Down, 10);
        p.on_action(Action::Down, 10);
        assert_eq!(p.selected().map(|r| r.name.as_str()), Some("b"), "clamped at the last row");
        assert_eq!(p.on_action(Action::Enter, 10), PickEffect::Open { run: 4, id: "/r/b".into() });
        p.on_action(Action::Top, 10);
        assert_eq!(p.on_action(Action::Enter, 10), PickEffect::Open { run: 4, id: "/r/a".into() });
        assert_eq!(p.on_action(Action::Back, 10), PickEffect::Close);
        assert_eq!(PickView::new("x".into(), 4, Vec::new()).on_action(Action::Enter, 10), PickEffect::None);
    }
}
