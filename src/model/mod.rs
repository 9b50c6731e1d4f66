//! Domain types and states shared by every layer. No I/O, no screen.

mod resource;
mod states;

pub use resource::{Evidence, Finding, Resource, ResourceRef};
pub use states::{ActionType, Cloud, ControlState, FindingState, Severity};
