//! Standards and checks: load from TOML (embedded and user directories), validate, index.

mod check;
mod condition;
pub mod coverage;
pub mod import;
mod load;
mod raw;
mod remediation;
mod scope;
mod security_controls;
mod snapshot;
mod standard;
mod types;

pub use condition::Condition;
pub use load::{Catalog, CatalogError, SourceFile};
pub use scope::{Join, KeyPath, ScopeLevel, normalized_type, scope_type};
pub use security_controls::{SECURITY_CONTROLS, SecurityControl, security_control};
pub use snapshot::path_for as snapshot_path;
pub use types::{Check, Control, Remediation, Standard};

#[cfg(test)]
mod tests;
