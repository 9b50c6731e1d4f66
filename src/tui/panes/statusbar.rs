//! The status bar: data source (DEMO DATA), last run time and age, worker progress, both
//! scores, and the latest notification or the prompt being typed.

use crate::sanitize::clean;
use crate::tui::app::{App, Prompt};
use crate::tui::widgets::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn age(secs: i64) -> String {
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86400),
    }
}

/// Draw the two status lines.
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let t = &app.theme;
    let w = area.width as usize;
    let mut top: Vec<Span> = Vec::new();
    // Most important first: what the data is, the scores, a run in progress; then the run's
    // time, which is the part cut when the line is too narrow.
    let mut tail: Vec<Span> = Vec::new();
    match &app.run {
        Some(run) => {
            if run.demo {
                top.push(Span::styled(" DEMO DATA ", t.get("demo")));
                top.push(Span::raw(" "));
            }
            if let Some(r) = &app.rollup {
                top.push(Span::styled(
                    match &r.defender_secure {
                        Some(d) => format!(
                            "compliance {:.1}% · secure {:.1}% · Defender {:.1}% ",
                            r.compliance.percentage, r.secure.percentage, d.percentage
                        ),
                        None => {
                            format!("compliance {:.1}% · secure {:.1}% ", r.compliance.percentage, r.secure.percentage)
                        }
                    },
                    t.get("accent"),
                ));
            }
            let at = chrono::DateTime::parse_from_rfc3339(run.finished_at.as_deref().unwrap_or(&run.started_at)).ok();
            let when = at
                .map(|a| {
                    format!(
                        "{} ({})",
                        a.format("%Y-%m-%d %H:%M UTC"),
                        age(((app.clock)() - a.with_timezone(&chrono::Utc)).num_seconds())
                    )
                })
                .unwrap_or_default();
            let pinned = if app.pinned { " · PAST RUN" } else { "" };
            tail.push(Span::styled(
                format!("│ run #{} {}{} · {} · {} resources", run.id, when, pinned, run.status, run.resources),
                t.get("status"),
            ));
        }
        None => top.push(Span::styled(" no run in the cache yet ", t.get("status"))),
    }
    use crate::tui::app::WorkerState;
    if let WorkerState::Collecting(c) = &app.worker {
        let (done, total) = (c.scopes_done, c.scopes_total);
        let bar_w = 10usize;
        let filled = if total > 0 { (done as usize * bar_w / total as usize).min(bar_w) } else { 0 };
        top.push(Span::styled(
            format!(
                "⟳ collecting {} ▕{}{}▏ {done}/{total} scopes · {} rows ",
                crate::sanitize::clean(&c.dataset),
                "█".repeat(filled),
                "░".repeat(bar_w - filled),
                c.rows
            ),
            t.get("manual"),
        ));
    } else if let WorkerState::Assessing(run) = &app.worker {
        top.push(Span::styled(run.status_text(10), t.get("manual")));
    }
    if !app.errors.is_empty() {
        top.push(Span::styled(format!("{} error(s): L ", app.errors.len()), t.get("error")));
    }
    top.extend(tail);
    let prompt = |sigil: &'static str, value: &str, candidates: Option<String>| {
        let typed = clean(value).into_owned();
        // What Enter and Esc do, after the text being typed, as far as the width allows.
        let used = unicode_width::UnicodeWidthStr::width(typed.as_str()) + 2;
        let keys = match candidates {
            Some(c) => format!("  {c}"),
            None => {
                let keys = super::hints::fitted(&super::hints::hints(app), w.saturating_sub(used + 3));
                if keys.is_empty() { keys } else { format!("   {keys}") }
            }
        };
        Line::from(vec![
            Span::styled(sigil, t.get("accent")),
            Span::styled(typed, t.get("text")),
            Span::styled("▏", t.get("accent")),
            Span::styled(keys, t.get("dim")),
        ])
    };
    let bottom = match &app.prompt {
        Some(Prompt::Filter(i)) => prompt("/", i.value(), None),
        // Tab's candidates (complete.rs), the one on the line in brackets, instead of the keys.
        Some(Prompt::Command(i)) => prompt(":", i.value(), app.completion_hint()),
        None => match &app.notice {
            Some(n) => Line::from(Span::styled(fit(&n.text, w), if n.error { t.get("error") } else { t.get("text") })),
            // The keys that act here, as the keymap binds them.
            None => Line::from(Span::styled(super::hints::fitted(&super::hints::hints(app), w), t.get("dim"))),
        },
    };
    let top_text: String = top.iter().map(|s| s.content.as_ref()).collect();
    let top_line = if unicode_width::UnicodeWidthStr::width(top_text.as_str()) > w {
        // Too narrow for every part: keep the badge and cut the rest with an ellipsis.
        let mut spans = Vec::new();
        let mut used = 0usize;
        for s in top {
            let sw = unicode_width::UnicodeWidthStr::width(s.content.as_ref());
            if used + sw <= w.saturating_sub(1) {
                used += sw;
                spans.push(s);
            } else {
                let rest = w.saturating_sub(used);
                spans.push(Span::styled(fit(&s.content, rest), s.style));
                break;
            }
        }
        Line::from(spans)
    } else {
        Line::from(top)
    };
    f.render_widget(Paragraph::new(vec![top_line, bottom]).style(t.get("status")), area);
}
