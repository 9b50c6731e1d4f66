//! Checks that read more than one resource: over a whole scope ("there must be one"), or a
//! resource check that reads related resources of the same scope ("this one has a partner").

use crate::model::Cloud;
use serde::Serialize;

/// What a scope check judges: each scope, or each region in use within each scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// One finding per subscription / account / project.
    Scope,
    /// One finding per region that holds any resource of the scope.
    Region,
}

impl std::str::FromStr for ScopeLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "scope" => Ok(ScopeLevel::Scope),
            "region" => Ok(ScopeLevel::Region),
            other => Err(format!("over = '{other}': expected 'scope' or 'region'")),
        }
    }
}

/// The resource type a scope finding belongs to: `azure.subscription`, `aws.account`,
/// `gcp.project`.
pub fn scope_type(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Azure => "azure.subscription",
        Cloud::Aws => "aws.account",
        Cloud::Gcp => "gcp.project",
    }
}

/// A type as the engine sees it: Azure types are lowercased, the others kept.
pub fn normalized_type(t: &str) -> String {
    if Cloud::of_resource_type(t) == Cloud::Azure { t.to_ascii_lowercase() } else { t.to_string() }
}
