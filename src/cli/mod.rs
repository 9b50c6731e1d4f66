//! The command line: the contract scripts and pipelines rely on (names and JSON fields are
//! stable; docs/json.md documents every JSON shape). No subcommand opens the console.

mod assess;
mod audit;
mod checktest;
mod collect;
mod exports;
mod governance;
mod history;
mod interrupt;
mod listings;
mod output;
mod progress;
mod report;
mod scope;
mod standards;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::store::Store;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use assess::parse_sources;
pub use governance::validate_action;
pub use output::Format;

/// An error with the exit status it should produce.
#[derive(Debug)]
pub struct CliError {
    /// 1 failure, 2 bad input, 3 threshold not met.
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
}

impl CliError {
    /// Bad input: exit 2.
    pub fn input(message: impl Into<String>) -> CliError {
        CliError { code: 2, message: message.into() }
    }
    /// Failure: exit 1.
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError { code: 1, message: message.into() }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound(_) | crate::store::StoreError::DemoIntoRealCache => {
                CliError::input(e.to_string())
            }
            _ => CliError::failure(e.to_string()),
        }
    }
}

/// Result of a command.
pub type CliResult = Result<(), CliError>;

/// posture — cloud compliance posture in the terminal.
///
/// Without a subcommand it opens the console on the cached results (the embedded demo estate
/// when nothing is configured).
#[derive(Debug, Parser)]
#[command(name = "posture", version, about, long_about = None)]
pub struct Cli {
    /// Cache file (default: the platform data dir).
    #[arg(long, global = true, env = "POSTURE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Config file (default: the platform config dir).
    #[arg(long, global = true, env = "POSTURE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `table` for people, `json` for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FormatArg {
    /// Aligned columns.
    #[default]
    Table,
    /// JSON, in the shapes docs/json.md documents.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one assessment in the foreground, store it, print the summary.
    Assess(assess::AssessArgs),
    /// List, validate or import standards.
    #[command(subcommand)]
    Standards(standards::StandardsCmd),
    /// List the checks of the catalog.
    Checks(listings::ChecksArgs),
    /// The controls of a standard with their state in a run.
    Controls(listings::ControlsArgs),
    /// Findings of a run (all states unless --state narrows it).
    Findings(listings::FindingsArgs),
    /// Improvement actions, most points at stake first.
    Actions(listings::ActionsArgs),
    /// Stored runs with their scores.
    History(history::HistoryArgs),
    /// What changed between two runs (default: the last two complete runs).
    Diff(history::DiffArgs),
    /// Attest a control (manual, or automated as a compensating control).
    Attest(governance::AttestArgs),
    /// List attestations.
    Attestations(governance::AttestationsArgs),
    /// Exempt a check on a resource, a scope, or everywhere.
    Exempt(governance::ExemptArgs),
    /// List exemptions, or import them (`exemptions import prowler-mutelist FILE`).
    Exemptions(governance::ExemptionsArgs),
    /// Give an improvement action an owner and a due date.
    Assign(governance::AssignArgs),
    /// Revoke an attestation, exemption or assignment (it stays in the history).
    Revoke(governance::RevokeArgs),
    /// The append-only audit log; `audit verify` checks it, `audit head` prints its head.
    Audit(audit::AuditArgs),
    /// A standard's report for auditors, spreadsheets, tickets or SIEMs (pdf, html, csv, md, ocsf).
    Report(report::ReportArgs),
    /// Collect a snapshot from a cloud's APIs (`collect azure --out DIR`, `collect gcp --out DIR`).
    #[command(subcommand)]
    Collect(collect::CollectCmd),
    /// Continuous exports and triggers: `exports status` lists deliveries still in the spool.
    #[command(subcommand)]
    Exports(exports::ExportsCmd),
}

/// Shared context: config, catalog, cache.
pub struct Env {
    /// Loaded config.
    pub config: Config,
    /// `--db` as given.
    pub db: Option<PathBuf>,
}

impl Env {
    /// Load the config named by `--config` / `POSTURE_CONFIG`, or the default.
    pub fn new(cli: &Cli) -> Result<Env, CliError> {
        let config = Config::load(cli.config.as_deref()).map_err(CliError::input)?;
        Ok(Env { config, db: cli.db.clone() })
    }

    /// The catalog (through its snapshot beside the cache); load errors are printed as
    /// warnings (the rest still loads).
    pub fn catalog(&self) -> Catalog {
        let snapshot = crate::catalog::snapshot_path(&self.db_path());
        let catalog = Catalog::load_with_snapshot(&self.config.standards_dirs, &snapshot);
        for e in &catalog.errors {
            eprintln!("warning: {e}");
        }
        catalog
    }

    /// The cache's path: `--db`, or the default.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(crate::store::default_path)
    }

    /// Open the cache.
    pub fn store(&self) -> Result<Store, CliError> {
        let path = self.db_path();
        let mut store = Store::open(&path).map_err(|e| CliError::failure(e.to_string()))?;
        governance::print_notices(&mut store);
        Ok(store)
    }
}

/// Run a subcommand.
pub fn run(cli: Cli, command: Command) -> CliResult {
    let env = Env::new(&cli)?;
    match command {
        Command::Assess(a) => assess::run(&env, a),
        Command::Standards(s) => standards::run(&env, s),
        Command::Checks(a) => listings::checks(&env, a),
        Command::Controls(a) => listings::controls(&env, a),
        Command::Findings(a) => listings::findings(&env, a),
        Command::Actions(a) => listings::actions(&env, a),
        Command::History(a) => history::history(&env, a),
        Command::Diff(a) => history::diff(&env, a),
        Command::Attest(a) => governance::attest(&env, a),
        Command::Attestations(a) => governance::attestations(&env, a),
        Command::Exempt(a) => governance::exempt(&env, a),
        Command::Exemptions(a) => governance::exemptions(&env, a),
        Command::Assign(a) => governance::assign(&env, a),
        Command::Revoke(a) => governance::revoke(&env, a),
        Command::Audit(a) => audit::audit(&env, a),
        Command::Report(a) => report::run(&env, a),
        Command::Collect(c) => collect::run(&env, c),
        Command::Exports(c) => exports::run(&env, c),
    }
}
