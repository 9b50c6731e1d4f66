//! Layout: four panes at 120 columns or more, one pane at a time below (drill-down).

use super::app::{App, Pane};
use super::panes;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// Columns from which all four panes show together.
pub const WIDE: u16 = 120;

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    let [body, status] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(2)])
        .areas(area);
    app.page = body.height.saturating_sub(4).max(1) as usize;
    if area.width >= WIDE && area.height >= 20 {
        let [top, bottom] = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
            .areas(body);
        let [tl, tr] = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(42), Constraint::Percentage(58)])
            .areas(top);
        let [bl, br] = Layout::default()
            .direction(Direction::Horizontal)
            // About 60 columns for the actions (owner and due beside the title) at 120 and up.
            .constraints(if area.width >= 160 {
                [Constraint::Percentage(62), Constraint::Percentage(38)]
            } else {
                [Constraint::Percentage(50), Constraint::Percentage(50)]
            })
            .areas(bottom);
        panes::standards::draw(f, tl, app);
        panes::controls::draw(f, tr, app);
        panes::findings::draw(f, bl, app);
        panes::actions::draw(f, br, app);
    } else {
        draw_one(f, body, app, app.focus);
    }
    panes::statusbar::draw(f, status, app);
    panes::overlays::draw(f, body, app);
    panes::form::draw(f, body, app);
}

fn draw_one(f: &mut Frame, area: Rect, app: &mut App, pane: Pane) {
    match pane {
        Pane::Standards => panes::standards::draw(f, area, app),
        Pane::Controls => panes::controls::draw(f, area, app),
        Pane::Findings => panes::findings::draw(f, area, app),
        Pane::Actions => panes::actions::draw(f, area, app),
    }
}
