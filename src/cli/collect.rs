//! `posture collect azure|aws|gcp`: write a snapshot of what the checks need, with a progress
//! bar on stderr when it is a terminal, and print where it went and what is partial.

use super::output::Format;
use super::{CliError, CliResult, Env};
use crate::collect::manifest::{Manifest, PartState};
use crate::collect::{CollectError, Progress};
use crate::sanitize::clean;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Clouds to collect from.
#[derive(Debug, Subcommand)]
pub enum CollectCmd {
    /// Resource Graph, ARM and Microsoft Graph, as the loaded checks need.
    Azure(AzureArgs),
    /// AWS Config configuration items and the IAM, CloudWatch, CloudTrail, Security Hub ...
    /// data Config does not record, as the loaded checks need.
    Aws(AwsArgs),
    /// Cloud Asset Inventory (resources, IAM and organization policies), as the loaded checks need.
    Gcp(GcpArgs),
}

/// Arguments of `posture collect aws`.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// The shared-files profile (default: `[aws] profile`, AWS_PROFILE, the environment's keys).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// A region, repeatable (default: `[aws] regions`, else every region enabled).
    #[arg(long = "region", value_name = "R")]
    pub regions: Vec<String>,
    /// An account id, repeatable (other accounts than the caller's need --role-name).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// The role assumed in each account (without --account: every account of the organization).
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Read configuration items through this AWS Config aggregator.
    #[arg(long, value_name = "NAME")]
    pub aggregator: Option<String>,
    /// The snapshot folder to create (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `posture collect gcp`.
#[derive(Debug, Args)]
pub struct GcpArgs {
    /// A project id or number, repeatable (default: every project the credential can see).
    #[arg(long = "project", value_name = "ID")]
    pub projects: Vec<String>,
    /// A folder (`N` or `folders/N`): its assets, across its projects.
    #[arg(long, value_name = "ID")]
    pub folder: Option<String>,
    /// An organization (`N` or `organizations/N`): its assets, across its projects.
    #[arg(long, value_name = "ID")]
    pub organization: Option<String>,
    /// The snapshot folder to create (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `posture collect azure`.
#[derive(Debug, Args)]
pub struct AzureArgs {
    /// A subscription id, repeatable (default: every subscription the identity can read).
    #[arg(long = "subscription", value_name = "ID")]
    pub subscriptions: Vec<String>,
    /// A management group instead of subscriptions.
    #[arg(long, value_name = "ID", conflicts_with = "subscriptions")]
    pub management_group: Option<String>,
    /// The tenant to sign in to (default: `[azure] tenant`, else the credential's).
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// The snapshot folder to create (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Run it.
pub fn run(env: &Env, cmd: CollectCmd) -> CliResult {
    match cmd {
        CollectCmd::Azure(args) => run_azure(env, args),
        CollectCmd::Aws(args) => run_aws(env, args),
        CollectCmd::Gcp(args) => run_gcp(env, args),
    }
}

fn run_azure(env: &Env, args: AzureArgs) -> CliResult {
    let catalog = env.catalog();
    let mut opts = env.config.azure.options(args.subscriptions.clone(), args.management_group.clone());
    if args.tenant.is_some() {
        opts.tenant = args.tenant.clone();
    }
    let (bar, progress) = progress();
    let env_vars = crate::collect::azure::credential::CredentialEnv::from_process();
    let cancel = super::interrupt::cancel_flag();
    let fut = crate::collect::azure::collect(&catalog, &opts, &env_vars, &args.out, progress, cancel);
    report(crate::collect::live::block_on(fut), &bar, &args.out, args.format, "subscriptions")
}

fn run_aws(env: &Env, args: AwsArgs) -> CliResult {
    let catalog = env.catalog();
    let mut opts = env.config.aws.options(args.accounts.clone(), args.aggregator.clone());
    if args.profile.is_some() {
        opts.profile = args.profile.clone();
    }
    if !args.regions.is_empty() {
        opts.regions = args.regions.clone();
    }
    if args.role_name.is_some() {
        opts.role_name = args.role_name.clone();
    }
    let (bar, progress) = progress();
    let env_vars = crate::collect::aws::credential::CredentialEnv::from_process();
    let cancel = super::interrupt::cancel_flag();
    let fut = crate::collect::aws::collect(&catalog, &opts, &env_vars, &args.out, progress, cancel);
    report(crate::collect::live::block_on(fut), &bar, &args.out, args.format, "accounts")
}

fn run_gcp(env: &Env, args: GcpArgs) -> CliResult {
    let catalog = env.catalog();
    let opts = env.config.gcp.options(args.projects, args.folder, args.organization);
    let (bar, progress) = progress();
    let env_vars = crate::collect::gcp::endpoints::GcpEnv::from_process();
    let cancel = super::interrupt::cancel_flag();
    let fut = crate::collect::gcp::collect(&catalog, &opts, &env_vars, &args.out, progress, cancel);
    report(crate::collect::live::block_on(fut), &bar, &args.out, args.format, "scopes")
}

/// The callback a collection reports its progress to.
type OnProgress = Box<dyn Fn(&Progress) + Send + Sync>;

/// A bar on stderr (when it is a terminal) and the callback that moves it.
fn progress() -> (super::progress::Bar, OnProgress) {
    let bar = super::progress::Bar::on_terminal();
    let shown = bar.clone();
    (bar, Box::new(move |p: &Progress| shown.collecting(p)))
}

/// Print what a collection gave, or say why it gave nothing.
fn report(
    result: Result<crate::collect::Collected, CollectError>,
    bar: &super::progress::Bar,
    out: &std::path::Path,
    format: Format,
    unit: &str,
) -> CliResult {
    bar.finish();
    let collected = result.map_err(|e| match e {
        CollectError::NoCredentials(_) | CollectError::Setup(_) => CliError::input(e.to_string()),
        CollectError::Cancelled => {
            CliError { code: 130, message: format!("interrupted; nothing was written to {}", out.display()) }
        }
        _ => CliError::failure(e.to_string()),
    })?;
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&serde_json::json!({
                "snapshot": collected.path.display().to_string(),
                "manifest": collected.manifest,
            }))
            .map_err(|e| CliError::failure(e.to_string()))?;
            println!("{text}");
        }
        Format::Table => print_summary(&collected.path, &collected.manifest, unit),
    }
    Ok(())
}

fn print_summary(path: &std::path::Path, m: &Manifest, unit: &str) {
    let rows: u64 = m.scopes.values().flat_map(|s| s.datasets.values()).map(|d| d.rows).sum();
    // The directory-wide scopes (Entra's tenant, GCP's project search) are not subscriptions or projects.
    let scopes = m.scopes.keys().filter(|k| *k != "tenant" && *k != "projects.search").count();
    println!(
        "snapshot {}: {} {unit}, {rows} rows in {} files, {} requests ({} retried)",
        clean(&path.display().to_string()),
        scopes,
        m.files,
        m.requests.sent,
        m.requests.retried
    );
    for (id, scope) in &m.scopes {
        for (name, d) in scope.datasets.iter().filter(|(_, d)| d.status == PartState::Partial) {
            let missing = if d.permissions_missing.is_empty() {
                String::new()
            } else {
                format!(" (missing: {})", d.permissions_missing.join(", "))
            };
            let first = d.errors.first().map(|e| e.message.as_str()).unwrap_or("");
            eprintln!("partial: {} {}{missing}: {}", clean(id), clean(name), clean(first));
        }
    }
    println!("assess it with: posture assess --source {}", clean(&path.display().to_string()));
}
