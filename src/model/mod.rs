//! Domain types and states shared by every layer. No I/O, no screen.

mod governance;
mod resource;
mod states;

pub use governance::{Assignment, Attestation, AttestationStatus, EvidenceRef, Exemption};
pub use resource::{Evidence, Finding, Resource, ResourceRef};
pub use states::{ActionType, Cloud, ControlState, FindingState, Origin, Severity};
