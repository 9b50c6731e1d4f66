//! Opening and saving the console's forms (attest, exempt, owner) from the current selection.

use super::app::{App, Overlay, Pane};
use super::reader::Request;
use crossterm::event::KeyEvent;

impl App {
    pub(super) fn open_attest(&mut self) {
        let (Some(s), Some(c)) = (self.standard(), self.control()) else {
            self.info("select a control to attest (Tab to the Controls pane)");
            return;
        };
        let (sid, cid) = (s.id.clone(), c.id.clone());
        self.form = Some(super::form::Form::attest(&self.catalog, &sid, &cid, &self.attester, (self.clock)()));
    }

    pub(super) fn open_exempt(&mut self) {
        let now = (self.clock)();
        let target = match (&self.overlay, self.focus) {
            (Some(Overlay::Resource(d)), _) => {
                d.findings.get(d.selected).map(|f| (f.check.clone(), Some(f.resource.clone())))
            }
            (_, Pane::Findings) => self.finding().map(|f| (f.check.clone(), Some(f.resource.clone()))),
            (_, Pane::Actions) => self
                .visible_actions()
                .get(self.actions.selected)
                .filter(|a| !a.id.contains('/'))
                .map(|a| (a.id.clone(), None)),
            _ => None,
        };
        match target {
            Some((check, resource)) => {
                self.form = Some(super::form::Form::exempt(&self.catalog, &check, resource, now))
            }
            None => self.info("select a failing resource or a technical action to exempt"),
        }
    }

    pub(super) fn open_assign(&mut self) {
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
        match target {
            Some(action) => self.form = Some(super::form::Form::assign(&action, now)),
            None => self.info("select an improvement action (or a check) to give it an owner"),
        }
    }

    pub(super) fn on_form_key(&mut self, key: KeyEvent) {
        use super::form::FormOutcome;
        let Some(form) = self.form.as_mut() else { return };
        match form.on_key(key) {
            FormOutcome::Open => {}
            FormOutcome::Cancelled => {
                self.form = None;
                self.info("cancelled; nothing saved");
            }
            FormOutcome::Submit => {
                // Saved by the reader, the console's one connection; the form stays on screen
                // until the answer (see `answers.rs`).
                let form = Box::new(form.clone());
                let (author, max_evidence_bytes, now) =
                    (self.attester.clone(), self.max_evidence_bytes, (self.clock)());
                // The form stays open and editable when the request cannot even be sent.
                self.saving = self.ask(Request::Save { form, author, max_evidence_bytes, now });
            }
        }
    }
}
