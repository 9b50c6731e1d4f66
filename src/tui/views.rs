//! What each pane lists: the standards, controls and actions left by the filters, facets and
//! sort orders, derived from the loaded rollup, and the window of findings the reader reads
//! for the selected control.

use super::app::{App, ControlRow, FindingsView};
use super::order::{ActionSort, ControlSort, StandardSort};
use super::reader::{Request, Window};
use crate::assess::{Action as ImprovementAction, ControlSummary, StandardSummary};
use crate::model::{ControlState, FindingState};
use crate::store::{FindingFilter, FindingRow};

const FINDINGS_WINDOW: u64 = 300;

impl App {
    pub(super) fn matches(filter: &str, fields: &[&str]) -> bool {
        if filter.is_empty() {
            return true;
        }
        let f = filter.to_lowercase();
        fields.iter().any(|x| x.to_lowercase().contains(&f))
    }

    /// Standards shown, filtered and sorted.
    pub fn visible_standards(&self) -> Vec<&StandardSummary> {
        let Some(r) = &self.rollup else {
            return Vec::new();
        };
        let mut v: Vec<&StandardSummary> =
            r.standards.iter().filter(|s| App::matches(&self.filters.standards, &[&s.id, &s.name])).collect();
        match self.sorts.standards {
            StandardSort::Compliance => v.sort_by(|a, b| a.compliance_pct.total_cmp(&b.compliance_pct)),
            StandardSort::Failed => v.sort_by_key(|s| std::cmp::Reverse(s.failed_controls)),
            StandardSort::Name => v.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version))),
        }
        v
    }

    /// The selected standard.
    pub fn standard(&self) -> Option<&StandardSummary> {
        self.visible_standards().get(self.standards.selected).copied()
    }

    /// Controls of the selected standard, filtered and sorted, as indices into its controls.
    pub fn visible_controls(&self) -> Vec<usize> {
        let Some(s) = self.standard() else {
            return Vec::new();
        };
        let mut v: Vec<usize> = (0..s.controls.len())
            .filter(|&i| {
                let c = &s.controls[i];
                self.facets.control_state.is_none_or(|st| c.state == st)
                    && App::matches(&self.filters.controls, &[&c.id, &c.title, &c.section])
            })
            .collect();
        match self.sorts.controls {
            ControlSort::State => v.sort_by_key(|&i| (state_rank(s.controls[i].state), i)),
            ControlSort::Unhealthy => v.sort_by_key(|&i| (std::cmp::Reverse(s.controls[i].unhealthy_resources), i)),
            ControlSort::Id => {}
        }
        v
    }

    /// Rows of the controls pane with section headings (only in id order).
    pub fn control_rows(&self) -> Vec<ControlRow> {
        let Some(s) = self.standard() else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        let mut last: Option<&str> = None;
        for i in self.visible_controls() {
            let sec = s.controls[i].section.as_str();
            if self.sorts.controls == ControlSort::Id && last != Some(sec) && !sec.is_empty() {
                rows.push(ControlRow::Section(sec.to_string()));
            }
            last = Some(sec);
            rows.push(ControlRow::Control(i));
        }
        rows
    }

    /// The selected control.
    pub fn control(&self) -> Option<&ControlSummary> {
        let s = self.standard()?;
        self.visible_controls().get(self.controls.selected).map(|&i| &s.controls[i])
    }

    /// Actions shown.
    pub fn visible_actions(&self) -> Vec<&ImprovementAction> {
        let Some(r) = &self.rollup else {
            return Vec::new();
        };
        let mut v: Vec<&ImprovementAction> = r
            .actions
            .iter()
            .filter(|a| self.facets.action_state.is_none_or(|s| a.state == s))
            .filter(|a| App::matches(&self.filters.actions, &[&a.id, &a.title, a.owner.as_deref().unwrap_or("")]))
            .collect();
        match self.sorts.actions {
            ActionSort::State => v.sort_by_key(|a| state_rank(a.state)),
            ActionSort::Owner => {
                v.sort_by(|a, b| a.owner.is_none().cmp(&b.owner.is_none()).then(a.owner.cmp(&b.owner)))
            }
            ActionSort::Stake => {}
        }
        v
    }

    /// Recompute list lengths and the findings query after any change.
    pub fn refresh_lists(&mut self) {
        let n = self.visible_standards().len();
        self.standards.set_len(n);
        let n = self.visible_controls().len();
        self.controls.set_len(n);
        let n = self.visible_actions().len();
        self.actions.set_len(n);
        self.refresh_findings();
    }

    /// Ask again for the findings of the selected control (at the next flush: typing a filter
    /// asks once per batch of keys, not once per key).
    pub fn refresh_findings(&mut self) {
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            self.findings = FindingsView::default();
            return;
        };
        let (checks, subject) = match self.control() {
            Some(c) => (c.checks.clone(), format!("{} {}", c.id, c.title)),
            None => (Vec::new(), String::new()),
        };
        let checks: Vec<String> = checks
            .into_iter()
            .filter(|k| self.facets.severity.is_none_or(|sev| self.catalog.check(k).is_some_and(|c| c.severity == sev)))
            .collect();
        let filter = FindingFilter {
            checks: Some(checks),
            states: Some(match self.facets.finding_state {
                Some(s) => vec![s],
                None => vec![FindingState::Unhealthy, FindingState::Error, FindingState::Exempt],
            }),
            text: Some(self.filters.findings.clone()),
            cloud: self.facets.cloud,
            scope: self.facets.scope.clone(),
            resource: None,
            order: self.sorts.findings,
        };
        if same_query(&self.findings.filter, &filter) {
            // The same list (a reload, another run): keep the selection, and the rows shown
            // until the new ones come when they are of the same run.
            self.findings.filter = filter;
            self.findings.subject = subject;
            if self.findings.run != run {
                self.findings.rows.clear();
                self.findings.run = run;
            }
        } else {
            self.findings = FindingsView { filter, subject, run, ..FindingsView::default() };
        }
        self.findings.counted = false;
        self.findings.wanted = true;
    }

    /// Ask for the rows around the selection when they are not loaded (a window, never the
    /// whole list); sent at the next flush.
    pub fn ensure_findings_window(&mut self) {
        if self.run.is_none() {
            return;
        }
        let sel = self.findings.list.selected as u64;
        let have = self.findings.start..self.findings.start + self.findings.rows.len() as u64;
        let margin = 60;
        let need_lo = sel.saturating_sub(margin);
        let need_hi = (sel + margin).min(self.findings.total);
        let covered = self.findings.total == 0 || (have.contains(&need_lo) && need_hi <= have.end);
        if !self.findings.counted || !covered {
            self.findings.wanted = true;
        }
    }

    /// Send what the last keys and answers made necessary: one findings request for however
    /// many keys asked for one (called before each frame and by [`App::settle`]).
    pub fn flush(&mut self) {
        if !std::mem::take(&mut self.findings.wanted) {
            return;
        }
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        let start = (self.findings.list.selected as u64).saturating_sub(FINDINGS_WINDOW / 2);
        // Until this filter is counted, every window request counts too: a newer request
        // supersedes an older one in the reader, and the count must not be lost with it.
        let count = !self.findings.counted;
        let filter = self.findings.filter.clone();
        self.ask(Request::Findings { run, filter, start, limit: FINDINGS_WINDOW, count });
    }

    /// A window read by the reader.
    pub(super) fn on_window(&mut self, w: Window) {
        if w.run != self.findings.run {
            return;
        }
        if let Some(total) = w.total {
            self.findings.total = total;
            self.findings.counted = true;
            self.findings.list.set_len(total as usize);
        }
        self.findings.start = w.start;
        self.findings.rows = self.as_of_now(w.rows);
        // The selection may have moved on while this was read.
        self.ensure_findings_window();
    }

    /// Rows with the state they have now, given the exemptions on record.
    pub(super) fn as_of_now(&self, mut rows: Vec<FindingRow>) -> Vec<FindingRow> {
        let now = (self.clock)();
        // Another tool's finding keeps the state its tool gave.
        for r in rows.iter_mut().filter(|r| r.origin == crate::model::Origin::Posture) {
            r.state = crate::governance::effective_state(r.state, &r.check, &r.resource, &self.exemptions, now);
        }
        rows
    }

    /// The selected finding, if loaded.
    pub fn finding(&self) -> Option<&FindingRow> {
        let i = (self.findings.list.selected as u64).checked_sub(self.findings.start)?;
        self.findings.rows.get(i as usize)
    }

    // ---- input ---------------------------------------------------------------------------
}

/// Whether two queries select the same rows in the same order.
fn same_query(a: &FindingFilter, b: &FindingFilter) -> bool {
    a.checks == b.checks
        && a.states == b.states
        && a.text == b.text
        && a.cloud == b.cloud
        && a.scope == b.scope
        && a.resource == b.resource
        && a.order == b.order
}

/// Worst first: the order of the "state" sort.
fn state_rank(s: ControlState) -> u8 {
    match s {
        ControlState::Failed => 0,
        ControlState::Manual => 1,
        ControlState::Unsupported => 2,
        ControlState::Skipped => 3,
        ControlState::Passed => 4,
    }
}
