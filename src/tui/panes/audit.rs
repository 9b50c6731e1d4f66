//! The audit views: attestations, exemptions and assignments with where each stands, a text
//! filter, a state filter and `R` to revoke. The view holds only its cursor and filters; the
//! records come from `App::review`, loaded by [`App::load_review`] when the view opens and on
//! every reload, never while drawing or per keystroke.

use crate::governance::{AssignmentState, Review, Standing};
use crate::store::RecordKind;
use crate::tui::app::{App, Overlay, Pane, Prompt};
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::list::ListState;
use crate::tui::reader::Request;
use tui_input::Input;

/// Which records the view lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditTab {
    /// Statements on controls.
    Attestations,
    /// Waivers and mitigations.
    Exemptions,
    /// Owners and due dates.
    Assignments,
}

impl AuditTab {
    /// In tab order.
    pub const ALL: [AuditTab; 3] = [AuditTab::Attestations, AuditTab::Exemptions, AuditTab::Assignments];

    /// The word shown (and the command that opens it).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditTab::Attestations => "attestations",
            AuditTab::Exemptions => "exemptions",
            AuditTab::Assignments => "assignments",
        }
    }

    fn record(self) -> RecordKind {
        match self {
            AuditTab::Attestations => RecordKind::Attestation,
            AuditTab::Exemptions => RecordKind::Exemption,
            AuditTab::Assignments => RecordKind::Assignment,
        }
    }

    fn step(self, forward: bool) -> AuditTab {
        let i = AuditTab::ALL.iter().position(|t| *t == self).unwrap_or(0);
        AuditTab::ALL[if forward { (i + 1) % 3 } else { (i + 2) % 3 }]
    }
}

/// What the view was opened from: only the records about it are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSubject {
    /// Shown in the title (`cis-azure-2.0 1.1.1`).
    pub label: String,
    /// Attestations of these (standard, control).
    pub controls: Vec<(String, String)>,
    /// Exemptions of these checks.
    pub checks: Vec<String>,
    /// Assignments of these actions (check ids or `standard/control`).
    pub actions: Vec<String>,
}

/// The state filter: one standing (attestations, exemptions) or one assignment state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Every record.
    #[default]
    All,
    /// Attestations and exemptions in this standing.
    Standing(Standing),
    /// Assignments in this state.
    Assignment(AssignmentState),
}

impl StateFilter {
    /// The word shown in the title.
    pub fn label(self) -> Option<&'static str> {
        match self {
            StateFilter::All => None,
            StateFilter::Standing(s) => Some(s.as_str()),
            StateFilter::Assignment(s) => Some(s.as_str()),
        }
    }

    /// A state word typed after the command (`:assignments overdue`), for `tab`.
    pub fn parse(tab: AuditTab, word: &str) -> Option<StateFilter> {
        let w = word.trim().replace(['_', '-'], " ");
        match tab {
            AuditTab::Assignments => {
                AssignmentState::ALL.iter().find(|s| s.as_str() == w).map(|s| StateFilter::Assignment(*s))
            }
            _ => Standing::ALL.iter().find(|s| s.as_str() == w).map(|s| StateFilter::Standing(*s)),
        }
    }

    /// The next filter of `tab`'s cycle (all → each state → all).
    fn next(self, tab: AuditTab) -> StateFilter {
        let cycle: Vec<StateFilter> = match tab {
            AuditTab::Assignments => AssignmentState::ALL.iter().map(|s| StateFilter::Assignment(*s)).collect(),
            _ => Standing::ALL.iter().map(|s| StateFilter::Standing(*s)).collect(),
        };
        match cycle.iter().position(|f| *f == self) {
            Some(i) if i + 1 < cycle.len() => cycle[i + 1],
            Some(_) => StateFilter::All,
            None => cycle[0],
        }
    }
}

/// The open audit view.
#[derive(Debug, Clone)]
pub struct AuditView {
    /// Which records.
    pub tab: AuditTab,
    /// Only those about this, when opened from a control, finding or action.
    pub subject: Option<AuditSubject>,
    /// `/` text, matched in every column.
    pub text: String,
    /// State filter.
    pub state: StateFilter,
    /// Cursor over the visible rows.
    pub list: ListState,
}

/// A row of the view, in the review's own order (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row(pub usize);

fn contains(hay: &[&str], needle: &str) -> bool {
    needle.is_empty() || hay.iter().any(|h| h.to_lowercase().contains(needle))
}

impl AuditView {
    /// A view of `tab`, about `subject` when given.
    pub fn new(tab: AuditTab, subject: Option<AuditSubject>) -> AuditView {
        AuditView { tab, subject, text: String::new(), state: StateFilter::All, list: ListState::default() }
    }

    /// How many records `tab` has in all (before filters), for the tab line.
    pub fn total(review: &Review, tab: AuditTab) -> usize {
        match tab {
            AuditTab::Attestations => review.attestations.len(),
            AuditTab::Exemptions => review.exemptions.len(),
            AuditTab::Assignments => review.assignments.len(),
        }
    }

    /// The rows left by the subject, the state filter and the text.
    pub fn visible(&self, review: &Review) -> Vec<Row> {
        let text = self.text.to_lowercase();
        let subj = self.subject.as_ref();
        let state_ok = |s: StateFilter| self.state == StateFilter::All || self.state == s;
        match self.tab {
            AuditTab::Attestations => review
                .attestations
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    let r = &a.record;
                    subj.is_none_or(|s| s.controls.iter().any(|(st, c)| *st == r.standard && *c == r.control))
                        && state_ok(StateFilter::Standing(a.standing))
                        && contains(
                            &[&r.standard, &r.control, r.status.as_str(), &r.note, &r.attester, a.standing.as_str()],
                            &text,
                        )
                })
                .map(|(i, _)| Row(i))
                .collect(),
            AuditTab::Exemptions => review
                .exemptions
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    let r = &e.record;
                    let place = [r.resource.as_deref(), r.resource_pattern.as_deref(), r.scope.as_deref()];
                    let place = place.iter().flatten().copied().collect::<Vec<_>>().join(" ");
                    subj.is_none_or(|s| s.checks.contains(&r.check))
                        && state_ok(StateFilter::Standing(e.standing))
                        && contains(&[&r.check, &place, &r.category, &r.reason, &r.author, e.standing.as_str()], &text)
                })
                .map(|(i, _)| Row(i))
                .collect(),
            AuditTab::Assignments => review
                .assignments
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    let r = &a.record;
                    subj.is_none_or(|s| s.actions.contains(&r.action))
                        && state_ok(StateFilter::Assignment(a.state))
                        && contains(&[&r.action, &r.owner, &r.author, a.state.as_str()], &text)
                })
                .map(|(i, _)| Row(i))
                .collect(),
        }
    }

    /// The selected record's kind, id, whether it was revoked, and a one-line description.
    fn selected(&self, review: &Review) -> Option<(RecordKind, i64, bool, String)> {
        let Row(i) = *self.visible(review).get(self.list.selected)?;
        let kind = self.tab.record();
        Some(match self.tab {
            AuditTab::Attestations => {
                let a = &review.attestations[i];
                let r = &a.record;
                let what = format!("{} {} {} by {}", r.standard, r.control, r.status.as_str(), r.attester);
                (kind, r.id, a.revocation.is_some(), what)
            }
            AuditTab::Exemptions => {
                let e = &review.exemptions[i];
                let r = &e.record;
                let place = r.resource.as_deref().or(r.scope.as_deref()).unwrap_or("everywhere");
                (kind, r.id, e.revocation.is_some(), format!("{} on {place} ({})", r.check, r.category))
            }
            AuditTab::Assignments => {
                let a = &review.assignments[i];
                let r = &a.record;
                (kind, r.id, a.revocation.is_some(), format!("{} → {} due {}", r.action, r.owner, r.due))
            }
        })
    }

    /// Move, switch tab or state filter, filter (`/`), revoke (`R`, a form), or close.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        let review = ctx.review;
        self.list.set_len(self.visible(review).len());
        let page = ctx.page.max(1) as isize;
        match action {
            Action::Down | Action::NextMatch => self.list.move_by(1),
            Action::Up | Action::PrevMatch => self.list.move_by(-1),
            Action::PageDown => self.list.move_by(page),
            Action::PageUp => self.list.move_by(-page),
            Action::Top => self.list.select(0),
            Action::Bottom => self.list.select(self.list.len.saturating_sub(1)),
            Action::NextPane | Action::PrevPane => {
                self.tab = self.tab.step(action == Action::NextPane);
                self.state = StateFilter::All;
                self.list = ListState::default();
            }
            Action::Facet | Action::Sort => {
                self.state = self.state.next(self.tab);
                self.list = ListState::default();
            }
            Action::Filter => return vec![Effect::Prompt(Prompt::Filter(Input::default()))],
            Action::Revoke => {
                return vec![match self.selected(review) {
                    None => Effect::Info("nothing selected to revoke".into()),
                    Some((kind, id, true, _)) => Effect::Info(format!("{} {id} is already revoked", kind.as_str())),
                    Some((record, id, false, what)) => {
                        Effect::Form(Box::new(crate::tui::form::Form::revoke(record, id, &what)))
                    }
                }];
            }
            Action::Back if !self.text.is_empty() => {
                self.text.clear();
                self.list = ListState::default();
            }
            Action::Back | Action::Quit | Action::Audit => return vec![Effect::Close],
            _ => {}
        }
        self.list.set_len(self.visible(review).len());
        Vec::new()
    }

    /// The text filter changed (typed after `/`).
    pub fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        self.list = ListState::default();
    }
}

impl App {
    /// Read the attestations, exemptions and assignments with where each stands into
    /// `self.review`: the one place the audit views read the store (on open and on reload).
    pub fn load_review(&mut self) {
        let request = self.review_request();
        self.ask(request);
    }

    /// The request that reads the review as of today.
    pub(crate) fn review_request(&self) -> Request {
        let today = (self.clock)().date_naive();
        let done = self
            .rollup
            .as_ref()
            .map(|r| r.actions.iter().filter(|a| a.achieved >= a.points).map(|a| a.id.clone()).collect())
            .unwrap_or_default();
        Request::Review { today, window_days: self.expiring_days, done }
    }

    /// `:attestations`, `:exemptions`, `:assignments` (`:audit`, `:overdue`), with an optional
    /// state word (`expiring`, `overdue`, ...) or text to filter by.
    pub fn open_audit_command(&self, cmd: &str, arg: &str) -> Vec<Effect> {
        let (tab, arg) = match cmd {
            "exemptions" => (AuditTab::Exemptions, arg),
            "assignments" | "owners" => (AuditTab::Assignments, arg),
            "overdue" => (AuditTab::Assignments, "overdue"),
            _ => (AuditTab::Attestations, arg),
        };
        let mut view = AuditView::new(tab, None);
        match StateFilter::parse(tab, arg) {
            Some(f) => view.state = f,
            None => view.text = arg.to_string(),
        }
        self.open_audit(view)
    }

    /// `A`: the records about the selection (a control's attestations, a finding's or check's
    /// exemptions, an action's assignments); `R` outside a view says where it works.
    pub fn audit_key(&self, action: Action) -> Vec<Effect> {
        if action == Action::Revoke {
            return vec![Effect::Info(
                "R revokes the selected record in an audit view: A, or :attestations / :exemptions / :assignments"
                    .into(),
            )];
        }
        let view = match self.focus {
            Pane::Standards => AuditView::new(AuditTab::Attestations, None),
            Pane::Controls => match (self.standard(), self.control()) {
                (Some(s), Some(c)) => {
                    let mut actions = c.checks.clone();
                    actions.push(format!("{}/{}", s.id, c.id));
                    let subject = AuditSubject {
                        label: format!("{} {}", s.id, c.id),
                        controls: vec![(s.id.clone(), c.id.clone())],
                        checks: c.checks.clone(),
                        actions,
                    };
                    AuditView::new(AuditTab::Attestations, Some(subject))
                }
                _ => AuditView::new(AuditTab::Attestations, None),
            },
            Pane::Findings => match self.finding() {
                Some(f) => {
                    let subject = AuditSubject {
                        label: f.check.clone(),
                        checks: vec![f.check.clone()],
                        actions: vec![f.check.clone()],
                        ..Default::default()
                    };
                    AuditView::new(AuditTab::Exemptions, Some(subject))
                }
                None => AuditView::new(AuditTab::Exemptions, None),
            },
            Pane::Actions => match self.visible_actions().get(self.actions.selected) {
                Some(a) => {
                    let controls = a.id.split_once('/').map(|(s, c)| vec![(s.to_string(), c.to_string())]);
                    let checks = if a.id.contains('/') { Vec::new() } else { vec![a.id.clone()] };
                    let subject = AuditSubject {
                        label: a.id.clone(),
                        controls: controls.unwrap_or_default(),
                        checks,
                        actions: vec![a.id.clone()],
                    };
                    AuditView::new(AuditTab::Assignments, Some(subject))
                }
                None => AuditView::new(AuditTab::Assignments, None),
            },
        };
        self.open_audit(view)
    }

    /// Open `view`, reading the review again (it may have changed since the last load).
    fn open_audit(&self, mut view: AuditView) -> Vec<Effect> {
        view.list.set_len(view.visible(&self.review).len());
        vec![Effect::Ask(self.review_request()), Effect::Open(Overlay::Audit(Box::new(view)))]
    }
}

/// The keys of the audit views, for the hint line.
pub fn hints() -> Vec<super::hints::Spec> {
    use super::hints::K::{Bound, Pair};
    vec![
        (Pair(Action::Down, Action::Up), "move", 7),
        (Bound(Action::NextPane), "next tab", 8),
        (Bound(Action::Revoke), "revoke", 9),
        (Bound(Action::Filter), "filter", 6),
        (Bound(Action::Facet), "which", 5),
        (Bound(Action::Back), "close", 10),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_filter_cycles_through_each_state_and_back_to_all() {
        let mut f = StateFilter::All;
        let mut seen = Vec::new();
        for _ in 0..=AssignmentState::ALL.len() {
            f = f.next(AuditTab::Assignments);
            seen.push(f.label());
        }
        assert_eq!(seen.first(), Some(&Some("open")));
        assert_eq!(seen.last(), Some(&None), "back to all");
        assert_eq!(
            StateFilter::parse(AuditTab::Assignments, "overdue"),
            Some(StateFilter::Assignment(AssignmentState::Overdue))
        );
        assert_eq!(
            StateFilter::parse(AuditTab::Attestations, "evidence-missing"),
            Some(StateFilter::Standing(Standing::EvidenceMissing))
        );
        assert_eq!(StateFilter::parse(AuditTab::Attestations, "overdue"), None, "not an attestation state");
    }
}
