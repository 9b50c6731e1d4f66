//! The control detail popup (`d` in Controls): description, checks and counts, the results
//! per scope, its trend and who attested it.

use super::popup::{popup, scrolling_key};
use crate::sanitize::clean;
use crate::tui::app::App;
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use crate::tui::widgets::{control_icon, line};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// The selected control's detail.
#[derive(Debug, Clone, Default)]
pub struct ControlView {
    scroll: usize,
}

impl ControlView {
    /// Scroll, or close.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        scrolling_key(&mut self.scroll, action, ctx.page)
    }

    /// Draw over `area` (nothing when no control is selected).
    pub fn draw(&mut self, f: &mut Frame, area: Rect, app: &App) {
        let t = &app.theme;
        let (Some(s), Some(c)) = (app.standard(), app.control()) else {
            return;
        };
        let mut lines = vec![
            line(format!("{} {}", c.id, clean(&c.title)), t.get("title")),
            line(format!("{} · {}", s.name, c.section), t.get("dim")),
            Line::default(),
            Line::from(vec![Span::styled(format!("{} {}", control_icon(c.state), c.state), t.control(c.state))]),
        ];
        // Defender for Cloud's verdict on the same control, beside posture's.
        if let Some(d) = &c.defender {
            lines.push(Line::from(vec![
                Span::styled(format!("Defender for Cloud ({}): ", clean(&d.standard)), t.get("dim")),
                Span::styled(format!("{} {}", control_icon(d.state), d.state), t.control(d.state)),
                Span::styled(
                    format!(" · {} passed, {} failed, {} skipped assessments", d.passed, d.failed, d.skipped),
                    t.get("dim"),
                ),
            ]));
        }
        if let Some(ctl) = app.catalog.standard(&s.id).and_then(|st| st.controls.iter().find(|x| x.id == c.id))
            && !ctl.description.is_empty()
        {
            lines.push(Line::default());
            lines.push(line(ctl.description.clone(), t.get("text")));
        }
        lines.push(Line::default());
        if s.origin == crate::model::Origin::Defender {
            lines.push(line(
                "Imported from Defender for Cloud: its own assessments, not posture's checks.",
                t.get("dim"),
            ));
        } else if c.checks.is_empty() {
            lines.push(line("Manual control: no automated check. A person attests it.", t.get("manual")));
        } else {
            lines.push(line(
                format!(
                    "healthy {} · unhealthy {} · error {} · exempt {}",
                    c.healthy_resources, c.unhealthy_resources, c.error_resources, c.exempt_resources
                ),
                t.get("text"),
            ));
            lines.push(line("Checks:", t.get("title")));
            for k in &c.checks {
                let (title, sev) =
                    app.catalog.check(k).map(|x| (x.title.clone(), x.severity.to_string())).unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(format!("  {sev:<6} "), t.get("dim")),
                    Span::styled(title, t.get("text")),
                    Span::styled(format!("  {k}"), t.get("dim")),
                ]));
            }
            lines.extend(super::scopes::breakdown_lines(app));
        }
        lines.push(Line::default());
        // What the attestations decide for the control; none: the list below says so.
        if let Some(a) = &c.attestation {
            lines.push(line(
                match a {
                    crate::assess::Attested::Expired => "Attestation: expired (it no longer counts)".to_string(),
                    a => clean(&format!("Attestation: {a}")).into_owned(),
                },
                t.get("dim"),
            ));
        }
        lines.extend(super::trend::control_lines(app, &s.id, c));
        // Who attested, when, until when, the note and the evidence's hash state.
        lines.extend(super::audit_draw::control_attestations(app, &s.id, &c.id));
        popup(f, area, t, &mut self.scroll, "Control", lines, 90);
    }
}
