//! Opening and saving the console's forms (attest, exempt, owner) from the current selection.

use super::app::{App, Pane};
use super::effect::Effect;
use super::form::Form;
use super::reader::Request;
use crossterm::event::KeyEvent;

impl App {
    pub(super) fn open_attest(&self) -> Vec<Effect> {
        let (Some(s), Some(c)) = (self.standard(), self.control()) else {
            return vec![Effect::Info("select a control to attest (Tab to the Controls pane)".into())];
        };
        vec![Effect::Form(Box::new(Form::attest(&self.catalog, &s.id, &c.id, &self.attester, (self.clock)())))]
    }

    pub(super) fn open_exempt(&self) -> Vec<Effect> {
        let now = (self.clock)();
        // From a resource detail, the detail opens the form itself (`panes/resource.rs`).
        let target = match self.focus {
            Pane::Findings => self.finding().map(|f| (f.check.clone(), Some(f.resource.clone()))),
            Pane::Actions => self
                .visible_actions()
                .get(self.actions.selected)
                .filter(|a| !a.id.contains('/'))
                .map(|a| (a.id.clone(), None)),
            _ => None,
        };
        vec![match target {
            Some((check, resource)) => Effect::Form(Box::new(Form::exempt(&self.catalog, &check, resource, now))),
            None => Effect::Info("select a failing resource or a technical action to exempt".into()),
        }]
    }

    pub(super) fn open_assign(&self) -> Vec<Effect> {
        let now = (self.clock)();
        let target = match self.focus {
            Pane::Actions => self.visible_actions().get(self.actions.selected).map(|a| a.id.clone()),
            Pane::Findings => self.finding().map(|f| f.check.clone()),
            Pane::Controls => self
                .control()
                .filter(|c| c.checks.is_empty())
                .and_then(|c| self.standard().map(|s| format!("{}/{}", s.id, c.id))),
            Pane::Standards => None,
        };
        vec![match target {
            Some(action) => Effect::Form(Box::new(Form::assign(&action, now))),
            None => Effect::Info("select an improvement action (or a check) to give it an owner".into()),
        }]
    }

    /// A key in the open form; Enter on a complete one asks the reader to save it.
    pub(super) fn on_form_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        use super::form::FormOutcome;
        let Some(form) = self.form.as_mut() else { return Vec::new() };
        match form.on_key(key) {
            FormOutcome::Open => Vec::new(),
            FormOutcome::Cancelled => {
                self.form = None;
                vec![Effect::Info("cancelled; nothing saved".into())]
            }
            FormOutcome::Submit => {
                // Saved by the reader, the console's one connection; the form stays on screen
                // until the answer (see `answers.rs`).
                let form = Box::new(form.clone());
                let (author, max_evidence_bytes, now) =
                    (self.attester.clone(), self.max_evidence_bytes, (self.clock)());
                // The form stays open and editable when the request cannot even be sent.
                vec![Effect::Ask(Request::Save { form, author, max_evidence_bytes, now })]
            }
        }
    }
}
