//! One file per pane; each draws from the app state into an area.

pub mod actions;
pub mod audit;
pub mod audit_draw;
pub mod control_detail;
pub mod controls;
pub mod diff;
pub mod errorlog;
pub mod facets;
pub mod findings;
pub mod form;
pub mod help;
pub mod hints;
pub mod overlays;
pub mod pick;
pub mod popup;
pub mod resource;
pub mod scopes;
pub mod standard_detail;
pub mod standards;
pub mod statusbar;
pub mod text;
pub mod trend;
