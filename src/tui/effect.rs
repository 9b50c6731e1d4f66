//! What a key asks for beyond the state of the pane or popup it lands in. Key handlers return
//! effects; [`App::apply`] is the one place that performs them (asks the reader, commands the
//! worker, opens and closes popups), so a key can be tested without a reader or a worker.

use super::app::{App, Overlay, Pane, Prompt};
use super::reader::Request;
use crate::catalog::Catalog;
use crate::governance::Review;
use crate::worker::Command as WorkerCommand;

/// One thing a key wants done outside the pane or popup that handled it.
#[derive(Debug)]
pub enum Effect {
    /// Ask the cache reader (the answer arrives later, see `answers.rs`).
    Ask(Request),
    /// Load run `run` (None: the latest) in the background.
    Load(Option<i64>),
    /// Send the worker a command.
    Worker(WorkerCommand),
    /// Open a popup in place of whatever is open.
    Open(Overlay),
    /// Open a popup over the one open, which comes back when it closes (a resource from the diff).
    Push(Overlay),
    /// Close the popup (back to the one it was opened from, if any).
    Close,
    /// Select a standard and, when given, one of its controls (from the diff).
    ShowControl {
        /// The standard's id.
        standard: String,
        /// The control's id.
        control: Option<String>,
    },
    /// Step the value of facet row `row` of the focused pane.
    CycleFacet {
        /// The facet row.
        row: usize,
        /// Next value (else the previous one).
        forward: bool,
    },
    /// Start typing (`/` or `:`).
    Prompt(Prompt),
    /// Open a form.
    Form(Box<super::form::Form>),
    /// An information notice.
    Info(String),
    /// An error: notice and error log.
    Error(String),
    /// Write a report in the background (`:report`).
    Report(Box<super::report::Job>),
    /// Copy text to the clipboard (OSC 52), saying what was copied.
    Copy(String),
    /// Leave the console.
    Quit,
}

/// What a popup may read while it handles a key.
pub struct Ctx<'a> {
    /// Rows a page moves.
    pub page: usize,
    /// Standards and checks.
    pub catalog: &'a Catalog,
    /// The audit records with where each stands.
    pub review: &'a Review,
    /// The focused pane (under the popup).
    pub focus: Pane,
    /// The run shown.
    pub run: Option<i64>,
    /// Now (the console's clock).
    pub now: chrono::DateTime<chrono::Utc>,
}

impl App {
    /// Perform every effect, in order.
    pub fn apply_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.apply(e);
        }
    }

    /// Perform one effect.
    pub fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Ask(request) => {
                let save = matches!(request, Request::Save { .. });
                let sent = self.ask(request);
                // A form's keys wait for its save's answer; it stays editable when not sent.
                if save {
                    self.saving = sent;
                }
            }
            Effect::Load(run) => self.reload(run),
            Effect::Worker(command) => self.command_worker(command),
            Effect::Open(o) => {
                self.back_to = None;
                self.overlay = Some(o);
            }
            Effect::Push(o) => {
                let from = self.overlay.take().map(Box::new);
                self.overlay = Some(o);
                self.back_to = from;
            }
            Effect::Close => self.overlay = self.back_to.take().map(|o| *o),
            Effect::ShowControl { standard, control } => {
                self.overlay = None;
                self.show_control(&standard, control.as_deref());
            }
            Effect::CycleFacet { row, forward } => self.cycle_facet(row, forward),
            Effect::Prompt(p) => self.prompt = Some(p),
            Effect::Form(f) => self.form = Some(*f),
            Effect::Info(text) => self.info(text),
            Effect::Error(text) => self.error(text),
            Effect::Copy(text) => {
                self.info(format!("copied: {text}"));
                self.clipboard.push_back(text);
            }
            Effect::Report(job) => self.start_report(*job),
            Effect::Quit => self.quit = true,
        }
    }

    /// Send `command` to the worker, saying what became of it.
    fn command_worker(&mut self, command: WorkerCommand) {
        let assess = matches!(command, WorkerCommand::AssessNow { .. });
        let cancel = command == WorkerCommand::Cancel;
        let Some(tx) = &self.commands else {
            if assess {
                self.info("no assessment worker in this session");
            }
            return;
        };
        let sent = tx.send(command).is_ok();
        match (assess, cancel, sent) {
            (true, _, false) => self.error("the assessment worker has stopped"),
            (true, _, true) if self.worker.busy() => self.info("a run is in progress: another will follow it"),
            (true, _, true) => self.info("assessment requested"),
            (_, true, _) => self.info("cancelling the run"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Action;
    use crate::tui::panes::facets::FacetsView;
    use crate::tui::panes::text::TextView;

    fn ctx<'a>(catalog: &'a Catalog, review: &'a Review) -> Ctx<'a> {
        Ctx { page: 10, catalog, review, focus: Pane::Findings, run: Some(7), now: chrono::Utc::now() }
    }

    fn closes(mut o: Overlay) -> bool {
        let (catalog, review) = (Catalog::default(), Review::default());
        [Action::Quit, Action::Back]
            .iter()
            .all(|&a| matches!(o.on_key(a, &ctx(&catalog, &review))[..], [Effect::Close]))
    }

    #[test]
    fn q_and_esc_close_every_popup_that_needs_no_reader() {
        let detail = super::super::app::ResourceDetail::new("/r/x".into(), Vec::new(), false);
        for o in [
            Overlay::Help(Default::default()),
            Overlay::ErrorLog(Default::default()),
            Overlay::Control(Default::default()),
            Overlay::Standard(Default::default()),
            Overlay::Text(TextView::new("t", vec!["x".into()])),
            Overlay::Facets(Default::default()),
            Overlay::Resource(Box::new(detail)),
        ] {
            let name = format!("{o:?}");
            assert!(closes(o), "{name}");
        }
    }

    #[test]
    fn a_facet_key_asks_the_console_to_step_the_value_of_its_row() {
        let (catalog, review) = (Catalog::default(), Review::default());
        let mut v = FacetsView::default();
        assert!(v.on_key(Action::Down, &ctx(&catalog, &review)).is_empty());
        assert!(matches!(
            v.on_key(Action::PrevMatch, &ctx(&catalog, &review))[..],
            [Effect::CycleFacet { row: 1, forward: false }]
        ));
    }

    #[test]
    fn help_in_a_resource_detail_opens_help_and_slash_starts_a_search() {
        let (catalog, review) = (Catalog::default(), Review::default());
        let mut d = super::super::app::ResourceDetail::new("/r/x".into(), Vec::new(), false);
        assert!(matches!(d.on_key(Action::Help, &ctx(&catalog, &review))[..], [Effect::Open(Overlay::Help(_))]));
        assert!(matches!(d.on_key(Action::Filter, &ctx(&catalog, &review))[..], [Effect::Prompt(Prompt::Filter(_))]));
        assert!(d.on_key(Action::Yank, &ctx(&catalog, &review)).is_empty(), "no finding: nothing to copy");
    }

    #[test]
    fn a_resource_opened_from_a_list_of_another_run_says_so_and_comes_back_to_it() {
        let (catalog, review) = (Catalog::default(), Review::default());
        let fx = crate::tui::panes::resource::open_over(&ctx(&catalog, &review), 3, "/r/a".into(), Vec::new());
        assert!(matches!(&fx[0], Effect::Info(m) if m == "/r/a: as it was in run 3"), "{fx:?}");
        assert!(matches!(&fx[1], Effect::Push(Overlay::Resource(d)) if d.id == "/r/a"));
        assert!(matches!(&fx[2], Effect::Ask(Request::Resource { run: 3, id }) if id == "/r/a"));
    }
}
