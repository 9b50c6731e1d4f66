//! The console's moves beyond one list: drilling in and out, opening details and the
//! prompt's keys. Each returns what it asks for as effects (see `effect.rs`).

use super::app::{App, Overlay, Pane, Prompt};
use super::effect::Effect;
use super::keymap::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

impl App {
    pub(super) fn drill_in(&mut self) -> Vec<Effect> {
        match self.focus {
            Pane::Standards => {
                if self.standard().is_some() {
                    self.focus = Pane::Controls;
                }
            }
            Pane::Controls => {
                if self.control().is_some() {
                    self.focus = Pane::Findings;
                    self.refresh_findings();
                }
            }
            Pane::Findings => return self.open_resource(false),
            Pane::Actions => return self.open_action(),
        }
        Vec::new()
    }

    pub(super) fn back(&mut self) {
        if !self.filters.of(self.focus).is_empty() {
            self.filters.of_mut(self.focus).clear();
            self.refresh_lists();
            return;
        }
        self.focus = match self.focus {
            Pane::Standards | Pane::Controls => Pane::Standards,
            Pane::Findings => Pane::Controls,
            Pane::Actions => Pane::Standards,
        };
    }

    pub(super) fn next_match(&mut self, forward: bool) -> Vec<Effect> {
        let pattern = self.filters.of(self.focus).to_lowercase();
        if pattern.is_empty() {
            return vec![Effect::Info("no filter: press / to filter the list".into())];
        }
        // The list is filtered already; n/N step through the matches.
        self.pane_action(if forward { Action::Down } else { Action::Up })
    }

    /// Open the selected finding's resource: at once with that finding, the rest of its
    /// findings and its document when the reader has them (then `yank` copies the fix).
    pub(super) fn open_resource(&self, yank: bool) -> Vec<Effect> {
        let (Some(run), Some(f)) = (self.run.as_ref().map(|r| r.id), self.finding().cloned()) else {
            return Vec::new();
        };
        let id = f.resource.id.clone();
        super::panes::resource::open(run, id, vec![f], yank)
    }

    pub(super) fn open_action(&mut self) -> Vec<Effect> {
        let Some(a) = self.visible_actions().get(self.actions.selected).map(|a| (*a).clone()) else {
            return Vec::new();
        };
        // Jump to the first control that uses this action, and show its failing resources.
        let target = self.rollup.as_ref().and_then(|r| {
            r.standards.iter().find_map(|s| {
                s.controls
                    .iter()
                    .position(|c| {
                        if a.id.contains('/') { format!("{}/{}", s.id, c.id) == a.id } else { c.checks.contains(&a.id) }
                    })
                    .map(|ci| (s.id.clone(), ci))
            })
        });
        let Some((sid, ci)) = target else {
            return vec![Effect::Info("no control of the shown standards uses this action".into())];
        };
        self.filters = Default::default();
        self.facets.control_state = None;
        self.refresh_lists();
        if let Some(si) = self.visible_standards().iter().position(|s| s.id == sid) {
            self.standards.select(si);
            let n = self.visible_controls().len();
            self.controls.set_len(n);
            if let Some(pos) = self.visible_controls().iter().position(|&i| i == ci) {
                self.controls.select(pos);
            }
            self.refresh_findings();
            self.focus = if a.id.contains('/') { Pane::Controls } else { Pane::Findings };
        }
        Vec::new()
    }

    pub(super) fn open_detail(&mut self) -> Vec<Effect> {
        match self.focus {
            Pane::Actions => self.open_action_detail(),
            Pane::Standards if self.standard().is_some() => {
                vec![Effect::Open(Overlay::Standard(Default::default()))]
            }
            Pane::Controls if self.control().is_some() => {
                let mut effects = vec![Effect::Open(Overlay::Control(Default::default()))];
                effects.extend(self.ask_breakdown().map(Effect::Ask));
                effects
            }
            Pane::Standards | Pane::Controls => Vec::new(),
            Pane::Findings => self.open_resource(false),
        }
    }

    /// A key while `/` or `:` is being typed; Enter on `:` runs the command.
    pub(super) fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        let command = matches!(prompt, Prompt::Command(_));
        let input = match prompt {
            Prompt::Filter(i) | Prompt::Command(i) => i,
        };
        match key.code {
            KeyCode::Esc => {
                let was_filter = matches!(prompt, Prompt::Filter(_));
                self.prompt = None;
                if was_filter && !self.overlay.as_mut().is_some_and(|o| o.on_search_cancelled()) {
                    self.filters.of_mut(self.focus).clear();
                    self.refresh_lists();
                }
            }
            KeyCode::Enter => {
                let p = self.prompt.take();
                if let Some(Prompt::Command(i)) = p {
                    return self.command(i.value().trim());
                }
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.prompt = None,
            KeyCode::Tab | KeyCode::BackTab if command => self.complete_command(key.code == KeyCode::Tab),
            _ => {
                input.handle_event(&crossterm::event::Event::Key(key));
                let value = input.value().to_string();
                let filter = matches!(prompt, Prompt::Filter(_));
                if filter && !self.overlay.as_mut().is_some_and(|o| o.on_search(&value)) {
                    *self.filters.of_mut(self.focus) = value;
                    self.list_mut().select(0);
                    self.refresh_lists();
                }
            }
        }
        Vec::new()
    }
}
