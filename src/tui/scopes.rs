//! Standards switched on and off (`x`, kept in `console.toml` beside the cache), the
//! assessments of the config as rows of the Standards pane (rolled up by the reader over their
//! scopes), and a control's results per scope for its detail.

use super::app::{App, Overlay, Pane};
use super::effect::Effect;
use super::panes::text::TextView;
use super::reader::Request;
use crate::assess::StandardSummary;
use crate::store::Breakdown;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Title of the action detail (a text popup).
const ACTION_TITLE: &str = "Improvement action";

/// The console's state file beside the cache (`standards` switched on or off with `x`).
pub fn state_path(db: &Path) -> PathBuf {
    db.parent().map(|p| p.join("console.toml")).unwrap_or_else(|| PathBuf::from("console.toml"))
}

/// An assessment as the Standards pane lists it.
#[derive(Debug, Clone)]
pub struct AssessmentRow {
    /// Its name.
    pub name: String,
    /// Its standard's id.
    pub standard: String,
    /// The scopes it names that the run has (what it was rolled up over).
    pub scopes: Vec<String>,
    /// Scopes it names in all.
    pub named: usize,
    /// Its standard rolled up over `scopes`, named after the assessment (None: the run has
    /// none of its scopes).
    pub summary: Option<StandardSummary>,
}

impl AssessmentRow {
    /// The row of `a`, rolled up over `present` scopes.
    pub fn new(a: &crate::config::Assessment, present: Vec<String>, summary: Option<StandardSummary>) -> Self {
        let n = present.len();
        let summary = summary.map(|mut s| {
            let scopes = if n == 1 { "1 scope".to_string() } else { format!("{n} scopes") };
            s.name = format!("◆ {} · {} · {scopes}", a.name, a.standard);
            s
        });
        AssessmentRow {
            name: a.name.clone(),
            standard: a.standard.clone(),
            scopes: present,
            named: a.scopes.len(),
            summary,
        }
    }
}

/// Which standards are on, the assessments and the open breakdown.
#[derive(Debug, Clone, Default)]
pub struct Scoping {
    /// The config's `standards_disabled` and `[[assessment]]`.
    pub config: crate::config::Scoping,
    /// `console.toml`: standard → on (true) or off, over the config's choice.
    pub overrides: BTreeMap<String, bool>,
    /// Where `overrides` are kept (None: not kept, tests).
    pub state_path: Option<PathBuf>,
    /// Show the standards switched off too (`X`).
    pub show_all: bool,
    /// The assessments over the run shown.
    pub rows: Vec<AssessmentRow>,
    /// The control detail's results per scope: its subject and the answer (None: being read).
    pub breakdown: Option<(String, Option<Result<Breakdown, String>>)>,
}

impl Scoping {
    /// The config's choices with the console's on top, read from `state` when it exists.
    pub fn load(config: crate::config::Scoping, state: Option<PathBuf>) -> Result<Scoping, String> {
        let mut s = Scoping { config, state_path: state, ..Default::default() };
        let Some(path) = &s.state_path else { return Ok(s) };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(s),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        if let Some(toml::Value::Table(standards)) = table.get("standards") {
            for (id, on) in standards {
                let on = on
                    .as_bool()
                    .ok_or_else(|| format!("{}: standards.{id}: expected true or false", path.display()))?;
                s.overrides.insert(id.clone(), on);
            }
        }
        Ok(s)
    }

    /// Whether `standard` is on: the console's choice, else the config's.
    pub fn enabled(&self, standard: &str) -> bool {
        self.overrides.get(standard).copied().unwrap_or_else(|| !self.config.is_disabled(standard))
    }

    /// Switch `standard` on or off and keep the choice; whether it is on now.
    pub fn toggle(&mut self, standard: &str) -> Result<bool, String> {
        let on = !self.enabled(standard);
        self.overrides.insert(standard.to_string(), on);
        if let Some(path) = &self.state_path {
            let mut standards = toml::Table::new();
            for (id, v) in &self.overrides {
                standards.insert(id.clone(), toml::Value::Boolean(*v));
            }
            let mut table = toml::Table::new();
            table.insert("standards".into(), toml::Value::Table(standards));
            let body = toml::to_string(&table).map_err(|e| format!("console state: {e}"))?;
            let text = format!(
                "# Written by the posture console: standards switched on (true) or off (false) with x.\n{body}"
            );
            crate::fsutil::write_private(path, text.as_bytes()).map_err(|e| format!("keeping the choice: {e}"))?;
        }
        Ok(on)
    }

    /// The assessments' summaries, in config order.
    pub fn summaries(&self) -> impl Iterator<Item = &StandardSummary> {
        self.rows.iter().filter_map(|r| r.summary.as_ref())
    }

    /// The assessment whose row `s` is.
    pub fn row_of(&self, s: &StandardSummary) -> Option<&AssessmentRow> {
        self.rows.iter().find(|r| r.summary.as_ref().is_some_and(|x| std::ptr::eq(x, s)))
    }
}

impl App {
    /// Use the config's standards and assessments, with the console's choices kept beside
    /// the cache.
    pub fn set_scoping(&mut self, config: crate::config::Scoping) {
        let state = Some(state_path(self.db_path()));
        match Scoping::load(config.clone(), state.clone()) {
            Ok(s) => self.scoping = s,
            Err(e) => {
                self.scoping = Scoping { config, state_path: state, ..Default::default() };
                self.error(e);
            }
        }
        self.load_assessments();
        self.refresh_lists();
    }

    /// Whether the Standards pane lists `standard` (on, or every one shown).
    pub fn standard_shown(&self, standard: &str) -> bool {
        self.scoping.show_all || self.scoping.enabled(standard)
    }

    /// The name the Standards pane shows: `(off)` before a standard switched off (before: a
    /// long name is cut at the end).
    pub fn standard_label<'a>(&self, s: &'a StandardSummary) -> std::borrow::Cow<'a, str> {
        if self.scoping.row_of(s).is_none() && !self.scoping.enabled(&s.id) {
            format!("(off) {}", s.name).into()
        } else {
            s.name.as_str().into()
        }
    }

    /// `x`: switch the selected standard on or off (kept in `console.toml`).
    pub(super) fn toggle_standard(&mut self) -> Vec<Effect> {
        if self.focus != Pane::Standards {
            return vec![Effect::Info("x switches a standard on or off: select one in the Standards pane".into())];
        }
        let Some(s) = self.standard() else { return Vec::new() };
        if let Some(row) = self.scoping.row_of(s) {
            let name = &row.name;
            return vec![Effect::Info(format!("{name} is an assessment of the config: edit its [[assessment]] there"))];
        }
        let (id, name) = (s.id.clone(), s.name.clone());
        let said = match self.scoping.toggle(&id) {
            Ok(true) => Effect::Info(format!("{name}: on")),
            Ok(false) if self.scoping.show_all => Effect::Info(format!("{name}: off")),
            Ok(false) => Effect::Info(format!("{name}: off, hidden (X shows every standard)")),
            Err(e) => Effect::Error(e),
        };
        self.refresh_lists();
        self.moved();
        vec![said]
    }

    /// `X`: show the standards switched off too, or hide them again.
    pub(super) fn toggle_show_all(&mut self) -> Vec<Effect> {
        self.scoping.show_all = !self.scoping.show_all;
        let hidden = self
            .rollup
            .as_ref()
            .map(|r| r.standards.iter().filter(|s| !self.scoping.enabled(&s.id)).count())
            .unwrap_or(0);
        let said = match (self.scoping.show_all, hidden) {
            (true, _) => format!("every standard shown ({hidden} off)"),
            (false, 0) => "only the standards switched on".to_string(),
            (false, n) => format!("{n} standard(s) switched off hidden"),
        };
        self.refresh_lists();
        self.moved();
        vec![Effect::Info(said)]
    }

    /// `:assessment NAME`: select the assessment's row.
    pub(super) fn select_assessment(&mut self, name: &str) -> Vec<Effect> {
        let names = self.scoping.config.names().join(", ");
        let Some(row) = self.scoping.rows.iter().find(|r| r.name == name) else {
            let known = if names.is_empty() { "none in the config".to_string() } else { names };
            return vec![Effect::Error(format!(":assessment {name}: no such assessment (known: {known})"))];
        };
        if row.summary.is_none() {
            return vec![Effect::Error(format!(":assessment {name}: run has none of its {} scopes", row.named))];
        }
        self.filters.standards.clear();
        self.refresh_lists();
        let pos = self.visible_standards().iter().position(|s| self.scoping.row_of(s).is_some_and(|r| r.name == name));
        // As `:standard`: the row selected, its controls focused.
        if let Some(i) = pos {
            self.standards.select(i);
            self.focus = Pane::Standards;
            self.moved();
            self.focus = Pane::Controls;
        }
        Vec::new()
    }

    /// Ask the reader for the assessments' rollups over the run shown.
    pub(super) fn load_assessments(&mut self) {
        let list: Vec<crate::config::Assessment> =
            self.scoping.config.assessments.iter().map(|a| a.value.clone()).collect();
        match self.run.as_ref().map(|r| r.id) {
            Some(run) if !list.is_empty() => {
                self.ask(Request::Assessments { run, list });
            }
            _ => self.scoping.rows.clear(),
        }
    }

    pub(super) fn on_assessments(&mut self, run: i64, rows: Result<Vec<AssessmentRow>, String>) {
        if self.run.as_ref().map(|r| r.id) != Some(run) {
            return;
        }
        match rows {
            Ok(rows) => {
                let none: Vec<&str> = rows.iter().filter(|r| r.summary.is_none()).map(|r| r.name.as_str()).collect();
                if !none.is_empty() {
                    let note = format!("run {run} has no scope of assessment {}", none.join(", "));
                    self.info(note);
                }
                self.scoping.rows = rows;
            }
            Err(e) => self.error(e),
        }
        self.refresh_lists();
    }

    /// The request for the selected control's results per scope (its detail shows them),
    /// marked as awaited; None when it has no check to count.
    pub(super) fn ask_breakdown(&mut self) -> Option<Request> {
        let (Some(run), Some(c)) = (self.run.as_ref().map(|r| r.id), self.control()) else { return None };
        let (subject, checks) = (c.id.clone(), c.checks.clone());
        self.scoping.breakdown = Some((subject.clone(), None));
        (!checks.is_empty()).then_some(Request::Breakdown { run, subject, checks })
    }

    pub(super) fn on_breakdown(&mut self, subject: String, b: Result<Breakdown, String>) {
        let action = matches!(&self.overlay, Some(Overlay::Text(v)) if v.title == ACTION_TITLE);
        if (action || matches!(self.overlay, Some(Overlay::Control(_))))
            && let Some((open, answer)) = &mut self.scoping.breakdown
            && *open == subject
        {
            *answer = Some(b);
        }
        if action {
            self.show_action_detail();
        }
    }

    /// `d` in the Improvement actions pane: the action, and its results per scope.
    pub(super) fn open_action_detail(&mut self) -> Vec<Effect> {
        let Some(a) = self.visible_actions().get(self.actions.selected).map(|a| (*a).clone()) else {
            return Vec::new();
        };
        // A manual control's action (`STANDARD/CONTROL`) has no check to count per scope.
        let checks = if a.id.contains('/') { Vec::new() } else { vec![a.id.clone()] };
        self.scoping.breakdown = Some((format!("action {}", a.id), None));
        let ask = match self.run.as_ref().map(|r| r.id) {
            Some(run) if !checks.is_empty() => {
                Some(Effect::Ask(Request::Breakdown { run, subject: format!("action {}", a.id), checks }))
            }
            _ => {
                self.scoping.breakdown = None;
                None
            }
        };
        let view = TextView::new(ACTION_TITLE, self.action_detail_lines(&a));
        std::iter::once(Effect::Open(Overlay::Text(view))).chain(ask).collect()
    }

    /// Fill the action detail's text from the selected action and the breakdown read so far.
    fn show_action_detail(&mut self) {
        let Some(a) = self.visible_actions().get(self.actions.selected).map(|a| (*a).clone()) else { return };
        let lines = self.action_detail_lines(&a);
        if let Some(Overlay::Text(v)) = &mut self.overlay
            && v.title == ACTION_TITLE
        {
            v.lines = lines;
        }
    }

    /// The action detail's text: action `a` and the breakdown read so far.
    fn action_detail_lines(&self, a: &crate::assess::Action) -> Vec<String> {
        let mut lines = vec![
            format!("{} {}", a.id, a.title),
            format!(
                "{} · {} of {} points · {} unhealthy resources",
                a.state, a.achieved, a.points, a.unhealthy_resources
            ),
            match (&a.owner, a.due) {
                (Some(o), Some(d)) => format!("owner {o} · due {d}"),
                (Some(o), None) => format!("owner {o}"),
                _ => "no owner yet: o assigns one".into(),
            },
            String::new(),
        ];
        let per_scope = super::panes::scopes::breakdown_text(self);
        if per_scope.is_empty() {
            lines.push("A manual control's action: a person attests it, nothing to count per scope.".into());
        }
        lines.extend(per_scope);
        lines
    }

    /// The scopes the selected row covers: an assessment's, else every one (None).
    pub fn selected_scopes(&self) -> Option<&[String]> {
        let s = self.standard()?;
        self.scoping.row_of(s).map(|r| r.scopes.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_choice_is_kept_over_the_configs_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.toml");
        let config = crate::config::Scoping {
            disabled: vec![crate::config::Placed { value: "b".into(), at: "c.toml:1:1".into() }],
            ..Default::default()
        };
        let mut s = Scoping::load(config.clone(), Some(path.clone())).unwrap();
        assert!(s.enabled("a") && !s.enabled("b"));
        assert!(!s.toggle("a").unwrap());
        assert!(s.toggle("b").unwrap());
        let again = Scoping::load(config.clone(), Some(path.clone())).unwrap();
        assert!(!again.enabled("a") && again.enabled("b"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Written by the posture console") && text.contains("[standards]"), "{text}");
        std::fs::write(&path, "[standards]\na = \"yes\"\n").unwrap();
        assert!(Scoping::load(config, Some(path)).unwrap_err().contains("expected true or false"));
    }
}
