//! Collect what the loaded checks need from GCP: Cloud Asset Inventory assets (resources and,
//! where checks read them, IAM, organization and access policies) of projects, a folder or
//! an organization, into a snapshot `posture assess --source DIR` reads.

mod api;
mod assets;
pub mod credential;
pub mod endpoints;
pub mod plan;
mod projects;

use crate::catalog::Catalog;
use crate::collect::http::{Client, HttpSettings};
use crate::collect::manifest::{Asked, Identity};
use crate::collect::snapshot::Snapshot;
use crate::collect::state::{self, State};
use crate::collect::{CollectError, Collected, Progress};
use api::Api;
use credential::Credential;
use endpoints::{Endpoints, GcpEnv, Overrides};
use plan::Plan;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Everything a collection from GCP needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct GcpOptions {
    /// Endpoint overrides.
    pub overrides: Overrides,
    /// Projects (ids or numbers).
    pub projects: Vec<String>,
    /// A folder (`N` or `folders/N`).
    pub folder: Option<String>,
    /// An organization (`N` or `organizations/N`).
    pub organization: Option<String>,
    /// Assets per page (`pageSize`, at most 1000).
    pub page_size: u32,
    /// Timeouts, retries, requests in flight.
    pub http: HttpSettings,
}

impl Default for GcpOptions {
    fn default() -> Self {
        GcpOptions {
            overrides: Overrides::default(),
            projects: Vec::new(),
            folder: None,
            organization: None,
            page_size: 1000,
            http: HttpSettings::default(),
        }
    }
}

/// `N` or `kind/N` as `kind/N`.
fn parent(kind: &str, id: &str) -> String {
    let id = id.trim();
    match id.strip_prefix(kind).and_then(|r| r.strip_prefix('/')) {
        Some(rest) => format!("{kind}/{rest}"),
        None => format!("{kind}/{id}"),
    }
}

impl GcpOptions {
    /// The parents named (`projects/…`, `folders/…`, `organizations/…`); empty: search.
    pub fn parents(&self) -> Vec<String> {
        let mut out: Vec<String> = self.projects.iter().map(|p| parent("projects", p)).collect();
        out.extend(self.folder.iter().map(|f| parent("folders", f)));
        out.extend(self.organization.iter().map(|o| parent("organizations", o)));
        out
    }
}

/// Refuse a parent whose id could reshape the request path: ids start with a letter or digit
/// and hold letters, digits, `-`, `_`, `.` and `:` (legacy domain-scoped projects such as
/// `example.com:prod`).
fn check_parents(parents: &[String]) -> Result<(), String> {
    let ok = |id: &str| {
        id.starts_with(|c: char| c.is_ascii_alphanumeric())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    };
    match parents.iter().find(|p| p.split_once('/').is_none_or(|(_, id)| !ok(id))) {
        Some(bad) => Err(format!("'{}': not a project, folder or organization id", crate::sanitize::clean(bad))),
        None => Ok(()),
    }
}

/// Collect into `dest` (a new or empty folder), moved into place only when complete.
pub async fn collect(
    catalog: &Catalog,
    opts: &GcpOptions,
    env: &GcpEnv,
    dest: &Path,
    progress: Box<dyn Fn(&Progress) + Send + Sync>,
    cancel: Arc<AtomicBool>,
) -> Result<Collected, CollectError> {
    let started = chrono::Utc::now();
    let endpoints = Endpoints::resolve(&opts.overrides, env).map_err(CollectError::Setup)?;
    check_parents(&opts.parents()).map_err(CollectError::Setup)?;
    let client = Client::new(opts.http).map_err(CollectError::Setup)?;
    // The destination is checked before signing in: a wrong folder is found at once.
    let snapshot = Snapshot::begin(dest).map_err(CollectError::Setup)?;
    let credential = Credential::resolve(env, &endpoints, &client).await.map_err(CollectError::NoCredentials)?;
    let identity = Identity {
        credential: credential.describe().to_string(),
        tenant_id: None,
        object_id: credential.principal(),
        app_id: credential.client_id.clone(),
    };
    let token_uri = credential.token_uri().clone();
    let plan = Arc::new(Plan::from_catalog(catalog));
    let state = Arc::new(State::new(snapshot, progress, Arc::clone(&cancel)));
    let api = Arc::new(Api::new(client.clone(), credential, Arc::clone(&cancel)));

    let named = opts.parents();
    let scopes: Vec<(String, Option<String>)> = if named.is_empty() {
        projects::search(&api, &state, &endpoints.resource_manager).await.into_iter().map(|p| (p.name, p.id)).collect()
    } else {
        named.into_iter().map(|p| (p, None)).collect()
    };
    for (scope, name) in &scopes {
        state.scope(scope, name.clone());
    }
    state.set_total(scopes.len() as u64);
    let limit = opts.http.max_in_flight.max(1);
    let mut running = tokio::task::JoinSet::new();
    for (scope, _) in scopes {
        while running.len() >= limit {
            running.join_next().await;
        }
        let (api, state, plan, base) =
            (Arc::clone(&api), Arc::clone(&state), Arc::clone(&plan), endpoints.asset.clone());
        let page_size = opts.page_size;
        running.spawn(async move {
            for (content, types) in plan.listings(&scope) {
                if state.cancelled() {
                    return;
                }
                let l = assets::Listing { scope: &scope, parent: &scope, content, types: &types, page_size };
                assets::list(&api, &state, &base, &l).await;
            }
            state.scope_done();
        });
    }
    while running.join_next().await.is_some() {}
    drop(api);
    if cancel.load(Ordering::Relaxed) {
        return Err(CollectError::Cancelled);
    }
    let asked = Asked {
        scopes: opts.projects.iter().map(|p| parent("projects", p)).collect(),
        group: opts
            .folder
            .as_deref()
            .map(|f| parent("folders", f))
            .or(opts.organization.as_deref().map(|o| parent("organizations", o))),
        tenant: None,
        endpoints: endpoints.describe(Some(&token_uri)),
        types: plan.types.iter().cloned().collect(),
    };
    state::finish(state, &client, state::Summary { cloud: "gcp", started, asked, identity })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_accept_bare_and_prefixed_ids() {
        let o = GcpOptions {
            projects: vec!["p-1".into(), "projects/p-2".into()],
            folder: Some("folders/12".into()),
            organization: Some("34".into()),
            ..Default::default()
        };
        assert_eq!(o.parents(), ["projects/p-1", "projects/p-2", "folders/12", "organizations/34"]);
        assert!(check_parents(&o.parents()).is_ok());
        assert!(check_parents(&["projects/example.com:prod".into()]).is_ok());
        for bad in ["projects/a/b", "projects/", "folders/1?x=2", "projects/../organizations/1", "projects/.."] {
            assert!(check_parents(&[bad.to_string()]).unwrap_err().contains("not a project"), "{bad}");
        }
    }
}
