//! The reader's answers applied to the console: a loaded run, a window of findings, a
//! resource's detail, the trends over the stored runs, a diff, a saved form. Also the test
//! hook that waits for every answer.

use super::app::{App, Overlay};
use super::reader::{Answer, Loaded, ResourceAnswer};

impl App {
    /// Apply every answer already there; whether any was.
    pub fn poll_answers(&mut self) -> bool {
        let mut any = false;
        while let Some(a) = self.reader.try_next() {
            self.on_answer(a);
            any = true;
        }
        any
    }

    /// Send what is wanted and wait for answers until `done` holds or nothing is pending (a
    /// frame's worth of answers, e.g. a filter's rows before their count: benches).
    pub fn settle_until(&mut self, done: impl Fn(&App) -> bool) {
        self.flush();
        while !done(self) {
            match self.reader.next_blocking() {
                Some(a) => self.on_answer(a),
                None => return,
            }
            self.flush();
        }
    }

    /// Send what is wanted and wait until every request, and every request its answer leads
    /// to, is answered: a deterministic point to draw or assert at (tests, benches).
    pub fn settle(&mut self) {
        loop {
            self.flush();
            match self.reader.next_blocking() {
                Some(a) => self.on_answer(a),
                None if self.findings.wanted => {}
                None => return,
            }
        }
    }

    fn on_answer(&mut self, answer: Answer) {
        match answer {
            Answer::Loaded(Ok(l)) => self.on_loaded(*l),
            Answer::Loaded(Err(e)) => self.error(e),
            Answer::Findings(Ok(w)) => self.on_window(*w),
            Answer::Findings(Err(e)) => self.error(e),
            Answer::Count(Ok(c)) => self.on_count(c),
            Answer::Count(Err(e)) => self.error(e),
            Answer::Resource(r) => self.on_resource(r),
            Answer::Trends(Ok(t)) => self.trends = *t,
            Answer::Trends(Err(e)) => self.error(e),
            Answer::Diff(d) => self.on_diff(d),
            Answer::Saved { form, result, notices } => {
                self.saving = false;
                match result {
                    Ok(msg) => {
                        self.form = None;
                        let run = if self.pinned { self.run.as_ref().map(|r| r.id) } else { None };
                        self.reload(run);
                        self.info(msg);
                    }
                    // Refused: the form comes back with the error beside its field.
                    Err(_) => self.form = Some(*form),
                }
                // Which key signed it, or why it is unsigned.
                for note in notices {
                    self.info(note);
                }
            }
            Answer::CatalogSet => {}
            Answer::Review(Ok(r)) => self.review = *r,
            Answer::Review(Err(e)) => self.error(e),
            Answer::Lookup { run, query, found } => self.on_lookup(run, query, found),
            Answer::Assessments(run, rows) => self.on_assessments(run, rows),
            Answer::Breakdown(subject, b) => self.on_breakdown(subject, b),
        }
    }

    fn on_loaded(&mut self, l: Loaded) {
        let before = self.run.as_ref().map(|r| r.id);
        self.exemptions = l.exemptions;
        self.scopes = l.scopes;
        self.run = l.run;
        self.rollup = l.rollup;
        let shown = self.run.as_ref().map(|r| r.id);
        self.pinned = self.requested_run.is_some() && shown.is_some();
        if let Some(id) = self.requested_run.filter(|_| before != shown) {
            self.info(format!("showing run {id} (:latest returns to the newest)"));
        }
        if let Some(note) = self.announce_on_load.take() {
            self.info(note);
        }
        // Assignments are done by the rollup just read: the review follows it.
        self.load_review();
        // The trends end at the run shown, so they are read again with each load.
        match shown {
            Some(up_to) => _ = self.ask(super::reader::Request::Trends { up_to }),
            None => self.trends = Default::default(),
        }
        self.load_assessments();
        self.refresh_lists();
    }

    fn on_resource(&mut self, r: Result<ResourceAnswer, String>) {
        let Some(Overlay::Resource(d)) = self.overlay.as_mut() else {
            return;
        };
        match r {
            Ok(a) if a.id == d.id => {
                if a.findings.is_empty() && d.findings.is_empty() {
                    self.overlay = self.back_to.take().map(|o| *o);
                    self.error(format!(":resource {}: no finding for this resource in run {}", a.id, a.run));
                    return;
                }
                let check = d.findings.get(d.selected).map(|f| f.check.clone());
                let findings = self.as_of_now(a.findings);
                let Some(Overlay::Resource(d)) = self.overlay.as_mut() else {
                    return;
                };
                if !findings.is_empty() {
                    d.selected = findings.iter().position(|x| Some(&x.check) == check.as_ref()).unwrap_or(0);
                    d.findings = findings;
                }
                d.doc = a.doc;
                d.loading = false;
                if std::mem::take(&mut d.yank_when_loaded) {
                    let copy = d.yank(&self.catalog);
                    self.apply_all(copy);
                }
            }
            Ok(_) => {}
            Err(e) => {
                d.loading = false;
                self.error(format!("reading the resource: {e}"));
            }
        }
    }
}
