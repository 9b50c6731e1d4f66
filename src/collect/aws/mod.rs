//! Collect what the loaded checks need from AWS: AWS Config configuration items (an
//! aggregator's, or each account's and region's) and the CLI-shaped data sets Config does not
//! record, for the caller's account or for many through an assumed role, into a snapshot
//! `posture assess --source DIR` reads.

pub mod api;
mod config_items;
pub mod credential;
mod ctx;
mod datasets;
pub mod plan;
mod profile;
pub mod service;
pub mod settings;
pub mod sigv4;
mod sts;
mod xml;

use crate::catalog::Catalog;
use crate::collect::http::{Client, HttpSettings};
use crate::collect::manifest::{Asked, Identity};
use crate::collect::snapshot::Snapshot;
use crate::collect::state::State;
use crate::collect::{CollectError, Collected, Progress};
use api::{Api, CallError};
use credential::{CredentialEnv, Credentials};
use ctx::{Ctx, part_error};
use plan::Plan;
use service::{Endpoints, Service};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Everything a collection from AWS needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsOptions {
    /// The shared-files profile (`--profile`; else `AWS_PROFILE`, the environment's keys first).
    pub profile: Option<String>,
    /// Regions (empty: every region enabled for the caller's account).
    pub regions: Vec<String>,
    /// Accounts (empty: the caller's, or with `role_name` every account of the organization).
    pub accounts: Vec<String>,
    /// The role assumed in each account.
    pub role_name: Option<String>,
    /// An AWS Config aggregator whose configuration items are read instead of each account's.
    pub aggregator: Option<String>,
    /// The region global services and STS are asked from (default: the profile's or
    /// environment's, else `us-east-1`).
    pub home_region: Option<String>,
    /// Timeouts, retries, requests in flight.
    pub http: HttpSettings,
    /// Polls of the credential report, and the pause between them.
    pub report_polls: u32,
    /// Pause between two polls of the credential report.
    pub report_poll_delay: Duration,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            profile: None,
            regions: Vec::new(),
            accounts: Vec::new(),
            role_name: None,
            aggregator: None,
            home_region: None,
            http: HttpSettings::default(),
            report_polls: 10,
            report_poll_delay: Duration::from_secs(2),
        }
    }
}

/// Collect into `dest` (a new or empty folder), moved into place only when complete.
pub async fn collect(
    catalog: &Catalog,
    opts: &AwsOptions,
    env: &CredentialEnv,
    dest: &Path,
    progress: Box<dyn Fn(&Progress) + Send + Sync>,
    cancel: Arc<AtomicBool>,
) -> Result<Collected, CollectError> {
    let started = chrono::Utc::now();
    let endpoints = Endpoints::from_env(&|k| env.get(k)).map_err(CollectError::Setup)?;
    let client = Client::new(opts.http).map_err(CollectError::Setup)?;
    let snapshot = Snapshot::begin(dest).map_err(CollectError::Setup)?;
    let api = Api { client: client.clone(), endpoints: endpoints.clone(), cancel: Arc::clone(&cancel) };
    let home =
        opts.home_region.clone().or_else(|| env.region(opts.profile.as_deref())).unwrap_or_else(|| "us-east-1".into());
    let creds =
        credential::resolve(&api, env, opts.profile.as_deref(), &home).await.map_err(CollectError::NoCredentials)?;
    let caller = sts::caller(&api, &creds, &home).await.map_err(|e| {
        CollectError::NoCredentials(format!("AWS did not accept the {} credentials: {e}", creds.source))
    })?;
    let identity = Identity {
        credential: creds.source.clone(),
        tenant_id: None,
        object_id: Some(caller.arn.clone()),
        app_id: None,
    };
    let plan = Arc::new(Plan::from_catalog(catalog));
    let state = Arc::new(State::new(snapshot, progress, Arc::clone(&cancel)));
    let base = Ctx {
        api: api.clone(),
        state: Arc::clone(&state),
        creds: creds.clone(),
        account: caller.account.clone(),
        home: home.clone(),
        report_polls: (opts.report_polls, opts.report_poll_delay),
    };

    let regions = regions(&base, opts).await;
    let accounts = accounts(&base, opts).await;
    state.set_total(accounts.len() as u64);
    if let Some(name) = &opts.aggregator {
        let target = config_items::Target::Aggregator { name, scope: &caller.account };
        config_items::collect(&api, &state, &creds, &home, &target, &plan.config_types).await;
    }
    for account in &accounts {
        if state.cancelled() {
            break;
        }
        if let Some(ctx) = sign_in(&base, opts, account).await {
            collect_account(ctx, &plan, &regions, opts.aggregator.is_none()).await;
        }
        state.scope_done();
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(CollectError::Cancelled);
    }
    drop(base);
    let asked = Asked {
        scopes: opts.accounts.clone(),
        group: opts.aggregator.clone(),
        tenant: None,
        endpoints: endpoints.describe(&home),
        types: plan.types.iter().cloned().collect(),
    };
    crate::collect::state::finish(
        state,
        &client,
        crate::collect::state::Summary { cloud: "aws", started, asked, identity },
    )
}

/// The regions asked, or those enabled for the account (EC2 `DescribeRegions`); the home
/// region alone when they cannot be listed (the account is then partial).
async fn regions(base: &Ctx, opts: &AwsOptions) -> Vec<String> {
    if !opts.regions.is_empty() {
        return opts.regions.clone();
    }
    match base.api.query(&base.creds, Service::Ec2, &base.home, "DescribeRegions", &[]).await {
        Ok(n) => {
            let mut out: Vec<String> = n
                .child("regionInfo")
                .map(|l| l.children.iter().filter_map(|i| i.text_at(&["regionName"]).map(str::to_string)).collect())
                .unwrap_or_default();
            out.sort();
            if out.is_empty() { vec![base.home.clone()] } else { out }
        }
        Err(e) => {
            base.fail(None, "ec2-describe-regions", "ec2:DescribeRegions", &e);
            vec![base.home.clone()]
        }
    }
}

/// The accounts to collect: those asked, else with a role every active account of the
/// organization, else the caller's.
async fn accounts(base: &Ctx, opts: &AwsOptions) -> Vec<String> {
    if !opts.accounts.is_empty() {
        return opts.accounts.clone();
    }
    if opts.role_name.is_none() {
        return vec![base.account.clone()];
    }
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..ctx::MAX_PAGES {
        let mut body = serde_json::json!({});
        if let Some(t) = &token {
            body["NextToken"] = serde_json::Value::String(t.clone());
        }
        let page = match base.api.json(&base.creds, Service::Organizations, &base.home, "ListAccounts", &body).await {
            Ok(p) => p,
            Err(e) => {
                base.fail(None, "organizations-list-accounts", "organizations:ListAccounts", &e);
                break;
            }
        };
        for a in page.get("Accounts").and_then(serde_json::Value::as_array).into_iter().flatten() {
            let active = a.get("Status").and_then(serde_json::Value::as_str).is_none_or(|s| s == "ACTIVE");
            if let (Some(id), true) = (a.get("Id").and_then(serde_json::Value::as_str), active) {
                let name =
                    a.get("Name").and_then(serde_json::Value::as_str).map(|n| crate::sanitize::clean(n).into_owned());
                base.state.scope(id, name);
                out.push(id.to_string());
            }
        }
        match ctx::next_token(&page, "NextToken", token.as_deref()) {
            Ok(Some(t)) => token = Some(t),
            Ok(None) => break,
            Err(d) => {
                let e = CallError::Malformed { request: "organizations ListAccounts".into(), detail: d };
                base.fail(None, "organizations-list-accounts", "organizations:ListAccounts", &e);
                break;
            }
        }
    }
    if out.is_empty() { vec![base.account.clone()] } else { out }
}

/// The credentials for `account`: the role assumed in it, or the caller's own for the
/// caller's account; None (the account partial) when neither is possible.
async fn sign_in(base: &Ctx, opts: &AwsOptions, account: &str) -> Option<Ctx> {
    base.state.scope(account, None);
    let Some(role) = &opts.role_name else {
        if account == base.account {
            return Some(base.clone());
        }
        let msg = format!(
            "account {account} is not the caller's ({}); give --role-name to assume a role in it",
            base.account
        );
        base.state.fail(account, "sts-assume-role", part_error("", None, msg), None);
        return None;
    };
    if !account.chars().all(|c| c.is_ascii_digit()) || account.len() != 12 {
        base.state.fail(
            account,
            "sts-assume-role",
            part_error("", None, format!("'{account}' is not an account id")),
            None,
        );
        return None;
    }
    let arn = format!("arn:aws:iam::{account}:role/{role}");
    match sts::assume_role(&base.api, &base.creds, &base.home, &arn, &format!("role {role}")).await {
        Ok(c) => {
            remember(&base.api, &c);
            Some(Ctx { creds: c, account: account.to_string(), ..base.clone() })
        }
        Err(e) => {
            let mut ctx = base.clone();
            ctx.account = account.to_string();
            ctx.fail(None, "sts-assume-role", &format!("sts:AssumeRole on {arn}"), &e);
            None
        }
    }
}

fn remember(api: &Api, c: &Credentials) {
    api.client.add_secret(&c.secret_access_key);
    if let Some(t) = &c.session_token {
        api.client.add_secret(t);
    }
}

/// One account: its global data sets, then each region's (regions concurrently, the calls of
/// one region one after another; the shared client bounds the whole).
async fn collect_account(ctx: Ctx, plan: &Arc<Plan>, regions: &[String], config: bool) {
    for ds in plan.global() {
        if ctx.state.cancelled() {
            return;
        }
        datasets::fetch(&ctx, ds, None).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for region in regions {
        let (ctx, plan, region) = (ctx.clone(), Arc::clone(plan), region.clone());
        tasks.spawn(async move {
            if config && !plan.config_types.is_empty() && !ctx.state.cancelled() {
                let target = config_items::Target::Account { account: &ctx.account };
                config_items::collect(&ctx.api, &ctx.state, &ctx.creds, &region, &target, &plan.config_types).await;
            }
            for ds in plan.regional() {
                if ctx.state.cancelled() {
                    return;
                }
                datasets::fetch(&ctx, ds, Some(&region)).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            let msg = format!("a region's collection stopped: {e}");
            ctx.state.fail(&ctx.account, "regions", part_error("", None, msg), None);
        }
    }
}
