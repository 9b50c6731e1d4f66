//! `posture assess`: one run in the foreground, stored, summarized.

use super::output;
use super::{CliError, CliResult, Env};
use crate::assess::{RunStatus, StandardSummary};
use crate::collect::{CollectError, LiveSource};
use crate::pipeline::{CollectProgress, LiveRunError, LiveSettings, Run, collect_and_store, run_and_store_with};
use crate::sanitize::clean;
use crate::sources::SourceSpec;
use clap::Args;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Arguments of `posture assess`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Inventory file or folder, repeatable; `azure:PATH`, `aws:PATH`, `gcp:PATH` force the cloud;
    /// `azure-live:`, `aws-live:` and `gcp-live:` collect first. Default: `sources` from the config, else the demo estate.
    #[arg(long = "source", value_name = "S")]
    pub sources: Vec<String>,
    /// Only this standard, repeatable.
    #[arg(long = "standard", value_name = "ID")]
    pub standards: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: AssessFormat,
    /// Exit 3 when a selected standard's compliance is below PCT.
    #[arg(long, value_name = "PCT")]
    pub fail_under: Option<f64>,
}

/// What `assess` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum AssessFormat {
    /// Aligned columns.
    #[default]
    Table,
    /// The run summary as JSON (docs/json.md).
    Json,
    /// SARIF 2.1.0: the checks that ran as rules, the unhealthy findings as results.
    Sarif,
}

/// Split `raw` into file sources and live ones (`azure-live:`, `aws-live:`, `gcp-live:`…).
fn split_live(raw: &[String]) -> Result<(Vec<String>, Vec<LiveSource>), CliError> {
    let (mut files, mut live) = (Vec::new(), Vec::new());
    for s in raw {
        match LiveSource::parse(s) {
            Some(l) => live.push(l.map_err(CliError::input)?),
            None => files.push(s.clone()),
        }
    }
    Ok((files, live))
}

/// Parse source specs and check the paths exist; none means the demo estate.
pub fn parse_sources(raw: &[String]) -> Result<Vec<SourceSpec>, CliError> {
    if raw.is_empty() {
        return Ok(vec![SourceSpec::Demo]);
    }
    raw.iter()
        .map(|s| {
            let spec: SourceSpec = s.parse().map_err(CliError::input)?;
            if let SourceSpec::Path { path, .. } | SourceSpec::Tool { path, .. } = &spec
                && !path.exists()
            {
                return Err(CliError::input(format!("{}: no such file or directory", path.display())));
            }
            Ok(spec)
        })
        .collect()
}

/// Run it.
pub fn run(env: &Env, args: AssessArgs) -> CliResult {
    if let Some(p) = args.fail_under
        && !(0.0..=100.0).contains(&p)
    {
        return Err(CliError::input(format!("--fail-under {p}: expected a percentage between 0 and 100")));
    }
    let raw = if args.sources.is_empty() { env.config.sources.clone() } else { args.sources.clone() };
    let (raw_files, live) = split_live(&raw)?;
    // Live sources alone assess what they collect, not the demo estate beside it.
    let specs = if raw_files.is_empty() && !live.is_empty() { Vec::new() } else { parse_sources(&raw_files)? };
    let catalog = env.catalog();
    for id in &args.standards {
        if catalog.standard(id).is_none() {
            let known: Vec<&str> = catalog.standards.iter().map(|s| s.id.as_str()).collect();
            return Err(CliError::input(format!("unknown standard '{id}'; known: {}", known.join(", "))));
        }
    }
    let mut store = env.store()?;
    let cancel = super::interrupt::cancel_flag();
    let exporter = crate::export::Exporter::new(
        &env.config,
        crate::export::Mode::Bounded,
        Arc::new(|m: String| eprintln!("warning: export: {}", clean(&m))),
    )
    .map_err(CliError::input)?;
    let run = Run {
        specs: &specs,
        standards: &args.standards,
        retention_days: env.config.retention_days,
        limits: env.config.limits(),
        budget: env.config.budget(),
        exports: exporter.as_ref(),
    };
    let bar = super::progress::Bar::on_terminal();
    let mut on_progress = |p: crate::assess::Progress| bar.assessing(&p);
    let outcome = if live.is_empty() {
        run_and_store_with(&mut store, &catalog, &run, &cancel, &mut on_progress).map_err(CliError::from)
    } else {
        let db = env.db_path();
        let settings = LiveSettings {
            sources: live,
            config: env.config.clone(),
            snapshots_dir: crate::collect::live::snapshots_dir(&env.config, &db),
        };
        let shown = bar.clone();
        let collecting: CollectProgress = Arc::new(move |p: &crate::collect::Progress| shown.collecting(p));
        collect_and_store(&mut store, &catalog, &run, &settings, &cancel, &collecting, &mut on_progress).map_err(|e| {
            // No credentials or a bad setting is the user's to fix (exit 2), as for `collect`.
            match &e {
                LiveRunError::Collect { error: CollectError::NoCredentials(_) | CollectError::Setup(_), .. } => {
                    CliError::input(e.to_string())
                }
                _ => CliError::failure(e.to_string()),
            }
        })
    };
    bar.finish();
    if cancel.load(Ordering::Relaxed) {
        return Err(CliError { code: 130, message: "interrupted; no run was stored".into() });
    }
    let outcome = outcome?;
    // File names and record messages quote untrusted text (names, escapes in file names).
    // Grouped by kind: a folder of 53 files that are not exports is one line, not 53 (every
    // name is in `--format json`'s run.sources).
    let sources = &outcome.result.sources;
    let errors: Vec<_> = sources.iter().flat_map(|r| r.errors.iter().cloned()).collect();
    for g in crate::sources::notices::group(&errors) {
        eprintln!("error: {}", g.summary());
    }
    let warnings: Vec<_> = sources.iter().flat_map(|r| r.warnings.iter().cloned()).collect();
    for g in crate::sources::notices::group(&warnings) {
        eprintln!("warning: {}", g.summary());
    }
    if outcome.result.status == RunStatus::Failed {
        let failed: Vec<String> = outcome.result.sources.iter().map(|r| clean(&r.source).into_owned()).collect();
        return Err(CliError::input(format!("nothing could be read from {}; no run was stored", failed.join(", "))));
    }
    let r = &outcome.rollup;
    let run = &outcome.result;
    match args.format {
        AssessFormat::Sarif => {
            let info = store.run(outcome.run_id)?;
            let req = crate::report::sarif::SarifRequest {
                run: &info,
                standards: &args.standards,
                max_results: crate::report::sarif::MAX_RESULTS,
            };
            output::json(&crate::report::sarif::build(&store, &catalog, &req)?);
        }
        AssessFormat::Json => output::json(&json!({
            "run": {
                "id": outcome.run_id,
                "started_at": run.started_at.to_rfc3339(),
                "finished_at": run.finished_at.to_rfc3339(),
                "status": run.status.as_str(),
                "resources": run.resources_assessed,
                "resources_seen": run.resources_seen,
                "sources": run.sources,
            },
            "standards": r.standards.iter().map(standard_json).collect::<Vec<_>>(),
            "compliance_score": r.compliance,
            "secure_score": r.secure,
            "defender_secure_score": r.defender_secure,
            "imported": {
                "decided": run.external.decided,
                "not_counted": run.external.not_counted,
                "checks": run.external.checks.len(),
            },
        })),
        AssessFormat::Table => {
            let demo = specs.iter().all(|s| *s == SourceSpec::Demo);
            println!(
                "Run {} · {} · {}{} resources assessed ({} read) · {}",
                outcome.run_id,
                run.finished_at.format("%Y-%m-%d %H:%M UTC"),
                if demo { "DEMO DATA · " } else { "" },
                run.resources_assessed,
                run.resources_seen,
                run.status.as_str()
            );
            println!();
            output::table(
                &[
                    "STANDARD",
                    "VERSION",
                    "CONTROLS PASSED",
                    "FAILED",
                    "SKIPPED",
                    "MANUAL",
                    "UNSUPPORTED",
                    "COMPLIANCE",
                    "STATE",
                ],
                r.standards
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.clone(),
                            s.version.clone(),
                            format!("{} of {}", s.passed_controls, s.counted()),
                            s.failed_controls.to_string(),
                            s.skipped_controls.to_string(),
                            s.manual_controls.to_string(),
                            s.unsupported_controls.to_string(),
                            output::pct(s.compliance_pct),
                            s.state.to_string(),
                        ]
                    })
                    .collect(),
            );
            println!();
            println!(
                "Compliance score  {} of {} points  {}",
                r.compliance.achieved,
                r.compliance.possible,
                output::pct(r.compliance.percentage)
            );
            println!(
                "Secure score      {:.2} of {:.0}  {}",
                r.secure.current,
                r.secure.max,
                output::pct(r.secure.percentage)
            );
            if let Some(d) = &r.defender_secure {
                println!("Defender's score  {:.2} of {:.0}  {}", d.current, d.max, output::pct(d.percentage));
            }
        }
    }
    if let Some(threshold) = args.fail_under {
        let under: Vec<&StandardSummary> = r.standards.iter().filter(|s| s.compliance_pct < threshold).collect();
        if !under.is_empty() {
            let names: Vec<String> =
                under.iter().map(|s| format!("{} ({})", s.id, output::pct(s.compliance_pct))).collect();
            return Err(CliError { code: 3, message: format!("under {threshold} %: {}", names.join(", ")) });
        }
    }
    Ok(())
}

/// A standard summary in the JSON shape of docs/json.md.
pub fn standard_json(s: &StandardSummary) -> serde_json::Value {
    json!({
        "id": s.id,
        "name": s.name,
        "version": s.version,
        "state": s.state,
        "passed_controls": s.passed_controls,
        "failed_controls": s.failed_controls,
        "skipped_controls": s.skipped_controls,
        "manual_controls": s.manual_controls,
        "unsupported_controls": s.unsupported_controls,
        "compliance_pct": s.compliance_pct,
        "clouds_without_checks": s.clouds_without_checks,
        "origin": s.origin,
    })
}
