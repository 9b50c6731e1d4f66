//! `posture attest | attestations | exempt | exemptions | assign | revoke`. Decisions are
//! signed through the SSH agent when one is there; every echo of what was typed or read is
//! cleaned of control characters.

use super::output::{self, Format};
use super::{CliError, CliResult, Env};
use crate::governance::{self as gov, AttestationInput, ExemptionInput, FieldError};
use crate::model::{Assignment, EvidenceRef};
use crate::sanitize::clean;
use crate::store::{RecordKind, Store};
use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::json;
use std::collections::HashMap;

fn field_error(e: FieldError) -> CliError {
    field_errors(vec![e])
}

/// Every problem of the input, one line each (as the console's form shows them all at once).
fn field_errors(errors: Vec<FieldError>) -> CliError {
    let lines: Vec<String> =
        errors.iter().map(|e| clean(&format!("--{}: {}", e.field, e.message)).into_owned()).collect();
    CliError::input(lines.join("\n"))
}

/// Print a line for people: what was typed or read may hold terminal escapes.
fn say(line: &str) {
    println!("{}", clean(line));
}

/// Tell the user what the store noticed (permissions tightened, the signing key, unsigned entries).
pub(super) fn print_notices(store: &mut Store) {
    for n in store.take_notices() {
        eprintln!("note: {}", clean(&n));
    }
}

/// The cache, with decisions signed by the SSH agent's key for the attester when there is one.
fn decision_store(env: &Env) -> Result<Store, CliError> {
    let mut store = env.store()?;
    match gov::AgentSigner::from_env(&env.config.attester()) {
        Ok(signer) => store.set_signer(signer.map(|s| Box::new(s) as Box<dyn crate::store::EntrySigner>)),
        Err(why) => eprintln!("warning: {}; decisions are recorded unsigned", clean(&why)),
    }
    Ok(store)
}

/// `posture attest`
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Standard id.
    pub standard: String,
    /// Control id.
    pub control: String,
    /// passed, failed or not_applicable.
    #[arg(long)]
    pub status: String,
    /// What was checked, or what is missing (required whatever the status).
    #[arg(long, default_value = "")]
    pub note: String,
    /// A file (copied into posture's evidence store with its SHA-256) or an http(s) URL; repeatable.
    /// Required for passed unless the standard sets `attestation_evidence_optional`.
    #[arg(long)]
    pub evidence: Vec<String>,
    /// Last day it counts (default: the standard's validity, one year).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "")]
    pub expires: String,
    /// One subscription / account / project (default: everywhere).
    #[arg(long, default_value = "")]
    pub scope: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture attestations`
#[derive(Debug, Args)]
pub struct AttestationsArgs {
    /// Only this standard.
    #[arg(long)]
    pub standard: Option<String>,
    /// Only those expiring within this many days (expired ones included).
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<i64>,
    /// Include revoked ones.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture exempt`
#[derive(Debug, Args)]
pub struct ExemptArgs {
    /// Check id.
    pub check: String,
    /// One resource (its cloud id).
    #[arg(long)]
    pub resource: Option<String>,
    /// One subscription / account / project.
    #[arg(long)]
    pub scope: Option<String>,
    /// waiver or mitigated.
    #[arg(long)]
    pub category: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// Last day it counts.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expires: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `posture exemptions`
#[derive(Debug, Args)]
pub struct ExemptionsArgs {
    /// Import instead of listing.
    #[command(subcommand)]
    pub command: Option<ExemptionsCmd>,
    /// Include revoked ones.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
}

/// `posture exemptions import`
#[derive(Debug, Subcommand)]
pub enum ExemptionsCmd {
    /// Import exemptions from another tool.
    Import {
        /// `prowler-mutelist`.
        kind: String,
        /// The file.
        file: std::path::PathBuf,
        /// Last day the imported exemptions count (default: one year).
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
        /// Show what would be imported without recording it.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `posture assign`
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Improvement action id: a check id, or STANDARD/CONTROL for a manual control.
    pub action: String,
    /// Who owns it.
    #[arg(long)]
    pub owner: String,
    /// When it is due.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub due: String,
}

/// `posture revoke`
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// attestation, exemption or assignment.
    pub kind: String,
    /// Its id.
    pub id: i64,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

/// Record an attestation.
pub fn attest(env: &Env, a: AttestArgs) -> CliResult {
    let catalog = env.catalog();
    let now = Utc::now();
    let input = AttestationInput {
        standard: a.standard,
        control: a.control,
        status: a.status,
        scope: a.scope,
        note: a.note,
        evidence: a.evidence,
        expires: a.expires,
        attester: env.config.attester(),
    };
    let (mut att, files) = gov::check_attestation(&catalog, &input, now).map_err(field_errors)?;
    let mut store = decision_store(env)?;
    let dir = gov::evidence_dir(store.path());
    for f in files {
        let stored = gov::store_evidence_with(&dir, &f, env.config.max_evidence_bytes).map_err(|e| match e {
            gov::EvidenceError::Io { .. } => CliError::failure(clean(&format!("copying evidence: {e}"))),
            _ => CliError::input(clean(&format!("--evidence: {e}"))),
        })?;
        for t in &stored.tightened {
            eprintln!("note: {t}");
        }
        if stored.copied == gov::Copied::Repaired {
            eprintln!(
                "note: {}: the stored copy was damaged; replaced from this file",
                clean(&f.display().to_string())
            );
        }
        att.evidence.insert(0, stored.evidence);
    }
    let id = store.add_attestation(&att)?;
    print_notices(&mut store);
    att.id = id;
    match a.format {
        Format::Json => output::json(&att),
        Format::Table => say(&format!(
            "attestation {id}: {} {} {} by {} until {}{}",
            att.standard,
            att.control,
            att.status.as_str(),
            att.attester,
            att.expires,
            if att.evidence.is_empty() { String::new() } else { format!(" ({} evidence)", att.evidence.len()) }
        )),
    }
    Ok(())
}

/// Where each record stands today, as the console's audit views show it.
fn standings(env: &Env, store: &Store) -> Result<HashMap<(RecordKind, i64), gov::Standing>, CliError> {
    let at = gov::ReviewAt {
        today: Utc::now().date_naive(),
        window_days: gov::expiring_days(&env.config.trigger),
        done: &|_| false,
    };
    let review = gov::Review::load(store, at)?;
    let a = review.attestations.iter().map(|x| ((RecordKind::Attestation, x.record.id), x.standing));
    let e = review.exemptions.iter().map(|x| ((RecordKind::Exemption, x.record.id), x.standing));
    Ok(a.chain(e).collect())
}

/// List attestations.
pub fn attestations(env: &Env, a: AttestationsArgs) -> CliResult {
    let store = env.store()?;
    let today = Utc::now().date_naive();
    let dir = gov::evidence_dir(store.path());
    let states = standings(env, &store)?;
    let state = |id: i64| states.get(&(RecordKind::Attestation, id)).map_or("", |s| s.as_str());
    let rows: Vec<_> = store
        .attestation_history()?
        .into_iter()
        .filter(|(_, revoked)| a.all || !revoked)
        .filter(|(x, _)| a.standard.as_ref().is_none_or(|s| &x.standard == s))
        .filter(|(x, _)| a.expiring_within.is_none_or(|d| (x.expires - today).num_days() <= d))
        .collect();
    match a.format {
        Format::Json => output::json(
            &rows
                .iter()
                .map(|(x, revoked)| {
                    let evidence: Vec<_> = x.evidence.iter().map(|e| json!({"evidence": e, "status": gov::evidence_status(&dir, e)})).collect();
                    json!({"id": x.id, "standard": x.standard, "control": x.control, "status": x.status, "scope": x.scope,
                        "note": x.note, "evidence": evidence, "attester": x.attester, "created_at": x.created_at,
                        "expires": x.expires, "expired": x.expires < today, "revoked": revoked, "state": state(x.id)})
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => output::table(
            &["ID", "STANDARD", "CONTROL", "STATUS", "STATE", "EXPIRES", "BY", "EVIDENCE", "NOTE"],
            rows.iter()
                .map(|(x, revoked)| {
                    let expires = if *revoked {
                        format!("{} (revoked)", x.expires)
                    } else if x.expires < today {
                        format!("{} (expired)", x.expires)
                    } else {
                        x.expires.to_string()
                    };
                    let evidence: Vec<String> = x
                        .evidence
                        .iter()
                        .map(|e| match (e, gov::evidence_status(&dir, e)) {
                            (EvidenceRef::Url { url }, _) => url.clone(),
                            (EvidenceRef::File { original, .. }, st) => format!("{original} [{}]", serde_json::to_value(st).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()),
                        })
                        .collect();
                    vec![x.id.to_string(), x.standard.clone(), x.control.clone(), x.status.as_str().into(), state(x.id).into(), expires, x.attester.clone(), evidence.join(", "), x.note.clone()]
                })
                .collect(),
        ),
    }
    Ok(())
}

/// Record an exemption.
pub fn exempt(env: &Env, a: ExemptArgs) -> CliResult {
    let catalog = env.catalog();
    let input = ExemptionInput {
        check: a.check,
        resource: a.resource.unwrap_or_default(),
        scope: a.scope.unwrap_or_default(),
        category: a.category,
        reason: a.reason,
        expires: a.expires,
        author: env.config.attester(),
    };
    let mut e = gov::validate_exemption(&catalog, &input, Utc::now()).map_err(field_error)?;
    let mut store = decision_store(env)?;
    e.id = store.add_exemption(&e)?;
    print_notices(&mut store);
    match a.format {
        Format::Json => output::json(&e),
        Format::Table => say(&format!(
            "exemption {}: {} on {} ({}) until {}",
            e.id,
            e.check,
            e.resource.as_deref().or(e.scope.as_deref()).unwrap_or("everywhere"),
            e.category,
            e.expires
        )),
    }
    Ok(())
}

/// List or import exemptions.
pub fn exemptions(env: &Env, a: ExemptionsArgs) -> CliResult {
    match a.command {
        Some(ExemptionsCmd::Import { kind, file, expires, dry_run }) => {
            if kind != "prowler-mutelist" {
                return Err(CliError::input(clean(&format!(
                    "unknown import kind '{kind}', expected prowler-mutelist"
                ))));
            }
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::input(clean(&format!("{}: {e}", file.display()))))?;
            let now = Utc::now();
            let expires = match expires {
                Some(d) => gov::parse_expiry(&d, now).map_err(field_error)?,
                None => now.date_naive() + chrono::Duration::days(365),
            };
            let catalog = env.catalog();
            let name = file.display().to_string();
            let imported = gov::import_mutelist(&catalog, &text, &name, &env.config.attester(), expires, now)
                .map_err(|e| CliError::input(clean(&e)))?;
            let mut store = if dry_run { env.store()? } else { decision_store(env)? };
            let mut ids = Vec::new();
            if !dry_run {
                for e in &imported.exemptions {
                    ids.push(store.add_exemption(e)?);
                }
            }
            print_notices(&mut store);
            match a.format {
                Format::Json => output::json(
                    &json!({"imported": imported.exemptions.len(), "ids": ids, "unmapped": imported.unmapped, "dry_run": dry_run}),
                ),
                Format::Table => {
                    println!(
                        "{} exemption(s) {}",
                        imported.exemptions.len(),
                        if dry_run { "would be imported" } else { "imported" }
                    );
                    for e in &imported.exemptions {
                        say(&format!(
                            "  {}  scope={}  resources={}  regions={}",
                            e.check,
                            e.scope.as_deref().unwrap_or("*"),
                            e.resource_pattern.as_deref().unwrap_or("*"),
                            if e.regions.is_empty() { "*".to_string() } else { e.regions.join(",") }
                        ));
                    }
                    if !imported.unmapped.is_empty() {
                        println!("{} entr(ies) not imported:", imported.unmapped.len());
                        for u in &imported.unmapped {
                            say(&format!("  {u}"));
                        }
                    }
                }
            }
            Ok(())
        }
        None => {
            let store = env.store()?;
            let today = Utc::now().date_naive();
            let rows: Vec<_> = store.exemption_history()?.into_iter().filter(|(_, r)| a.all || !r).collect();
            let states = standings(env, &store)?;
            let state = |id: i64| states.get(&(RecordKind::Exemption, id)).map_or("", |s| s.as_str());
            match a.format {
                Format::Json => output::json(
                    &rows
                        .iter()
                        .map(|(e, revoked)| {
                            let mut v = serde_json::to_value(e).unwrap_or_default();
                            v["revoked"] = (*revoked).into();
                            v["expired"] = (e.expires < today).into();
                            v["state"] = state(e.id).into();
                            v
                        })
                        .collect::<Vec<_>>(),
                ),
                Format::Table => output::table(
                    &["ID", "CHECK", "WHERE", "CATEGORY", "STATE", "EXPIRES", "BY", "REASON"],
                    rows.iter()
                        .map(|(e, revoked)| {
                            let place = e
                                .resource
                                .clone()
                                .or_else(|| e.resource_pattern.as_ref().map(|p| format!("~{p}")))
                                .unwrap_or_else(|| e.scope.clone().unwrap_or_else(|| "everywhere".into()));
                            let exp = if *revoked {
                                format!("{} (revoked)", e.expires)
                            } else if e.expires < today {
                                format!("{} (expired)", e.expires)
                            } else {
                                e.expires.to_string()
                            };
                            vec![
                                e.id.to_string(),
                                e.check.clone(),
                                place,
                                e.category.clone(),
                                state(e.id).into(),
                                exp,
                                e.author.clone(),
                                e.reason.clone(),
                            ]
                        })
                        .collect(),
                ),
            }
            Ok(())
        }
    }
}

/// Check an action id: a check id or STANDARD/CONTROL.
pub fn validate_action(catalog: &crate::catalog::Catalog, action: &str) -> Result<(), String> {
    if catalog.check(action).is_some() {
        return Ok(());
    }
    if let Some((s, c)) = action.split_once('/')
        && catalog.standard(s).is_some_and(|st| st.controls.iter().any(|x| x.id == c))
    {
        return Ok(());
    }
    Err(format!("unknown improvement action '{action}': expected a check id or STANDARD/CONTROL"))
}

/// Record an owner and due date.
pub fn assign(env: &Env, a: AssignArgs) -> CliResult {
    let catalog = env.catalog();
    validate_action(&catalog, &a.action).map_err(|e| CliError::input(clean(&e)))?;
    if a.owner.trim().is_empty() {
        return Err(CliError::input("--owner: say who owns it"));
    }
    let due = gov::parse_due(&a.due).map_err(field_error)?;
    let mut store = decision_store(env)?;
    let asg = Assignment {
        id: 0,
        action: a.action.clone(),
        owner: a.owner.trim().to_string(),
        due,
        author: env.config.attester(),
        created_at: Utc::now(),
    };
    let id = store.add_assignment(&asg)?;
    print_notices(&mut store);
    say(&format!("assignment {id}: {} → {} due {due}", a.action, asg.owner));
    Ok(())
}

/// Revoke a record.
pub fn revoke(env: &Env, a: RevokeArgs) -> CliResult {
    let kind: RecordKind = a.kind.parse().map_err(|e: String| CliError::input(clean(&e)))?;
    if a.reason.trim().is_empty() {
        return Err(CliError::input("--reason: say why it is revoked"));
    }
    let mut store = decision_store(env)?;
    store.revoke(kind, a.id, &env.config.attester(), a.reason.trim(), Utc::now())?;
    print_notices(&mut store);
    println!("{} {} revoked", kind.as_str(), a.id);
    Ok(())
}
