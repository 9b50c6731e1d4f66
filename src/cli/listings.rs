//! `posture checks | controls | findings | actions`: read the latest run (or `--run ID`).

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::model::{Cloud, ControlState, FindingState};
use crate::pipeline::live_rollup_in;
use crate::store::FindingFilter;
use clap::Args;
use serde_json::json;
use std::io::Write;

/// `posture checks`
#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// `test`: run the checks' test cases.
    #[command(subcommand)]
    pub action: Option<super::checktest::ChecksCmd>,
    /// Only this cloud.
    #[arg(long)]
    pub cloud: Option<Cloud>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture controls`
#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Standard id (optional with --assessment, which names its standard).
    #[arg(required_unless_present = "assessment")]
    pub standard: Option<String>,
    /// An older run.
    #[arg(long)]
    pub run: Option<i64>,
    /// `--assessment NAME` / `--scope S`.
    #[command(flatten)]
    pub scope: super::scope::ScopeArgs,
    /// Only controls in this state.
    #[arg(long)]
    pub state: Option<ControlState>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture findings`
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Only checks of this standard.
    #[arg(long)]
    pub standard: Option<String>,
    /// Only checks of this control (needs --standard).
    #[arg(long)]
    pub control: Option<String>,
    /// Only this check.
    #[arg(long)]
    pub check: Option<String>,
    /// Only this state: unhealthy, error or exempt (healthy and not_applicable are kept as counts).
    #[arg(long)]
    pub state: Option<FindingState>,
    /// An older run.
    #[arg(long)]
    pub run: Option<i64>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture actions`
#[derive(Debug, Args)]
pub struct ActionsArgs {
    /// Only actions of this standard.
    #[arg(long)]
    pub standard: Option<String>,
    /// Only actions owned by this person.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only actions past their due date and not done.
    #[arg(long)]
    pub overdue: bool,
    /// An older run.
    #[arg(long)]
    pub run: Option<i64>,
    /// `--assessment NAME` (its standard's actions over its scopes) / `--scope S`.
    #[command(flatten)]
    pub scope: super::scope::ScopeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// List checks.
pub fn checks(env: &Env, a: ChecksArgs) -> CliResult {
    if let Some(super::checktest::ChecksCmd::Test(t)) = a.action {
        return super::checktest::run(env, t);
    }
    let catalog = env.catalog();
    let list: Vec<_> = catalog.checks.iter().filter(|c| a.cloud.is_none_or(|cl| c.cloud == cl)).collect();
    match a.format {
        Format::Json => output::json(
            &list
                .iter()
                .map(|c| {
                    json!({"id": c.id, "title": c.title, "severity": c.severity, "cloud": c.cloud, "resource_types": c.resource_types,
                        "aliases": c.aliases, "action": c.action, "mandatory": c.mandatory, "security_control": c.security_control})
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => output::table(
            &["ID", "SEVERITY", "POINTS", "TITLE"],
            list.iter().map(|c| vec![c.id.clone(), c.severity.to_string(), c.points().to_string(), c.title.clone()]).collect(),
        ),
    }
    Ok(())
}

/// `assessment NAME: N scopes (…)` or `scopes: …` above a table, when not the whole run.
fn covers_line(cover: &super::scope::Coverage) -> Option<String> {
    match (&cover.assessment, cover.scopes.is_empty()) {
        (Some(name), _) => {
            Some(format!("assessment {name}: {} scope(s): {}", cover.scopes.len(), cover.scopes.join(", ")))
        }
        (None, false) => Some(format!("scopes: {}", cover.scopes.join(", "))),
        (None, true) => None,
    }
}

fn unknown_standard(catalog: &crate::catalog::Catalog, id: &str) -> CliError {
    let known: Vec<&str> = catalog.standards.iter().map(|s| s.id.as_str()).collect();
    CliError::input(format!("unknown standard '{id}'; known: {}", known.join(", ")))
}

/// List the controls of a standard.
pub fn controls(env: &Env, a: ControlsArgs) -> CliResult {
    let catalog = env.checked_catalog()?;
    // `defender:NAME` is a standard Defender for Cloud reported, imported with the run.
    if let Some(id) = a.standard.as_deref().filter(|id| !id.starts_with("defender:") && catalog.standard(id).is_none())
    {
        return Err(unknown_standard(&catalog, id));
    }
    let store = env.store()?;
    let run = store.resolve_run(a.run)?;
    let cover = a.scope.resolve(env, a.standard.as_deref(), &store, &run)?;
    let standard = cover.standard.clone().unwrap_or_default();
    let rollup = live_rollup_in(&store, &catalog, &run, std::slice::from_ref(&standard), &cover.scopes)?;
    let Some(s) = rollup.standards.iter().find(|s| s.id == standard) else {
        return Err(unknown_standard(&catalog, &standard));
    };
    let controls: Vec<_> = s.controls.iter().filter(|c| a.state.is_none_or(|st| c.state == st)).collect();
    match a.format {
        Format::Json => output::json(
            &controls
                .iter()
                .map(|c| {
                    json!({"id": c.id, "section": c.section, "title": c.title, "state": c.state, "checks": c.checks,
                        "healthy_resources": c.healthy_resources, "unhealthy_resources": c.unhealthy_resources,
                        "attestation": c.attestation, "reason": c.reason, "origin": s.origin, "defender": c.defender})
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            println!(
                "{} {} · run {} · {} of {} controls passed ({})",
                s.name,
                s.version,
                run.id,
                s.passed_controls,
                s.counted(),
                output::pct(s.compliance_pct)
            );
            if let Some(line) = covers_line(&cover) {
                println!("{line}");
            }
            if !s.clouds_without_checks.is_empty() {
                let clouds: Vec<&str> = s.clouds_without_checks.iter().map(|c| c.as_str()).collect();
                println!("no automated control of this standard covers {} (also in this run)", clouds.join(", "));
            }
            output::table(
                &["ID", "STATE", "HEALTHY", "UNHEALTHY", "TITLE"],
                controls
                    .iter()
                    .map(|c| {
                        let mut state = match (&c.attestation, &c.reason) {
                            (Some(att), _) => format!("{} (attested {att})", c.state),
                            (None, Some(why)) => format!("{} ({why})", c.state),
                            (None, None) => c.state.to_string(),
                        };
                        if let Some(d) = c.defender.as_ref().filter(|_| s.origin == crate::model::Origin::Posture) {
                            state.push_str(&format!(" · Defender: {}", d.state));
                        }
                        vec![
                            c.id.clone(),
                            state,
                            c.healthy_resources.to_string(),
                            c.unhealthy_resources.to_string(),
                            c.title.clone(),
                        ]
                    })
                    .collect(),
            )
        }
    }
    Ok(())
}

/// List findings, paging through the store so a large run is never loaded whole.
pub fn findings(env: &Env, a: FindingsArgs) -> CliResult {
    if matches!(a.state, Some(FindingState::Healthy | FindingState::NotApplicable)) {
        return Err(CliError::input(
            "healthy and not_applicable results are kept as counts per check, not one by one: see `posture controls STANDARD`",
        ));
    }
    let catalog = env.catalog();
    let mut checks: Option<Vec<String>> = None;
    if let Some(sid) = &a.standard {
        let s = catalog.standard(sid).ok_or_else(|| unknown_standard(&catalog, sid))?;
        let ids: Vec<String> = match &a.control {
            Some(cid) => s
                .controls
                .iter()
                .find(|c| &c.id == cid)
                .ok_or_else(|| CliError::input(format!("standard '{sid}' has no control '{cid}'")))?
                .checks
                .clone(),
            None => s.controls.iter().flat_map(|c| c.checks.clone()).collect(),
        };
        checks = Some(ids);
    } else if a.control.is_some() {
        return Err(CliError::input("--control needs --standard"));
    }
    if let Some(k) = &a.check {
        if catalog.check(k).is_none() && !crate::assess::imported::is_synthetic(k) {
            return Err(CliError::input(format!("unknown check '{k}'")));
        }
        checks = Some(match checks {
            Some(list) => list.into_iter().filter(|c| c == k).collect(),
            None => vec![k.clone()],
        });
    }
    let store = env.store()?;
    let run = store.resolve_run(a.run)?;
    let external = store.external(run.id)?.unwrap_or_default();
    // Exemptions recorded after the run count at once: query both states and re-judge each row.
    let states = match a.state {
        Some(FindingState::Unhealthy | FindingState::Exempt) => {
            Some(vec![FindingState::Unhealthy, FindingState::Exempt])
        }
        other => other.map(|s| vec![s]),
    };
    let matcher = crate::governance::ExemptionMatcher::new(store.exemptions()?);
    let now = chrono::Utc::now();
    let filter = FindingFilter { checks, states, ..Default::default() };
    let limit = a.limit.unwrap_or(u64::MAX);
    let mut out = std::io::stdout().lock();
    let mut printed = 0u64;
    // check → the controls that use it, built once (not per finding).
    let mut controls_of: std::collections::HashMap<&str, Vec<serde_json::Value>> = Default::default();
    for st in &catalog.standards {
        for c in &st.controls {
            for k in &c.checks {
                controls_of.entry(k.as_str()).or_default().push(json!({"standard": st.id, "control": c.id}));
            }
        }
    }
    // Tables stream with fixed columns so a run of any size prints as it is read.
    let cell = crate::sanitize::cell;
    match a.format {
        Format::Json => {
            let _ = write!(out, "[");
        }
        Format::Table => {
            let _ = writeln!(
                out,
                "{} {} {} {} {} {} EVIDENCE",
                cell("STATE", 10),
                cell("FROM", 11),
                cell("CHECK", 44),
                cell("CLOUD", 5),
                cell("SCOPE", 36),
                cell("RESOURCE", 36)
            );
        }
    }
    store.for_each_finding(run.id, &filter, &mut |mut f| {
        if f.origin == crate::model::Origin::Posture {
            f.state = crate::governance::effective_state(f.state, &f.check, &f.resource, &matcher, now);
        }
        if a.state.is_some_and(|s| s != f.state) {
            return true;
        }
        let controls = controls_of.get(f.check.as_str()).cloned().unwrap_or_default();
        match a.format {
            Format::Json => {
                let remediation = catalog.check(&f.check).map(|c| {
                    // The console fills from the stored document; read it only when the template
                    // needs a field the finding's resource does not carry.
                    let doc = if c.remediation.needs_document() {
                        store.resource_doc(run.id, &f.resource.id).ok().flatten()
                    } else {
                        None
                    };
                    json!({"text": c.remediation.text, "command": c.remediation.command_for(&f.resource, doc.as_ref())})
                });
                // Another tool's check carries that tool's own metadata.
                let remediation = remediation
                    .or_else(|| external.check(&f.check).map(|c| json!({"text": c.remediation, "command": null})));
                let tool_check = external.check(&f.check).map(|c| json!({"title": c.title, "severity": c.severity}));
                let v = json!({"check": f.check, "state": f.state, "resource": f.resource, "evidence": f.evidence,
                    "message": f.message, "controls": controls, "remediation": remediation, "origin": f.origin,
                    "tool_check": tool_check});
                let sep = if printed == 0 { "\n  " } else { ",\n  " };
                let _ = write!(
                    out,
                    "{sep}{}",
                    crate::sanitize::json_escaped(serde_json::to_string(&v).unwrap_or_default())
                );
            }
            Format::Table => {
                let ev: Vec<String> = f.evidence.iter().map(|e| format!("{} = {}", e.path, e.value)).collect();
                let evidence = f.message.clone().unwrap_or_else(|| ev.join("; "));
                let _ = writeln!(
                    out,
                    "{} {} {} {} {} {} {}",
                    cell(f.state.as_str(), 10),
                    cell(f.origin.as_str(), 11),
                    cell(&f.check, 44),
                    cell(f.resource.cloud.as_str(), 5),
                    cell(&f.resource.scope, 36),
                    cell(&f.resource.name, 36),
                    crate::sanitize::clean(&evidence)
                );
            }
        }
        printed += 1;
        printed < limit
    })?;
    match a.format {
        Format::Json => {
            let _ = writeln!(out, "{}]", if printed == 0 { "" } else { "\n" });
        }
        Format::Table => {}
    }
    Ok(())
}

/// List improvement actions.
pub fn actions(env: &Env, a: ActionsArgs) -> CliResult {
    let catalog = env.checked_catalog()?;
    if let Some(s) = a.standard.as_deref().filter(|s| catalog.standard(s).is_none()) {
        return Err(unknown_standard(&catalog, s));
    }
    let store = env.store()?;
    let run = store.resolve_run(a.run)?;
    let cover = a.scope.resolve(env, a.standard.as_deref(), &store, &run)?;
    let selected: Vec<String> = cover.standard.iter().cloned().collect();
    let rollup = live_rollup_in(&store, &catalog, &run, &selected, &cover.scopes)?;
    if let Some(line) = covers_line(&cover).filter(|_| a.format == Format::Table) {
        println!("{line}");
    }
    let today = chrono::Utc::now().date_naive();
    let list: Vec<_> = rollup
        .actions
        .iter()
        .filter(|x| a.owner.as_ref().is_none_or(|o| x.owner.as_ref() == Some(o)))
        .filter(|x| !a.overdue || crate::governance::overdue(x.due, x.achieved, x.points, today))
        .collect();
    match a.format {
        Format::Json => output::json(
            &list
                .iter()
                .map(|x| {
                    json!({"id": x.id, "kind": x.kind, "title": x.title, "points": x.points, "achieved": x.achieved,
                        "state": x.state, "owner": x.owner, "due": x.due})
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => output::table(
            &["POINTS", "STATE", "KIND", "ID", "OWNER", "DUE", "TITLE"],
            list.iter()
                .map(|x| {
                    vec![
                        format!("{}/{}", x.achieved, x.points),
                        x.state.to_string(),
                        format!("{:?}", x.kind).to_lowercase(),
                        x.id.clone(),
                        x.owner.clone().unwrap_or_default(),
                        x.due.map(|d| d.to_string()).unwrap_or_default(),
                        x.title.clone(),
                    ]
                })
                .collect(),
        ),
    }
    Ok(())
}
