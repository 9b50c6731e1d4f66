//! A control's results per scope, for its detail: which subscriptions, accounts and projects
//! pass its checks and which fail them (an assessment's row: only its scopes).

use crate::model::ControlState;
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::widgets::{cell, control_icon, line};
use ratatui::text::{Line, Span};

/// Scopes the detail lists (the rest are counted).
const SHOWN: usize = 30;

/// One scope's row: its state, its name, its counts.
type Row = (ControlState, String, String);

/// A breakdown to show: its heading, its rows, and the count of the scopes left out.
struct Shown {
    head: String,
    rows: Vec<Row>,
    more: Option<String>,
}

/// The rows of a breakdown (an assessment's row: only its scopes), the heading and the "more"
/// line; Err: the line to show instead (reading, or the error).
fn rows(app: &App) -> Option<Result<Shown, String>> {
    let (_, answer) = app.scoping.breakdown.as_ref()?;
    let b = match answer {
        None => return Some(Err("Per scope: reading…".into())),
        Some(Err(e)) => return Some(Err(format!("Per scope: {e}"))),
        Some(Ok(b)) => b,
    };
    let only = app.selected_scopes();
    let scopes: Vec<_> = b.scopes.iter().filter(|s| only.is_none_or(|o| o.contains(&s.scope))).collect();
    let total = if only.is_some() { scopes.len() } else { b.total };
    let failing = scopes.iter().filter(|s| s.stats.unhealthy > 0).count();
    let width = scopes.iter().take(SHOWN).map(|s| s.scope.chars().count()).max().unwrap_or(0).clamp(8, 40);
    let rows = scopes
        .iter()
        .take(SHOWN)
        .map(|s| {
            let state = match (s.stats.unhealthy, s.stats.healthy) {
                (u, _) if u > 0 => ControlState::Failed,
                (0, h) if h > 0 => ControlState::Passed,
                _ => ControlState::Skipped,
            };
            let name = if s.scope.is_empty() { "(no scope)".to_string() } else { clean(&s.scope).into_owned() };
            let mut counts = format!("{} failed · {} passed", s.stats.unhealthy, s.stats.healthy);
            for (n, what) in [(s.stats.error, "error"), (s.stats.exempt, "exempt")] {
                if n > 0 {
                    counts.push_str(&format!(" · {n} {what}"));
                }
            }
            (state, cell(&name, width), counts)
        })
        .collect::<Vec<_>>();
    let shown = rows.len();
    let more = (total > shown).then(|| format!("  …and {} more scopes", total - shown));
    Some(Ok(Shown { head: format!("Per scope: {failing} of {total} failing"), rows, more }))
}

/// The lines of the selected control's breakdown per scope (none for a manual control).
pub fn breakdown_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Shown { head, rows, more } = match rows(app) {
        None => return Vec::new(),
        Some(Err(e)) => return vec![line(e, t.get("dim"))],
        Some(Ok(r)) => r,
    };
    let mut lines = vec![line(head, t.get("title"))];
    for (state, name, counts) in rows {
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", control_icon(state)), t.control(state)),
            Span::styled(format!("{name}  "), t.get("text")),
            Span::styled(counts, t.get("dim")),
        ]));
    }
    lines.extend(more.map(|m| line(m, t.get("dim"))));
    lines
}

/// The same as text, for the action detail (a text popup).
pub fn breakdown_text(app: &App) -> Vec<String> {
    match rows(app) {
        None => Vec::new(),
        Some(Err(e)) => vec![e],
        Some(Ok(Shown { head, rows, more })) => std::iter::once(head)
            .chain(rows.into_iter().map(|(state, name, counts)| format!("  {} {name}  {counts}", control_icon(state))))
            .chain(more)
            .collect(),
    }
}
