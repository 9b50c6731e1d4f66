//! Collect what the loaded checks need from Azure: Resource Graph tables, ARM sub-resources
//! and Microsoft Graph, into a snapshot `posture assess --source DIR` reads.

mod api;
mod arm;
mod assertion;
pub mod cloud;
pub mod credential;
mod graph;
pub mod plan;
mod resource_graph;

use crate::catalog::Catalog;
use crate::collect::http::{Client, HttpSettings};
use crate::collect::manifest::{Asked, PartError};
use crate::collect::snapshot::Snapshot;
use crate::collect::state::{self, State};
use crate::collect::{CollectError, Collected, Progress};
use api::Api;
use arm::Parent;
use cloud::{AzureCloud, Overrides};
use credential::{Credential, CredentialEnv, CredentialKind};
use plan::{Plan, Table};
use resource_graph::Scope;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Everything a collection from Azure needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureOptions {
    /// Which credential (auto: environment, managed identity, CLI).
    pub credential: CredentialKind,
    /// Which cloud.
    pub cloud: AzureCloud,
    /// Endpoint overrides.
    pub overrides: Overrides,
    /// Tenant to sign in to.
    pub tenant: Option<String>,
    /// Subscriptions (empty: every one the identity can read).
    pub subscriptions: Vec<String>,
    /// A management group instead.
    pub management_group: Option<String>,
    /// Rows per Resource Graph page (`$top`, at most 1000).
    pub page_size: u32,
    /// Timeouts, retries, requests in flight, quota.
    pub http: HttpSettings,
    /// Read Entra ID through Microsoft Graph.
    pub entra: bool,
    /// Collect Defender for Cloud's assessments, compliance and secure scores.
    pub defender: bool,
    /// The Azure CLI's command.
    pub az: PathBuf,
}

impl Default for AzureOptions {
    fn default() -> Self {
        AzureOptions {
            credential: CredentialKind::Auto,
            cloud: AzureCloud::Public,
            overrides: Overrides::default(),
            tenant: None,
            subscriptions: Vec::new(),
            management_group: None,
            page_size: 1000,
            http: HttpSettings::default(),
            entra: true,
            defender: true,
            az: PathBuf::from("az"),
        }
    }
}

/// The subscription type in `resourcecontainers`.
const SUBSCRIPTION_TYPE: &str = "microsoft.resources/subscriptions";

/// Collect into `dest` (a new or empty folder), moved into place only when complete.
pub async fn collect(
    catalog: &Catalog,
    opts: &AzureOptions,
    env: &CredentialEnv,
    dest: &Path,
    progress: Box<dyn Fn(&Progress) + Send + Sync>,
    cancel: Arc<AtomicBool>,
) -> Result<Collected, CollectError> {
    let started = chrono::Utc::now();
    let endpoints = opts.cloud.endpoints(&opts.overrides).map_err(CollectError::Setup)?;
    let client = Client::new(opts.http).map_err(CollectError::Setup)?;
    // The destination is checked before signing in: a wrong folder is found at once.
    let snapshot = Snapshot::begin(dest).map_err(CollectError::Setup)?;
    let credential = Credential::resolve(opts.credential, env, &opts.az, opts.tenant.as_deref(), &client, &endpoints)
        .await
        .map_err(CollectError::NoCredentials)?;
    let token = credential.token(&endpoints.arm_audience).await.map_err(CollectError::NoCredentials)?;
    let mut identity = credential::claims(&token);
    identity.credential = credential.describe().to_string();
    let plan = Plan::from_catalog(catalog, opts.defender);
    let state = Arc::new(State::new(snapshot, progress, Arc::clone(&cancel)));
    let api = Arc::new(Api::new(client.clone(), endpoints.clone(), credential, Arc::clone(&cancel)));

    let subs = subscriptions(&api, &state, opts).await;
    state.set_total(subs.len() as u64);
    let parents = tables(&api, &state, &plan, &subs, opts.page_size).await;
    for sub in &subs {
        if state.cancelled() {
            break;
        }
        arm::subscription(&api, &state, &plan, sub, parents.get(sub).map_or(&[][..], Vec::as_slice)).await;
        state.scope_done();
    }
    if opts.entra && !state.cancelled() {
        // The Entra reader takes the tenant from the folder (`entra/<tenant>/…`).
        let tenant = identity.tenant_id.clone().or_else(|| opts.tenant.clone());
        graph::collect(&api, &state, tenant.as_deref()).await;
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(CollectError::Cancelled);
    }
    let endpoints_map: BTreeMap<String, String> = [
        ("resource_manager", endpoints.resource_manager.to_string()),
        ("graph", endpoints.graph.to_string()),
        ("authority", endpoints.authority.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let asked = Asked {
        scopes: opts.subscriptions.clone(),
        group: opts.management_group.clone(),
        tenant: opts.tenant.clone(),
        endpoints: endpoints_map,
        types: plan.types.iter().cloned().collect(),
    };
    state::finish(state, &client, state::Summary { cloud: "azure", started, asked, identity })
}

/// The subscriptions in scope, from `resourcecontainers` (so an empty one is known too);
/// those asked for but not visible are partial.
async fn subscriptions(api: &Api, state: &State, opts: &AzureOptions) -> Vec<String> {
    let scope = match (&opts.subscriptions, &opts.management_group) {
        (s, _) if !s.is_empty() => Scope::Subscriptions(s.clone()),
        (_, Some(mg)) => Scope::ManagementGroup(mg.clone()),
        _ => Scope::Tenant,
    };
    let table = Table::ResourceContainers;
    let query = resource_graph::query_text(table, &BTreeSet::new());
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    resource_graph::run(api, state, table, &query, &scope, 1000, &mut |row| {
        if row.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(SUBSCRIPTION_TYPE))
            && let Some(id) = row.get("subscriptionId").and_then(Value::as_str)
        {
            let name = row.get("name").and_then(Value::as_str).map(|n| crate::sanitize::clean(n).into_owned());
            seen.push((id.to_ascii_lowercase(), name));
        }
    })
    .await;
    for (id, name) in &seen {
        state.scope(id, name.clone());
    }
    if opts.subscriptions.is_empty() {
        return seen.into_iter().map(|(id, _)| id).collect();
    }
    for asked in &opts.subscriptions {
        state.scope(&asked.to_ascii_lowercase(), None);
        if !seen.iter().any(|(id, _)| id.eq_ignore_ascii_case(asked)) {
            let e = PartError {
                request: String::new(),
                status: None,
                message: format!("subscription {asked} is not visible to this identity in Resource Graph"),
            };
            state.fail(
                &asked.to_ascii_lowercase(),
                "resourcecontainers",
                e,
                Some("Microsoft.Resources/subscriptions/read".into()),
            );
        }
    }
    opts.subscriptions.iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// Query every table of the plan over `subs`; return the parents ARM GETs need, per subscription.
async fn tables(
    api: &Api,
    state: &State,
    plan: &Plan,
    subs: &[String],
    page_size: u32,
) -> BTreeMap<String, Vec<Parent>> {
    let mut parents: BTreeMap<String, Vec<Parent>> = BTreeMap::new();
    if subs.is_empty() {
        return parents;
    }
    let wanted: BTreeSet<&str> =
        plan.children.iter().map(|c| c.parent).chain(plan.diagnostic_parents.iter().map(String::as_str)).collect();
    let scope = Scope::Subscriptions(subs.to_vec());
    for (table, types) in &plan.tables {
        let query = resource_graph::query_text(*table, types);
        resource_graph::run(api, state, *table, &query, &scope, page_size.clamp(1, 1000), &mut |row| {
            let t = row.get("type").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
            if wanted.contains(t.as_str())
                && let (Some(id), Some(sub)) =
                    (row.get("id").and_then(Value::as_str), row.get("subscriptionId").and_then(Value::as_str))
            {
                parents.entry(sub.to_ascii_lowercase()).or_default().push(Parent { id: id.to_string(), rtype: t });
            }
        })
        .await;
    }
    parents
}
