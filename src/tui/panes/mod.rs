//! One file per pane; each draws from the app state into an area.

pub mod actions;
pub mod audit;
pub mod audit_draw;
pub mod controls;
pub mod diff;
pub mod findings;
pub mod form;
pub mod help;
pub mod hints;
pub mod overlays;
pub mod pick;
pub mod resource;
pub mod scopes;
pub mod standards;
pub mod statusbar;
pub mod trend;
