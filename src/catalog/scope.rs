//! Checks that read more than one resource: over a whole scope ("there must be one"), or a
//! resource check that reads related resources of the same scope ("this one has a partner").

use crate::model::Cloud;
use serde::{Deserialize, Serialize};

/// What a scope check judges: each scope, or each region in use within each scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Where a join key is read: a field of the document, or (`@parent`) the id of the resource
/// an ARM extension resource belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyPath {
    /// A dotted path below the document (`properties.resourceId`).
    Field(Vec<String>),
    /// The id before the last `/providers/` (a diagnostic setting's vault).
    Parent,
}

impl std::str::FromStr for KeyPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "@parent" {
            return Ok(KeyPath::Parent);
        }
        let segs: Vec<String> = s.split('.').map(str::to_string).collect();
        if s.starts_with('@') || segs.iter().any(|p| p.is_empty()) {
            return Err(format!("'{s}': expected a dotted field path (properties.resourceId) or @parent"));
        }
        Ok(KeyPath::Field(segs))
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPath::Parent => f.write_str("@parent"),
            KeyPath::Field(segs) => f.write_str(&segs.join(".")),
        }
    }
}

impl KeyPath {
    /// The key of a document, as compared: Azure keys lowercased (ARM ids are
    /// case-insensitive), others as sent. Absent, empty or not a string (or number): none.
    pub fn key_of(&self, cloud: Cloud, doc: &serde_json::Value) -> Option<String> {
        let raw = match self {
            KeyPath::Parent => {
                let id = doc.get("id")?.as_str()?;
                let at = id.to_ascii_lowercase().rfind("/providers/")?;
                id[..at].to_string()
            }
            KeyPath::Field(segs) => match segs.iter().try_fold(doc, |v, s| v.get(s))? {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            },
        };
        if raw.is_empty() {
            return None;
        }
        Some(if cloud == Cloud::Azure { raw.to_ascii_lowercase() } else { raw })
    }
}

/// A related check's join: `related` then holds, of each related type, only the resources
/// whose key at `related` equals this resource's key at `resource` — an index lookup instead
/// of every partner of the scope, so the work per resource stays small in a large scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Join {
    /// Where the related resources' key is read.
    pub related: KeyPath,
    /// Where this resource's key is read.
    pub resource: KeyPath,
}

#[cfg(test)]
mod join_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_read_from_fields_or_the_arm_parent() {
        let parent: KeyPath = "@parent".parse().unwrap();
        let ds = json!({"id": "/subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/KV/providers/microsoft.insights/diagnosticSettings/audit"});
        assert_eq!(
            parent.key_of(Cloud::Azure, &ds).as_deref(),
            Some("/subscriptions/s/resourcegroups/g/providers/microsoft.keyvault/vaults/kv")
        );
        let field: KeyPath = "properties.resourceId".parse().unwrap();
        let fl = json!({"properties": {"resourceId": "vpc-1"}});
        assert_eq!(field.key_of(Cloud::Aws, &fl).as_deref(), Some("vpc-1"));
        assert_eq!(field.key_of(Cloud::Aws, &json!({"properties": {"resourceId": ""}})), None);
        assert_eq!(field.key_of(Cloud::Aws, &json!({})), None);
        assert!("properties..x".parse::<KeyPath>().is_err());
        assert!("@child".parse::<KeyPath>().is_err());
    }
}
