//! The console's moves beyond one list: drilling in and out, the detail overlays and their
//! keys, facets and the command prompt.

use super::app::{App, Jump, Overlay, Pane, Prompt, ResourceDetail, facet_rows};
use super::keymap::Action;
use super::reader::Request;
use crate::model::{Cloud, ControlState, FindingState, Severity};
use crate::worker::Command as WorkerCommand;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

impl App {
    pub(super) fn drill_in(&mut self) {
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
            Pane::Findings => self.open_resource(false),
            Pane::Actions => self.open_action(),
        }
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

    pub(super) fn next_match(&mut self, forward: bool) {
        let pattern = self.filters.of(self.focus).to_lowercase();
        if pattern.is_empty() {
            self.info("no filter: press / to filter the list");
            return;
        }
        // The list is filtered already; n/N step through the matches.
        self.on_action(if forward { Action::Down } else { Action::Up });
    }

    /// Open the selected finding's resource: at once with that finding, the rest of its
    /// findings and its document when the reader has them (then `yank` copies the fix).
    pub(super) fn open_resource(&mut self, yank: bool) {
        let (Some(run), Some(f)) = (self.run.as_ref().map(|r| r.id), self.finding().cloned()) else {
            return;
        };
        let id = f.resource.id.clone();
        self.open_resource_id(run, id, vec![f], yank);
    }

    /// Open the detail of resource `id`, showing `known` findings until its own are read.
    pub(super) fn open_resource_id(&mut self, run: i64, id: String, known: Vec<crate::store::FindingRow>, yank: bool) {
        self.back_to = None;
        self.overlay = Some(Overlay::Resource(Box::new(ResourceDetail {
            id: id.clone(),
            loading: true,
            yank_when_loaded: yank,
            findings: known,
            doc: None,
            selected: 0,
            scroll: 0,
            search: String::new(),
            jump: None,
        })));
        self.ask(Request::Resource { run, id });
    }

    pub(super) fn open_action(&mut self) {
        let Some(a) = self.visible_actions().get(self.actions.selected).map(|a| (*a).clone()) else {
            return;
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
            self.info("no control of the shown standards uses this action");
            return;
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
    }

    pub(super) fn open_detail(&mut self) {
        match self.focus {
            Pane::Actions => self.open_action_detail(),
            Pane::Standards => {
                if self.standard().is_some() {
                    self.overlay = Some(Overlay::Standard);
                }
            }
            Pane::Controls => {
                if self.control().is_some() {
                    self.overlay = Some(Overlay::Control);
                    self.ask_breakdown();
                }
            }
            Pane::Findings => self.open_resource(false),
        }
    }

    pub(super) fn assess(&mut self) {
        match &self.commands {
            Some(tx) => {
                if tx.send(WorkerCommand::AssessNow { standards: Vec::new() }).is_err() {
                    self.error("the assessment worker has stopped");
                } else if self.worker.busy() {
                    self.info("a run is in progress: another will follow it");
                } else {
                    self.info("assessment requested");
                }
            }
            None => self.info("no assessment worker in this session"),
        }
    }

    /// Copy the selected finding's fix command with OSC 52.
    pub fn yank(&mut self) {
        let Some(Overlay::Resource(d)) = &self.overlay else {
            return;
        };
        let Some(f) = d.findings.get(d.selected) else {
            return;
        };
        let Some(check) = self.catalog.check(&f.check) else {
            return;
        };
        match check.remediation.command_for(&f.resource, d.doc.as_ref()) {
            Some(cmd) => {
                self.clipboard.push_back(cmd.clone());
                self.info(format!("copied: {cmd}"));
            }
            None => self.info("this check has no CLI fix to copy"),
        }
    }

    pub(super) fn on_overlay_action(&mut self, action: Action) {
        let page = self.page.max(1);
        match self.overlay.as_mut() {
            Some(Overlay::Resource(d)) => match action {
                Action::Down => d.scroll += 1,
                Action::Up => d.scroll = d.scroll.saturating_sub(1),
                Action::PageDown => d.scroll += page,
                Action::PageUp => d.scroll = d.scroll.saturating_sub(page),
                Action::Top => d.scroll = 0,
                Action::Bottom => d.scroll = usize::MAX / 2,
                Action::NextPane => d.selected = (d.selected + 1) % d.findings.len().max(1),
                Action::PrevPane => d.selected = (d.selected + d.findings.len().max(1) - 1) % d.findings.len().max(1),
                Action::Yank => self.yank(),
                Action::Filter => self.prompt = Some(Prompt::Filter(Input::default())),
                Action::NextMatch => d.jump = Some(Jump::Next),
                Action::PrevMatch => d.jump = Some(Jump::Prev),
                Action::Back | Action::Enter | Action::Quit => self.overlay = self.back_to.take().map(|o| *o),
                Action::Help => self.overlay = Some(Overlay::Help),
                _ => {}
            },
            Some(Overlay::Text { scroll, .. }) => match action {
                Action::Down => *scroll += 1,
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::PageDown => *scroll += page,
                Action::PageUp => *scroll = scroll.saturating_sub(page),
                Action::Top => *scroll = 0,
                Action::Back | Action::Enter | Action::Quit => self.overlay = None,
                _ => {}
            },
            Some(Overlay::Audit(_)) => self.on_audit_action(action),
            Some(Overlay::Diff(_) | Overlay::Pick(_)) => self.on_list_overlay_action(action),
            Some(Overlay::Facets { selected }) => match action {
                Action::Down => *selected = (*selected + 1).min(facet_rows(self.focus).saturating_sub(1)),
                Action::Up => *selected = selected.saturating_sub(1),
                Action::Enter | Action::NextMatch => {
                    let s = *selected;
                    self.cycle_facet(s, true);
                }
                Action::PrevMatch => {
                    let s = *selected;
                    self.cycle_facet(s, false);
                }
                Action::Back | Action::Facet | Action::Quit => self.overlay = None,
                _ => {}
            },
            Some(_) => match action {
                Action::Down => self.overlay_scroll += 1,
                Action::Up => self.overlay_scroll = self.overlay_scroll.saturating_sub(1),
                Action::PageDown => self.overlay_scroll += page,
                Action::PageUp => self.overlay_scroll = self.overlay_scroll.saturating_sub(page),
                Action::Top => self.overlay_scroll = 0,
                Action::Back | Action::Enter | Action::Help | Action::ErrorLog | Action::Detail | Action::Quit => {
                    self.overlay = None;
                    self.overlay_scroll = 0;
                }
                _ => {}
            },
            None => {}
        }
    }

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

    pub(super) fn cycle_facet(&mut self, row: usize, forward: bool) {
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

    pub(super) fn on_prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        let command = matches!(prompt, Prompt::Command(_));
        let input = match prompt {
            Prompt::Filter(i) | Prompt::Command(i) => i,
        };
        match key.code {
            KeyCode::Esc => {
                let was_filter = matches!(prompt, Prompt::Filter(_));
                self.prompt = None;
                if let (true, Some(Overlay::Audit(v))) = (was_filter, self.overlay.as_mut()) {
                    v.set_text("");
                } else if was_filter && !matches!(self.overlay, Some(Overlay::Resource(_))) {
                    self.filters.of_mut(self.focus).clear();
                    self.refresh_lists();
                }
            }
            KeyCode::Enter => {
                let p = self.prompt.take();
                if let Some(Prompt::Command(i)) = p {
                    self.run_command(i.value().trim());
                }
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.prompt = None,
            KeyCode::Tab | KeyCode::BackTab if command => self.complete_command(key.code == KeyCode::Tab),
            _ => {
                input.handle_event(&crossterm::event::Event::Key(key));
                let value = input.value().to_string();
                if matches!(prompt, Prompt::Filter(_)) {
                    if let Some(Overlay::Resource(d)) = self.overlay.as_mut() {
                        // Typing moves to the first match, as a pager's incremental search.
                        d.search = value;
                        d.jump = Some(Jump::First);
                    } else if let Some(Overlay::Audit(v)) = self.overlay.as_mut() {
                        v.set_text(&value);
                    } else {
                        *self.filters.of_mut(self.focus) = value;
                        self.list_mut().select(0);
                        self.refresh_lists();
                    }
                }
            }
        }
    }
}
