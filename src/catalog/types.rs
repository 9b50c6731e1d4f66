//! The validated catalog types.

use super::Condition;
use crate::model::{ActionType, Cloud, Severity};
use serde::{Deserialize, Serialize};

pub use super::remediation::Remediation;

/// One automated assessment.
#[derive(Debug, Serialize, Deserialize)]
pub struct Check {
    /// Unique id, `<cloud>.<service>.<what>`.
    pub id: String,
    /// States the healthy condition.
    pub title: String,
    /// Why it matters.
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// The cloud it applies to.
    pub cloud: Cloud,
    /// Normalized resource types it assesses (Azure lowercased).
    pub resource_types: Vec<String>,
    /// Optional applicability condition.
    pub applies: Option<Condition>,
    /// The CEL condition: true is healthy.
    pub condition: Condition,
    /// The condition as written.
    pub condition_src: String,
    /// Types of the same scope the condition reads through `related` (normalized).
    pub related: Vec<String>,
    /// Set when only the related resources matching this one's key are read.
    pub join: Option<super::Join>,
    /// Set for a scope check: it judges each scope (or region), not each resource.
    pub over: Option<super::ScopeLevel>,
    /// Improvement-action type.
    pub action: ActionType,
    /// Mandatory actions are worth more points.
    pub mandatory: bool,
    /// Secure-score group.
    pub security_control: String,
    /// Prowler check ids this answers for.
    pub aliases: Vec<String>,
    /// How to fix it.
    pub remediation: Remediation,
    /// File it came from.
    pub origin: String,
}

impl Check {
    /// Points this check is worth as an improvement action.
    pub fn points(&self) -> u32 {
        self.action.points(self.mandatory)
    }
}

/// One requirement of a standard.
#[derive(Debug, Clone, Deserialize)]
pub struct Control {
    /// Id within the standard (`6.1`, `AC-2`).
    pub id: String,
    /// Section heading.
    pub section: String,
    /// Title.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// Resolved check ids.
    pub checks: Vec<String>,
    /// References to checks that exist but failed to load: the control is unsupported.
    pub broken_checks: Vec<String>,
    /// The source tool's (Prowler's) check ids for the requirement, as the standard lists them.
    #[serde(default)]
    pub prowler: Vec<String>,
    /// Prowler ids that no loaded check of the standard's clouds aliases (kept, not errors).
    #[serde(default)]
    pub unresolved_prowler: Vec<String>,
    /// Improvement-action type when it is a manual control.
    pub action: ActionType,
    /// Mandatory manual controls are worth more points.
    pub mandatory: bool,
}

/// JSON leaves out the Prowler lists when they are empty; a binary form (the catalog's
/// snapshot, whose fields are read by position) writes every field.
impl Serialize for Control {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let all = !s.is_human_readable();
        let mut st = s.serialize_struct("Control", 10)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("section", &self.section)?;
        st.serialize_field("title", &self.title)?;
        st.serialize_field("description", &self.description)?;
        st.serialize_field("checks", &self.checks)?;
        st.serialize_field("broken_checks", &self.broken_checks)?;
        for (name, list) in [("prowler", &self.prowler), ("unresolved_prowler", &self.unresolved_prowler)] {
            if all || !list.is_empty() {
                st.serialize_field(name, list)?;
            } else {
                st.skip_field(name)?;
            }
        }
        st.serialize_field("action", &self.action)?;
        st.serialize_field("mandatory", &self.mandatory)?;
        st.end()
    }
}

impl Control {
    /// A control with no checks must be attested.
    pub fn is_manual(&self) -> bool {
        self.checks.is_empty() && self.broken_checks.is_empty()
    }
}

/// A compliance framework.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Standard {
    /// Stable id, e.g. `cis-azure-2.0`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version of the framework.
    pub version: String,
    /// What it is.
    pub description: String,
    /// Clouds it covers.
    pub clouds: Vec<crate::model::Cloud>,
    /// Controls in file order.
    pub controls: Vec<Control>,
    /// `builtin` or the user file it came from.
    pub origin: String,
    /// Default expiry of attestations on its controls.
    pub attestation_validity_days: u32,
    /// A passed attestation needs no evidence in the console's form (default: it does).
    pub attestation_evidence_optional: bool,
}
