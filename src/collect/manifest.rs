//! The manifest of a snapshot: what was asked, when, by which identity, and per scope
//! (subscription, account, project) and per data set what came back. Its shape is documented
//! in docs/collect.md; it names identities by object and application id, never by a token.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest's format tag.
pub const FORMAT: &str = "posture-snapshot/1";

/// How complete a part of the snapshot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Everything asked came back.
    #[default]
    Complete,
    /// Some of it is missing (a permission, a malformed page, a spent quota); see the errors.
    Partial,
}

/// One error met while collecting, with the request it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartError {
    /// Method and URL (never a header or body).
    pub request: String,
    /// The HTTP status, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

/// One data set (a Resource Graph table, an ARM sub-resource, a Graph list) in one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSet {
    /// Complete or partial.
    pub status: PartState,
    /// Rows or objects written.
    pub rows: u64,
    /// Pages (responses) read.
    pub pages: u64,
    /// Errors met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PartError>,
    /// Permissions the identity lacks for it (as the service named them, or the one documented).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions_missing: Vec<String>,
}

impl DataSet {
    /// Record an error: the data set becomes partial, and a 403 names the missing permission.
    pub fn fail(&mut self, error: PartError, permission: Option<String>) {
        self.status = PartState::Partial;
        if let Some(p) = permission
            && !self.permissions_missing.contains(&p)
        {
            self.permissions_missing.push(p);
        }
        // A thousand failing GETs say the same thing; the first few are enough to act on.
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        }
    }
}

/// Errors kept per data set.
const MAX_ERRORS: usize = 20;

/// One scope: an Azure subscription, an AWS account, a GCP project, or the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Complete when every data set is.
    pub status: PartState,
    /// Per data set, by name.
    pub datasets: BTreeMap<String, DataSet>,
}

impl Scope {
    /// The data set `name`, created empty.
    pub fn dataset(&mut self, name: &str) -> &mut DataSet {
        self.datasets.entry(name.to_string()).or_default()
    }

    /// Settle `status` from the data sets.
    pub fn settle(&mut self) {
        self.status = if self.datasets.values().any(|d| d.status == PartState::Partial) {
            PartState::Partial
        } else {
            PartState::Complete
        };
    }
}

/// Who collected: identifiers only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Which credential was used (`environment (client secret)`, `managed identity`, `azure cli`).
    pub credential: String,
    /// Tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Object id of the principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Application (client) id, for a service principal or managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

/// What was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// Scopes named (empty: every one the identity can read).
    pub scopes: Vec<String>,
    /// A management group / folder / organization, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The tenant, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The endpoints contacted (and no others).
    pub endpoints: BTreeMap<String, String>,
    /// The resource types the loaded checks read, which decided what was collected.
    pub types: Vec<String>,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// `azure`, `aws`, `gcp`.
    pub cloud: String,
    /// When collection began (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Complete when every scope is.
    pub status: PartState,
    /// What was asked.
    pub asked: Asked,
    /// Who asked.
    pub identity: Identity,
    /// Per scope id (`tenant` for the directory's data sets).
    pub scopes: BTreeMap<String, Scope>,
    /// Files written, the manifest aside.
    pub files: u64,
    /// Requests sent, retries and quota pauses.
    pub requests: Requests,
}

/// Request counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    /// Every attempt sent.
    pub sent: u64,
    /// Attempts retried.
    pub retried: u64,
    /// Pauses made because the quota ran low.
    pub quota_pauses: u64,
}

impl Manifest {
    /// Settle every scope's status and the whole's.
    pub fn settle(&mut self) {
        for s in self.scopes.values_mut() {
            s.settle();
        }
        self.status = if self.scopes.values().any(|s| s.status == PartState::Partial) {
            PartState::Partial
        } else {
            PartState::Complete
        };
    }

    /// Read a snapshot's manifest.
    pub fn read(dir: &std::path::Path) -> Result<Manifest, String> {
        let p = dir.join(super::snapshot::MANIFEST);
        let text = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_slice(&text).map_err(|e| format!("{}: not a snapshot manifest: {e}", p.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_makes_its_scope_and_the_whole_partial_and_names_the_permission() {
        let mut m = Manifest {
            format: FORMAT.into(),
            cloud: "azure".into(),
            started_at: String::new(),
            finished_at: String::new(),
            status: PartState::Complete,
            asked: Asked::default(),
            identity: Identity::default(),
            scopes: BTreeMap::new(),
            files: 0,
            requests: Requests::default(),
        };
        m.scopes.entry("a".into()).or_default().dataset("resources").rows = 3;
        let err = PartError { request: "GET x".into(), status: Some(403), message: "no".into() };
        for _ in 0..50 {
            m.scopes.entry("b".into()).or_default().dataset("x").fail(err.clone(), Some("Microsoft.X/read".into()));
        }
        m.settle();
        assert_eq!(m.status, PartState::Partial);
        assert_eq!(m.scopes["a"].status, PartState::Complete);
        let b = &m.scopes["b"].datasets["x"];
        assert_eq!((b.errors.len(), b.permissions_missing.len()), (MAX_ERRORS, 1));
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"permissions_missing\":[\"Microsoft.X/read\"]"), "{text}");
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), m);
    }
}
