//! The open popup: its keys and its drawing are passed on to its own type (one file each).

use super::hints::Spec;
use crate::tui::app::{App, Overlay};
use crate::tui::effect::{Ctx, Effect};
use crate::tui::keymap::Action;
use ratatui::Frame;
use ratatui::layout::Rect;

impl Overlay {
    /// A key in the popup: what it wants done (see [`Effect`]); `q` and Esc close every kind.
    pub fn on_key(&mut self, action: Action, ctx: &Ctx) -> Vec<Effect> {
        match self {
            Overlay::Help(v) => v.on_key(action, ctx),
            Overlay::ErrorLog(v) => v.on_key(action, ctx),
            Overlay::Resource(v) => v.on_key(action, ctx),
            Overlay::Control(v) => v.on_key(action, ctx),
            Overlay::Standard(v) => v.on_key(action, ctx),
            Overlay::Text(v) => v.on_key(action, ctx),
            Overlay::Facets(v) => v.on_key(action, ctx),
            Overlay::Audit(v) => v.on_key(action, ctx),
            Overlay::Diff(v) => v.on_key(action, ctx),
            Overlay::Pick(v) => v.on_key(action, ctx),
        }
    }

    /// The keys that act in the popup, for the hint line.
    pub fn hints(&self) -> Vec<Spec> {
        match self {
            Overlay::Resource(_) => super::resource::hints(),
            Overlay::Facets(_) => super::facets::hints(),
            Overlay::Audit(_) => super::audit::hints(),
            Overlay::Diff(_) | Overlay::Pick(_) => super::diff::hints(),
            Overlay::Help(_) | Overlay::ErrorLog(_) | Overlay::Control(_) | Overlay::Standard(_) | Overlay::Text(_) => {
                super::hints::scrolling()
            }
        }
    }

    /// Text typed after `/` while the popup is open: true when the popup searches or filters
    /// by it (the resource detail, the audit views), false when the pane under it is filtered.
    pub fn on_search(&mut self, text: &str) -> bool {
        match self {
            Overlay::Resource(v) => v.search_for(text),
            Overlay::Audit(v) => v.set_text(text),
            _ => return false,
        }
        true
    }

    /// Esc on the `/` line: true when the popup took the search (the resource detail keeps
    /// its matches highlighted; an audit view shows every record again).
    pub fn on_search_cancelled(&mut self) -> bool {
        match self {
            Overlay::Resource(_) => true,
            Overlay::Audit(v) => {
                v.set_text("");
                true
            }
            _ => false,
        }
    }

    /// Draw the popup over `area`; `app` is the console under it (the popup taken out).
    fn draw(&mut self, f: &mut Frame, area: Rect, app: &mut App) {
        match self {
            Overlay::Help(v) => v.draw(f, area, app),
            Overlay::ErrorLog(v) => v.draw(f, area, app),
            Overlay::Resource(v) => super::resource::draw(f, area, app, v),
            Overlay::Control(v) => v.draw(f, area, app),
            Overlay::Standard(v) => v.draw(f, area, app),
            Overlay::Text(v) => v.draw(f, area, &app.theme),
            Overlay::Facets(v) => v.draw(f, area, app),
            Overlay::Audit(v) => super::audit_draw::draw(f, area, app, v),
            Overlay::Diff(v) => v.draw(f, area, &app.theme),
            Overlay::Pick(v) => v.draw(f, area, &app.theme),
        }
    }
}

/// Draw whichever popup is open (its scroll and cursor are kept for the next frame).
pub fn draw(f: &mut Frame, area: Rect, app: &mut App) {
    let Some(mut overlay) = app.overlay.take() else { return };
    overlay.draw(f, area, app);
    app.overlay = Some(overlay);
}
