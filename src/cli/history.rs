//! `posture history` and `posture diff`.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use clap::Args;

/// `posture history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only runs that assessed this standard, with its percentage.
    #[arg(long)]
    pub standard: Option<String>,
    /// At most this many runs.
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Older run (default: the second latest complete run).
    pub run_a: Option<i64>,
    /// Newer run (default: the latest complete run).
    pub run_b: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// List runs.
pub fn history(env: &Env, a: HistoryArgs) -> CliResult {
    let store = env.store()?;
    let entries = store.history(a.standard.as_deref(), a.limit)?;
    match a.format {
        Format::Json => output::json(&entries),
        Format::Table => output::table(
            &["RUN", "STARTED", "STATUS", "RESOURCES", "COMPLIANCE", "SECURE", "STANDARDS"],
            entries
                .iter()
                .map(|e| {
                    vec![
                        e.run.id.to_string(),
                        output::when(&e.run.started_at),
                        format!("{}{}", e.run.status, if e.run.demo { " (demo)" } else { "" }),
                        e.run.resources.to_string(),
                        output::pct(e.run.compliance.percentage),
                        output::pct(e.run.secure.percentage),
                        e.standards.iter().map(|(k, v)| format!("{k} {v:.1}%")).collect::<Vec<_>>().join("  "),
                    ]
                })
                .collect(),
        ),
    }
    Ok(())
}

/// Findings as a CHECK / CLOUD / SCOPE / RESOURCE table.
fn findings_table(rows: &[crate::store::FindingRow]) {
    output::table(
        &["CHECK", "CLOUD", "SCOPE", "RESOURCE"],
        rows.iter()
            .map(|f| {
                vec![f.check.clone(), f.resource.cloud.to_string(), f.resource.scope.clone(), f.resource.name.clone()]
            })
            .collect(),
    );
}

/// Compare two runs.
pub fn diff(env: &Env, a: DiffArgs) -> CliResult {
    let store = env.store()?;
    let (ra, rb) = match (a.run_a, a.run_b) {
        (Some(x), Some(y)) => (x, y),
        (Some(x), None) => (x, store.resolve_run(None)?.id),
        _ => store
            .last_two_runs()?
            .ok_or_else(|| CliError::input("the cache holds fewer than two complete runs: nothing to compare"))?,
    };
    let d = store.diff(ra, rb)?;
    match a.format {
        Format::Json => output::json(&d),
        Format::Table => print_diff(&d),
    }
    Ok(())
}

/// The diff as text: a line for the two runs, then only the sections that changed.
fn print_diff(d: &crate::store::DiffReport) {
    println!(
        "Run {} ({}) → run {} ({}) · compliance {:+.1} pts · secure {:+.1} pts",
        d.from.id,
        output::when(&d.from.started_at),
        d.to.id,
        output::when(&d.to.started_at),
        d.compliance_delta,
        d.secure_delta
    );
    let counts = [d.new_failures.len(), d.fixed.len(), d.appeared.len(), d.disappeared.len()];
    if counts.iter().sum::<usize>() + d.standards.len() + d.controls.len() == 0 {
        println!("\nNothing changed: no finding, resource, standard or control differs.");
        return;
    }
    let section = |title: &str, n: usize| {
        println!("\n{title} ({n})");
        n > 0
    };
    let resources = |rs: &[crate::model::ResourceRef]| {
        output::table(&["TYPE", "RESOURCE"], rs.iter().map(|r| vec![r.rtype.clone(), r.id.clone()]).collect())
    };
    for (title, rows) in [("New failures", &d.new_failures), ("Fixed", &d.fixed)] {
        if !rows.is_empty() && section(title, rows.len()) {
            findings_table(rows);
        }
    }
    for (title, rows) in [("Resources appeared", &d.appeared), ("Resources disappeared", &d.disappeared)] {
        if !rows.is_empty() && section(title, rows.len()) {
            resources(rows);
        }
    }
    if !d.standards.is_empty() && section("Standards changed", d.standards.len()) {
        output::table(
            &["STANDARD", "FROM", "TO"],
            d.standards
                .iter()
                .map(|s| {
                    let (pa, pb) = s.pct.unwrap_or_default();
                    vec![
                        s.standard.clone(),
                        format!("{} {}", s.from, output::pct(pa)),
                        format!("{} {}", s.to, output::pct(pb)),
                    ]
                })
                .collect(),
        );
    }
    if !d.controls.is_empty() && section("Controls changed", d.controls.len()) {
        output::table(
            &["STANDARD", "CONTROL", "FROM", "TO"],
            d.controls
                .iter()
                .map(|c| vec![c.standard.clone(), c.control.clone().unwrap_or_default(), c.from.clone(), c.to.clone()])
                .collect(),
        );
    }
}
