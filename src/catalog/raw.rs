//! The TOML shapes as written, before validation.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub standard: Option<Spanned<RawStandard>>,
    #[serde(default)]
    pub control: Vec<Spanned<RawControl>>,
    #[serde(default)]
    pub check: Vec<Spanned<RawCheck>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStandard {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub clouds: Vec<String>,
    pub attestation_validity_days: Option<u32>,
    #[serde(default)]
    pub attestation_evidence_optional: bool,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    pub id: Spanned<String>,
    #[serde(default)]
    pub section: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// posture check ids (or aliases) that answer for the requirement.
    #[serde(default)]
    pub checks: Vec<Spanned<String>>,
    /// The source tool's (Prowler's) check ids, resolved through check aliases at load;
    /// ids no check aliases are kept as data, not errors.
    #[serde(default)]
    pub prowler: Vec<String>,
    /// The source mapping is wrong for this requirement: `prowler` is kept as a record only.
    #[serde(default)]
    pub ignore_prowler: bool,
    /// Why the mapping differs from the source's (an override's one-line reason).
    pub reason: Option<String>,
    pub action: Option<String>,
    #[serde(default)]
    pub mandatory: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub severity: Spanned<String>,
    pub cloud: Option<String>,
    pub resource_types: Spanned<Vec<String>>,
    pub applies: Option<Spanned<String>>,
    pub condition: Spanned<String>,
    /// Types of the same scope the condition reads through `related`.
    pub related: Option<Spanned<Vec<String>>>,
    /// `{ related = PATH, resource = PATH }`: keep only the related resources whose key
    /// matches this resource's.
    pub related_on: Option<Spanned<RawJoin>>,
    /// `scope` or `region`: one finding per scope (or region in use) instead of per resource.
    pub over: Option<Spanned<String>>,
    pub action: Spanned<String>,
    #[serde(default)]
    pub mandatory: bool,
    pub security_control: Spanned<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub remediation: RawRemediation,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemediation {
    #[serde(default)]
    pub text: String,
    pub cli: Option<String>,
}

/// A related check's join as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJoin {
    /// Key path in the related resources.
    pub related: String,
    /// Key path in the checked resource.
    pub resource: String,
}
