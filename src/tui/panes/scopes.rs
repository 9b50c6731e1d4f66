//! A control's results per scope, for its detail: which subscriptions, accounts and projects
//! pass its checks and which fail them (an assessment's row: only its scopes).

use crate::model::ControlState;
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::widgets::{control_icon, line};
use ratatui::text::{Line, Span};

/// Scopes the detail lists (the rest are counted).
const SHOWN: usize = 30;

/// The lines of the selected control's breakdown per scope (none for a manual control).
pub fn breakdown_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some((_, answer)) = &app.scoping.breakdown else { return Vec::new() };
    let b = match answer {
        None => return vec![line("Per scope: reading…", t.get("dim"))],
        Some(Err(e)) => return vec![line(format!("Per scope: {e}"), t.get("error"))],
        Some(Ok(b)) => b,
    };
    let only = app.selected_scopes();
    let scopes: Vec<_> = b.scopes.iter().filter(|s| only.is_none_or(|o| o.contains(&s.scope))).collect();
    let total = if only.is_some() { scopes.len() } else { b.total };
    let failing = scopes.iter().filter(|s| s.stats.unhealthy > 0).count();
    let mut lines = vec![line(format!("Per scope: {failing} of {total} failing"), t.get("title"))];
    let width = scopes.iter().take(SHOWN).map(|s| s.scope.chars().count()).max().unwrap_or(0).clamp(8, 40);
    for s in scopes.iter().take(SHOWN) {
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
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", control_icon(state)), t.control(state)),
            Span::styled(format!("{}  ", crate::tui::widgets::cell(&name, width)), t.get("text")),
            Span::styled(counts, t.get("dim")),
        ]));
    }
    if total > SHOWN.min(scopes.len()) {
        lines.push(line(format!("  …and {} more scopes", total - SHOWN.min(scopes.len())), t.get("dim")));
    }
    lines
}
