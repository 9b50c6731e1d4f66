//! Detail of a resource: header, every check it fails with the remediation and the filled-in
//! command, then its properties as a coloured JSON tree with the fields the checks read
//! highlighted. Scrolls; `/` searches, `n`/`N` jump between matches, `y` copies the command.

use crate::sanitize::clean;
use crate::tui::app::{App, Jump, Overlay, Prompt, ResourceDetail};
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::reader::Request;
use crate::tui::theme::Theme;
use crate::tui::widgets::{centered, finding_icon, fit, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

fn json_lines(
    theme: &Theme,
    v: &Value,
    key: Option<&str>,
    path: &str,
    indent: usize,
    hl: &HashSet<String>,
    out: &mut Vec<Line<'static>>,
) {
    let pad = "  ".repeat(indent);
    let highlighted = !path.is_empty() && hl.contains(path);
    let key_span = |k: &str| {
        Span::styled(
            format!("{}: ", clean(k)),
            if highlighted { theme.get("highlight") } else { theme.get("json_key") },
        )
    };
    let scalar = |v: &Value| -> Span<'static> {
        let (text, style) = match v {
            Value::String(s) => (format!("\"{}\"", clean(s)), theme.get("json_string")),
            Value::Number(n) => (n.to_string(), theme.get("json_number")),
            Value::Bool(b) => (b.to_string(), theme.get("json_literal")),
            Value::Null => ("null".into(), theme.get("json_literal")),
            _ => (String::new(), Style::default()),
        };
        Span::styled(text, if highlighted { style.patch(theme.get("highlight")) } else { style })
    };
    let child = |k: &str| {
        if path.is_empty() { k.to_string() } else { format!("{path}.{k}") }
    };
    match v {
        Value::Object(m) => {
            let mut spans = vec![Span::raw(pad.clone())];
            if let Some(k) = key {
                spans.push(key_span(k));
            }
            if m.is_empty() {
                spans.push(Span::styled("{}", theme.get("dim")));
                out.push(Line::from(spans));
                return;
            }
            spans.push(Span::styled("{", theme.get("dim")));
            out.push(Line::from(spans));
            for (k, val) in m {
                json_lines(theme, val, Some(k), &child(k), indent + 1, hl, out);
            }
            out.push(Line::from(vec![Span::raw(pad), Span::styled("}", theme.get("dim"))]));
        }
        Value::Array(items) => {
            let mut spans = vec![Span::raw(pad.clone())];
            if let Some(k) = key {
                spans.push(key_span(k));
            }
            if items.is_empty() {
                spans.push(Span::styled("[]", theme.get("dim")));
                out.push(Line::from(spans));
                return;
            }
            spans.push(Span::styled("[", theme.get("dim")));
            out.push(Line::from(spans));
            for (i, val) in items.iter().enumerate() {
                // Items sit under the array's path so an array the checks read stays highlighted.
                let item_path = if highlighted { path.to_string() } else { child(&i.to_string()) };
                json_lines(theme, val, None, &item_path, indent + 1, hl, out);
            }
            out.push(Line::from(vec![Span::raw(pad), Span::styled("]", theme.get("dim"))]));
        }
        scalar_v => {
            let mut spans = vec![Span::raw(pad)];
            if let Some(k) = key {
                spans.push(key_span(k));
            }
            spans.push(scalar(scalar_v));
            out.push(Line::from(spans));
        }
    }
}

/// Columns before a labelled value (`      command   `).
const LABEL: usize = 16;

/// Lines an evidence value takes at most (a whole policy document would bury the rest).
const EVIDENCE_LINES: usize = 4;

/// The rows of the detail body, and which of them continue the row before (a wrapped value:
/// its first span is the indent under the label, the rest is the value's next characters).
#[derive(Default)]
pub struct Body {
    /// Every row, in order.
    pub lines: Vec<Line<'static>>,
    /// Indices of the rows that continue the one before, ascending.
    cont: Vec<usize>,
}

impl Body {
    fn push(&mut self, l: Line<'static>) {
        self.lines.push(l);
    }

    /// The rows holding a match of `needle` (lowercase, not empty): the row each match starts
    /// on (where a jump lands), and every row a match covers (to highlight). A match cut by
    /// wrapping is found, as the value reads.
    fn matches(&self, needle: &str) -> (Vec<usize>, BTreeSet<usize>) {
        let (mut starts, mut lit) = (Vec::new(), BTreeSet::new());
        let mut i = 0;
        while i < self.lines.len() {
            let mut end = i + 1;
            while self.cont.binary_search(&end).is_ok() {
                end += 1;
            }
            // One logical line: each row's text (a continuation without its indent) and where
            // it ends in the joined text.
            let (mut text, mut ends) = (String::new(), Vec::new());
            for k in i..end {
                let skip = usize::from(k > i);
                text.extend(self.lines[k].spans.iter().skip(skip).map(|s| s.content.to_lowercase()));
                ends.push(text.len());
            }
            let row_of = |at: usize| i + ends.iter().position(|&e| at < e).unwrap_or(ends.len() - 1);
            for (at, m) in text.match_indices(needle) {
                let (first, last) = (row_of(at), row_of(at + m.len() - 1));
                if starts.last() != Some(&first) {
                    starts.push(first);
                }
                lit.extend(first..=last);
            }
            i = end;
        }
        (starts, lit)
    }
}

/// `label  text`, the text wrapped under itself (not to column 0), every character kept up to
/// `max` lines (then `…`).
fn labelled(out: &mut Body, label: &str, text: &str, styles: (Style, Style), width: usize, max: usize) {
    let (dim, style) = styles;
    let w = width.saturating_sub(LABEL).max(8);
    let mut parts = crate::tui::widgets::wrap_exact(text, w);
    if parts.len() > max {
        parts.truncate(max.max(1));
        if let Some(last) = parts.last_mut() {
            *last = fit(&format!("{last}…"), w);
        }
    }
    for (k, part) in parts.into_iter().enumerate() {
        let lead = if k == 0 { format!("      {label:<8}  ") } else { " ".repeat(LABEL) };
        if k > 0 {
            out.cont.push(out.lines.len());
        }
        out.push(Line::from(vec![Span::styled(lead, dim), Span::styled(part, style)]));
    }
}

/// Every line of the detail body, for drawing and for search.
pub fn body(app: &App, d: &ResourceDetail, width: usize) -> Body {
    let t = &app.theme;
    let mut out = Body::default();
    let Some(first) = d.findings.first() else {
        return out;
    };
    let r = &first.resource;
    for (k, v) in [
        ("name", &r.name),
        ("type", &r.rtype),
        ("cloud", &r.cloud.to_string()),
        ("scope", &r.scope),
        ("region", &r.region),
        ("id", &r.id),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!("{k:>7}  "), t.get("dim")),
            Span::styled(fit(v, width.saturating_sub(9)), t.get("text")),
        ]));
    }
    out.push(Line::default());
    out.push(line(format!("Fails {} check(s) — Tab selects, y copies its command", d.findings.len()), t.get("title")));
    let mut hl = HashSet::new();
    for (i, f) in d.findings.iter().enumerate() {
        let check = app.catalog.check(&f.check);
        let marker = if i == d.selected { "▶ " } else { "  " };
        let sev = check.map(|c| c.severity.to_string()).unwrap_or_default();
        out.push(Line::from(vec![
            Span::styled(marker, t.get("accent")),
            Span::styled(format!("{} ", finding_icon(f.state)), t.finding(f.state)),
            Span::styled(format!("{sev:<6} "), check.map(|c| t.severity(c.severity)).unwrap_or_default()),
            Span::styled(
                fit(check.map(|c| c.title.as_str()).unwrap_or(&f.check), width.saturating_sub(12)),
                if i == d.selected { t.get("selected") } else { t.get("text") },
            ),
        ]));
        // Another tool's finding says so: the resource shows posture's and the tool's side by side.
        let from = match f.origin {
            crate::model::Origin::Posture => String::new(),
            o => format!("  · from {o}"),
        };
        out.push(line(format!("      {}{from}", f.check), t.get("dim")));
        for e in &f.evidence {
            hl.insert(e.path.clone());
            labelled(
                &mut out,
                "evidence",
                &clean(&format!("{} = {}", e.path, e.value)),
                (t.get("dim"), t.get("highlight")),
                width,
                EVIDENCE_LINES,
            );
        }
        if let Some(m) = &f.message {
            labelled(&mut out, "note", &clean(m), (t.get("dim"), t.get("error")), width, usize::MAX);
        }
        if let Some(c) = check {
            if !c.remediation.text.is_empty() {
                labelled(
                    &mut out,
                    "fix",
                    &clean(&c.remediation.text),
                    (t.get("dim"), t.get("text")),
                    width,
                    usize::MAX,
                );
            }
            if let Some(cmd) = c.remediation.command_for(&f.resource, d.doc.as_ref()) {
                labelled(&mut out, "command", &clean(&cmd), (t.get("dim"), t.get("accent")), width, usize::MAX);
            }
        }
    }
    out.push(Line::default());
    match &d.doc {
        Some(doc) => {
            out.push(line("Properties (fields the checks read are highlighted)", t.get("title")));
            json_lines(t, doc, None, "", 0, &hl, &mut out.lines);
        }
        None if d.loading => out.push(line("⟳ reading the resource from the cache …", t.get("dim"))),
        None => out.push(line("The properties of this resource are not in the cache.", t.get("dim"))),
    }
    out
}

impl ResourceDetail {
    /// The detail of resource `id`, showing `known` findings until its own are read.
    pub fn new(id: String, known: Vec<crate::store::FindingRow>, yank_when_loaded: bool) -> ResourceDetail {
        ResourceDetail {
            id,
            loading: true,
            yank_when_loaded,
            findings: known,
            doc: None,
            selected: 0,
            scroll: 0,
            search: String::new(),
            jump: None,
        }
    }

    /// Scroll, choose a finding (Tab), copy its fix (`y`), search (`/`, `n`, `N`), help, or
    /// close (Esc, `q`, Enter).
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        let (page, n) = (ctx.page, self.findings.len().max(1));
        match action {
            Action::Down => self.scroll += 1,
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::PageDown => self.scroll += page,
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::Top => self.scroll = 0,
            // Drawing clamps it to the last page.
            Action::Bottom => self.scroll = usize::MAX / 2,
            Action::NextPane => self.selected = (self.selected + 1) % n,
            Action::PrevPane => self.selected = (self.selected + n - 1) % n,
            Action::Yank => return self.yank(ctx.catalog),
            Action::Filter => return vec![Effect::Prompt(Prompt::Filter(tui_input::Input::default()))],
            Action::NextMatch => self.jump = Some(Jump::Next),
            Action::PrevMatch => self.jump = Some(Jump::Prev),
            Action::Back | Action::Enter | Action::Quit => return vec![Effect::Close],
            Action::Help => return vec![Effect::Open(Overlay::Help(Default::default()))],
            Action::Exempt => return self.exempt(ctx),
            _ => {}
        }
        Vec::new()
    }

    /// Search the body for `text`: the next frame moves to its first match, as a pager's
    /// incremental search.
    pub fn search_for(&mut self, text: &str) {
        self.search = text.to_string();
        self.jump = Some(Jump::First);
    }

    /// `e`: the exemption form of the selected finding's check on this resource.
    fn exempt(&self, ctx: &Ctx) -> Vec<Effect> {
        match self.findings.get(self.selected) {
            Some(f) => {
                let form = crate::tui::form::Form::exempt(ctx.catalog, &f.check, Some(f.resource.clone()), ctx.now);
                vec![Effect::Form(Box::new(form))]
            }
            None => vec![Effect::Info("no finding to exempt yet: its findings are being read".into())],
        }
    }

    /// Copy the selected finding's fix command (nothing when it has none to copy).
    pub fn yank(&self, catalog: &crate::catalog::Catalog) -> Vec<Effect> {
        let Some(f) = self.findings.get(self.selected) else {
            return Vec::new();
        };
        let Some(check) = catalog.check(&f.check) else {
            return Vec::new();
        };
        match check.remediation.command_for(&f.resource, self.doc.as_ref()) {
            Some(cmd) => vec![Effect::Copy(cmd)],
            None => vec![Effect::Info("this check has no CLI fix to copy".into())],
        }
    }
}

/// Open the detail of resource `id` of run `run` (`known` shown until its own findings are
/// read; `yank`: copy the fix once they are).
pub fn open(run: i64, id: String, known: Vec<crate::store::FindingRow>, yank: bool) -> Vec<Effect> {
    let detail = ResourceDetail::new(id.clone(), known, yank);
    vec![Effect::Open(Overlay::Resource(Box::new(detail))), Effect::Ask(Request::Resource { run, id })]
}

/// Open the detail of resource `id` of run `run` over the popup open (the diff, the picker),
/// which comes back when it closes; says so when the run is not the one shown.
pub fn open_over(ctx: &Ctx, run: i64, id: String, known: Vec<crate::store::FindingRow>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if ctx.run.is_some_and(|r| r != run) {
        effects.push(Effect::Info(format!("{id}: as it was in run {run}")));
    }
    let detail = ResourceDetail::new(id.clone(), known, false);
    effects.push(Effect::Push(Overlay::Resource(Box::new(detail))));
    effects.push(Effect::Ask(Request::Resource { run, id }));
    effects
}

/// Draw the resource detail `d` over `area`.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App, d: &mut ResourceDetail) {
    let rect = centered(area, area.width.saturating_sub(2).max(20), area.height.saturating_sub(1).max(5));
    let inner_h = rect.height.saturating_sub(2) as usize;
    let body = body(app, d, rect.width.saturating_sub(2) as usize);
    let search = d.search.to_lowercase();
    let (hits, lit) = if search.is_empty() { Default::default() } else { body.matches(&search) };
    if let Some(jump) = d.jump.take()
        && !search.is_empty()
    {
        let next = match jump {
            Jump::First => hits.first(),
            Jump::Next => hits.iter().find(|&&i| i > d.scroll).or(hits.first()),
            Jump::Prev => hits.iter().rev().find(|&&i| i < d.scroll).or(hits.last()),
        };
        match next {
            Some(&i) => d.scroll = i,
            None => app.info(format!("no match for '{}'", d.search)),
        }
    }
    let mut lines = body.lines;
    for (_, l) in lines.iter_mut().enumerate().filter(|(i, _)| lit.contains(i)) {
        *l = std::mem::take(l).patch_style(app.theme.get("highlight"));
    }
    let max = lines.len().saturating_sub(inner_h);
    d.scroll = d.scroll.min(max);
    let name = d.findings.first().map(|x| x.resource.name.clone()).unwrap_or_else(|| d.id.clone());
    let mut title = format!(" {} ", fit(&name, 50));
    if !d.search.is_empty() {
        title.push_str(&format!("/{} ", clean(&d.search)));
    }
    let below = lines.len().saturating_sub(d.scroll + inner_h);
    let more = if d.scroll > 0 || below > 0 { format!(" ↑{} ↓{} ", d.scroll, below) } else { String::new() };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(app.theme.get("border_focus"))
        .title(Line::from(Span::styled(title, app.theme.get("accent"))))
        .title_bottom(
            Line::from(Span::styled(format!("{more} Esc back · Tab check · y copy · / search "), app.theme.get("dim")))
                .right_aligned(),
        );
    let visible: Vec<Line> = lines.into_iter().skip(d.scroll).take(inner_h).collect();
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(visible).block(block).wrap(Wrap { trim: false }), rect);
}

/// The keys of the detail, for the hint line.
pub fn hints() -> Vec<super::hints::Spec> {
    use super::hints::K::{Bound, Pair};
    vec![
        (Pair(Action::Down, Action::Up), "scroll", 8),
        (Bound(Action::NextPane), "next finding", 7),
        (Bound(Action::Yank), "copy fix", 9),
        (Bound(Action::Exempt), "exempt", 6),
        (Bound(Action::Filter), "search", 5),
        (Bound(Action::NextMatch), "next match", 4),
        (Bound(Action::Back), "close", 10),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of a plain row, a value wrapped over three rows and another plain row.
    fn wrapped() -> Body {
        let mut b = Body::default();
        b.push(line("name  web-01", Style::default()));
        let text = "az storage account update --name store-one --min-tls-version TLS1_2";
        labelled(&mut b, "command", text, (Style::default(), Style::default()), LABEL + 24, usize::MAX);
        b.push(line("region  eastus", Style::default()));
        b
    }

    #[test]
    fn a_match_cut_by_wrapping_is_found_on_the_row_it_starts_and_lit_on_each_it_spans() {
        let b = wrapped();
        let rows: Vec<String> = b.lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert!(rows.len() >= 5, "{rows:?}");
        // Wrapped after "account ": "update" starts the next row.
        let at = rows.iter().position(|r| r.ends_with("account ")).unwrap();
        assert!(rows[at + 1].trim_start().starts_with("update"), "{rows:?}");
        let (starts, lit) = b.matches("account update");
        assert_eq!(starts, vec![at], "{rows:?}");
        assert_eq!(lit.into_iter().collect::<Vec<_>>(), vec![at, at + 1]);
        // A match over all three rows of the value lights each of them.
        assert_eq!(b.matches("storage account update --name store-one --min").1.len(), 3);
        // The indent under the label is not part of the value: it never matches.
        assert!(b.matches("account  update").0.is_empty());
        // Rows that do not continue another are searched alone, as before.
        assert_eq!(b.matches("eastus").0, vec![rows.len() - 1]);
        assert_eq!(b.matches("web-01").0, vec![0]);
        assert!(b.matches("web-01region").0.is_empty());
    }
}
