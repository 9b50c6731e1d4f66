//! Resources as the engine sees them, and the findings it produces.

use super::{Cloud, FindingState, Origin};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One normalized cloud object. `doc` is exactly what a CEL condition sees as `resource`.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The identifying fields, duplicated out of `doc` for cheap access.
    pub meta: std::sync::Arc<ResourceRef>,
    /// The normalized document (see docs/checks.md).
    pub doc: Value,
}

/// The identifying fields of a resource, as stored with a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// The cloud's own id (ARM id, ARN, CAI asset name).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Normalized type (Azure lowercased).
    #[serde(rename = "type")]
    pub rtype: String,
    /// Which cloud.
    pub cloud: Cloud,
    /// Subscription, account or project.
    pub scope: String,
    /// Region or location.
    pub region: String,
}

/// One field a condition read, and the value it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Path below `resource`, e.g. `properties.supportsHttpsTrafficOnly`.
    pub path: String,
    /// The actual value, rendered as compact JSON (`<absent>` when missing).
    pub value: String,
}

/// The result of one check on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Check id.
    pub check: String,
    /// Outcome.
    pub state: FindingState,
    /// The resource assessed.
    pub resource: std::sync::Arc<ResourceRef>,
    /// Fields read by the condition and their values.
    pub evidence: Vec<Evidence>,
    /// Why, for `error` (the CEL error) and `exempt` (the exemption).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    /// Who produced it: posture, or the tool whose file it was read from.
    #[serde(default)]
    pub origin: Origin,
}
