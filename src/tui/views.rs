//! What each pane lists: the standards, controls and actions left by the filters, facets and
//! sort orders, derived from the loaded rollup, and the window of findings the reader reads
//! for the selected control.

use super::app::{App, ControlRow, FindingsView};
use super::order::{ActionSort, ControlSort, StandardSort};
use super::reader::{Counted, Request, Window, WindowAt};
use crate::assess::{Action as ImprovementAction, ControlSummary, StandardSummary};
use crate::model::{ControlState, FindingState};
use crate::store::PageAt;
use crate::store::{FindingFilter, FindingRow};

/// Rows read at a time.
const FINDINGS_WINDOW: u64 = 300;
/// Rows kept loaded at most (pages read after or before the loaded ones join them).
const FINDINGS_KEPT: usize = 2 * FINDINGS_WINDOW as usize;
/// Rows that must be loaded on each side of the selection.
const MARGIN: u64 = 60;

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
        let mut v: Vec<&StandardSummary> = r
            .standards
            .iter()
            .filter(|s| self.standard_shown(&s.id) && App::matches(&self.filters.standards, &[&s.id, &s.name]))
            .collect();
        match self.sorts.standards {
            StandardSort::Compliance => v.sort_by(|a, b| a.compliance_pct.total_cmp(&b.compliance_pct)),
            StandardSort::Failed => v.sort_by_key(|s| std::cmp::Reverse(s.failed_controls)),
            StandardSort::Name => v.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version))),
        }
        // The assessments (`scopes.rs`) below the standards, in config order.
        v.extend(self.scoping.summaries().filter(|s| App::matches(&self.filters.standards, &[&s.id, &s.name])));
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
        let today = (self.clock)().date_naive();
        let mut v: Vec<&ImprovementAction> = r
            .actions
            .iter()
            .filter(|a| self.facets.action_state.is_none_or(|s| a.state == s))
            .filter(|a| !self.facets.overdue || crate::governance::overdue(a.due, a.achieved, a.points, today))
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
            // An assessment's row: only its scopes, as its counts.
            scopes: self.selected_scopes().map(<[String]>::to_vec),
            resource: None,
            order: self.sorts.findings,
        };
        let epoch = self.findings.epoch + 1;
        if same_query(&self.findings.filter, &filter) {
            // The same list (a reload, another run): keep the selection, and the rows shown
            // until the new ones come when they are of the same run.
            self.findings.filter = filter;
            self.findings.subject = subject;
            self.findings.epoch = epoch;
            if self.findings.run != run {
                self.findings.rows.clear();
                self.findings.run = run;
            }
        } else {
            self.findings = FindingsView { filter, subject, run, epoch, ..FindingsView::default() };
        }
        self.findings.counted = false;
        self.findings.count_asked = false;
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
        let need_lo = sel.saturating_sub(MARGIN);
        let need_hi = (sel + MARGIN).min(self.findings.total);
        let covered = self.findings.total == 0 || (have.contains(&need_lo) && need_hi <= have.end);
        if !covered {
            self.findings.wanted = true;
        }
    }

    /// Send what the last keys and answers made necessary: one findings request for however
    /// many keys asked for one (called before each frame and by [`App::settle`]).
    pub fn flush(&mut self) {
        let Some(run) = self.run.as_ref().map(|r| r.id) else {
            return;
        };
        let (filter, epoch) = (self.findings.filter.clone(), self.findings.epoch);
        if std::mem::take(&mut self.findings.wanted) {
            let at = self.window_at();
            self.ask(Request::Findings {
                run,
                filter: filter.clone(),
                at: Box::new(at),
                limit: FINDINGS_WINDOW,
                epoch,
            });
        }
        // The count after the rows: the reader serves rows first, and a newer filter's count
        // stops this one midway, so typing never waits for a count.
        if !self.findings.counted && !std::mem::replace(&mut self.findings.count_asked, true) {
            self.ask(Request::Count { run, filter, epoch });
        }
    }

    /// Where to read the rows around the selection: by key at either end (`g`, `G`) and next
    /// to the rows loaded (`j`, `k`, pages), by offset only for a jump far from them.
    fn window_at(&self) -> WindowAt {
        let v = &self.findings;
        let sel = v.list.selected as u64;
        let (ws, we) = (v.start, v.start + v.rows.len() as u64);
        if sel < FINDINGS_WINDOW - MARGIN {
            return WindowAt::Page(PageAt::First);
        }
        if !v.counted {
            return WindowAt::Offset(sel.saturating_sub(FINDINGS_WINDOW / 2));
        }
        if sel + FINDINGS_WINDOW - MARGIN >= v.total {
            return WindowAt::Page(PageAt::Last);
        }
        // Past the end of the rows loaded, but not by more than a page reaches.
        if let Some(k) = &v.last_key
            && sel >= ws
            && sel + MARGIN > we
            && sel + MARGIN <= we + FINDINGS_WINDOW
        {
            return WindowAt::Page(PageAt::After(k.clone()));
        }
        // Before their start, likewise.
        if let Some(k) = &v.first_key
            && sel < we
            && sel < ws + MARGIN
            && sel + FINDINGS_WINDOW >= ws + MARGIN
        {
            return WindowAt::Page(PageAt::Before(k.clone()));
        }
        WindowAt::Offset(sel.saturating_sub(FINDINGS_WINDOW / 2))
    }

    /// A window read by the reader.
    pub(super) fn on_window(&mut self, w: Window) {
        if w.run != self.findings.run || w.epoch != self.findings.epoch {
            return;
        }
        let rows = self.as_of_now(w.rows);
        let got = !rows.is_empty();
        let v = &mut self.findings;
        // Until the count comes, the first page says how many there are at least (exactly,
        // when it is not full), so the rows can be shown and moved through at once.
        if !v.counted && w.at == WindowAt::Page(PageAt::First) {
            let n = rows.len() as u64;
            if n < FINDINGS_WINDOW {
                (v.total, v.counted, v.at_least) = (n, true, false);
                v.list.set_len(rows.len());
            } else if v.total < n || v.at_least {
                (v.total, v.at_least) = (n, true);
                v.list.set_len(rows.len());
            }
        }
        let (first, last) = w.keys.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        match w.at {
            WindowAt::Offset(start) => {
                (v.start, v.rows, v.first_key, v.last_key) = (start, rows, None, None);
            }
            WindowAt::Page(PageAt::First) => (v.start, v.rows, v.first_key, v.last_key) = (0, rows, first, last),
            WindowAt::Page(PageAt::Last) => {
                let start = v.total.saturating_sub(rows.len() as u64);
                (v.start, v.rows, v.first_key, v.last_key) = (start, rows, first, last);
            }
            WindowAt::Page(PageAt::After(_)) if got => {
                v.rows.extend(rows);
                v.last_key = last;
                let drop = v.rows.len().saturating_sub(FINDINGS_KEPT);
                if drop > 0 {
                    v.rows.drain(..drop);
                    v.start += drop as u64;
                    v.first_key = None;
                }
            }
            WindowAt::Page(PageAt::Before(_)) if got => {
                v.start = v.start.saturating_sub(rows.len() as u64);
                let after = std::mem::replace(&mut v.rows, rows);
                v.rows.extend(after);
                v.first_key = first;
                if v.rows.len() > FINDINGS_KEPT {
                    v.rows.truncate(FINDINGS_KEPT);
                    v.last_key = None;
                }
            }
            WindowAt::Page(_) => {}
        }
        // The selection may have moved on while this was read (an empty answer ends it: the
        // list is shorter than counted, and asking again would read nothing again).
        if got {
            self.ensure_findings_window();
        }
    }

    /// The count of the findings list.
    pub(super) fn on_count(&mut self, c: Counted) {
        let v = &mut self.findings;
        if c.run != v.run || c.epoch != v.epoch || v.counted {
            return;
        }
        (v.total, v.counted, v.at_least) = (c.total, true, false);
        v.list.set_len(c.total as usize);
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
        && a.scopes == b.scopes
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::sync::Arc;

    /// A console on the demo run, and a real page key of it.
    fn console(dir: &std::path::Path) -> (App, crate::store::PageKey, Vec<FindingRow>) {
        let db = dir.join("c.db");
        let catalog = Arc::new(crate::catalog::Catalog::load_with_dirs(&[]));
        let mut store = Store::open(&db).unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let demo = [crate::sources::SourceSpec::Demo];
        let run = crate::pipeline::run_and_store(&mut store, &catalog, &demo, &[], 30, &cancel, &mut |_| {}).unwrap();
        let page = store.findings_page(run.run_id, &FindingFilter::default(), &PageAt::First, 300).unwrap();
        let key = page.last_key().cloned().unwrap();
        let (keymap, _) = crate::tui::keymap::Keymap::new(&Default::default());
        let mut app = App::new(catalog, store, crate::tui::theme::Theme::default_theme(), keymap, None);
        app.settle();
        (app, key, page.rows)
    }

    #[test]
    fn windows_deep_in_a_long_list_are_read_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, key, rows) = console(dir.path());
        let v = &mut app.findings;
        (v.total, v.counted, v.start, v.rows) = (90_000, true, 700, rows[..300.min(rows.len())].to_vec());
        let we = 700 + v.rows.len();
        (v.first_key, v.last_key) = (Some(key.clone()), Some(key.clone()));
        v.list.set_len(90_000);
        let at = |app: &mut App, sel: usize| {
            app.findings.list.select(sel);
            app.window_at()
        };
        assert_eq!(at(&mut app, 89_999), WindowAt::Page(PageAt::Last), "G");
        assert_eq!(at(&mut app, 3), WindowAt::Page(PageAt::First), "g");
        assert_eq!(at(&mut app, we - 10), WindowAt::Page(PageAt::After(key.clone())), "j at the end of the rows");
        assert_eq!(at(&mut app, 710), WindowAt::Page(PageAt::Before(key.clone())), "k at their start");
        assert_eq!(at(&mut app, 50_000), WindowAt::Offset(50_000 - 150), "a jump far away");
    }

    #[test]
    fn pages_read_after_the_rows_join_them_and_the_oldest_go() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, key, rows) = console(dir.path());
        let (run, epoch) = (app.findings.run, app.findings.epoch);
        let page = |at: PageAt| Window { run, epoch, at: WindowAt::Page(at), rows: rows.clone(), keys: None };
        app.findings.total = 100_000;
        app.on_window(page(PageAt::First));
        let n = rows.len();
        assert_eq!((app.findings.start, app.findings.rows.len()), (0, n));
        app.on_window(page(PageAt::After(key.clone())));
        app.on_window(page(PageAt::After(key.clone())));
        let kept = app.findings.rows.len();
        assert!(kept <= FINDINGS_KEPT);
        assert_eq!(app.findings.start as usize + kept, 3 * n, "the window slides, its end is the last row read");
        // An answer for a list that changed since is dropped.
        app.findings.epoch += 1;
        app.on_window(page(PageAt::First));
        assert_eq!(app.findings.start as usize + app.findings.rows.len(), 3 * n);
    }

    #[test]
    fn rows_come_before_their_count_and_the_count_is_asked_once_per_filter() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, _, rows) = console(dir.path());
        let full: Vec<FindingRow> = rows.iter().cycle().take(FINDINGS_WINDOW as usize).cloned().collect();
        app.refresh_findings();
        let (run, epoch) = (app.findings.run, app.findings.epoch);
        let counts = app.requests_sent(super::super::reader::Kind::Count);
        app.flush();
        app.flush();
        assert_eq!(app.requests_sent(super::super::reader::Kind::Count), counts + 1, "one count per filter");
        // A full first page: at least that many, shown and movable before the count.
        let page = |rows: Vec<FindingRow>| Window { run, epoch, at: WindowAt::Page(PageAt::First), rows, keys: None };
        app.on_window(page(full.clone()));
        let v = &app.findings;
        assert_eq!(
            (v.total, v.counted, v.at_least, v.list.len),
            (FINDINGS_WINDOW, false, true, FINDINGS_WINDOW as usize)
        );
        app.on_count(Counted { run, epoch: epoch - 1, total: 5 });
        assert!(!app.findings.counted, "a count of an older list is dropped");
        app.on_count(Counted { run, epoch, total: 90_000 });
        let v = &app.findings;
        assert_eq!((v.total, v.counted, v.at_least, v.list.len), (90_000, true, false, 90_000));
        // A first page that is not full is the count.
        app.refresh_findings();
        let epoch = app.findings.epoch;
        let short = Window { run, epoch, at: WindowAt::Page(PageAt::First), rows: full[..7].to_vec(), keys: None };
        app.on_window(short);
        let v = &app.findings;
        assert_eq!((v.total, v.counted, v.at_least), (7, true, false));
    }
}
