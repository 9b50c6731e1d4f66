//! Prowler mutelist YAML → exemptions. Entries posture cannot express faithfully (tag
//! conditions, exceptions, checks no posture check answers for) are reported, never widened.

use crate::catalog::Catalog;
use crate::model::Exemption;
use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde_yaml::Value;

/// What an import produced.
#[derive(Debug, Default)]
pub struct MutelistImport {
    /// Exemptions to record.
    pub exemptions: Vec<Exemption>,
    /// Entries not imported, each with the reason.
    pub unmapped: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn glob(pattern: &str) -> Option<Regex> {
    let escaped = regex::escape(pattern).replace("\\*", ".*");
    Regex::new(&format!("^{escaped}$")).ok()
}

/// Map a mutelist file's text to exemptions expiring on `expires`.
pub fn import_mutelist(
    catalog: &Catalog,
    text: &str,
    source: &str,
    author: &str,
    expires: NaiveDate,
    now: DateTime<Utc>,
) -> Result<MutelistImport, String> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("{source}: not YAML: {e}"))?;
    let accounts = doc
        .get("Mutelist")
        .and_then(|m| m.get("Accounts"))
        .and_then(|a| a.as_mapping())
        .ok_or_else(|| format!("{source}: expected a top-level Mutelist: Accounts: mapping"))?;
    let mut out = MutelistImport::default();
    for (account, body) in accounts {
        let account = account.as_str().unwrap_or_default().to_string();
        let Some(checks) = body.get("Checks").and_then(|c| c.as_mapping()) else {
            out.unmapped.push(format!("account '{account}': no Checks"));
            continue;
        };
        for (check, rule) in checks {
            let check = check.as_str().unwrap_or_default().to_string();
            let what = format!("account '{account}', check '{check}'");
            if !strings(rule.get("Tags")).is_empty() {
                out.unmapped
                    .push(format!("{what}: tag conditions cannot be expressed as posture exemptions; not imported"));
                continue;
            }
            if rule.get("Exceptions").is_some_and(|e| !e.is_null()) {
                out.unmapped
                    .push(format!("{what}: exceptions cannot be expressed as posture exemptions; not imported"));
                continue;
            }
            let Some(re) = glob(&check) else {
                out.unmapped.push(format!("{what}: not a valid check pattern"));
                continue;
            };
            let targets: Vec<String> = catalog
                .checks
                .iter()
                .filter(|c| c.aliases.iter().any(|a| re.is_match(a)) || (check != "*" && re.is_match(&c.id)))
                .map(|c| c.id.clone())
                .collect();
            if targets.is_empty() {
                out.unmapped.push(format!("{what}: no posture check answers for it"));
                continue;
            }
            let resources = strings(rule.get("Resources"));
            let pattern = if resources.is_empty() || resources.iter().any(|r| r == "*") {
                None
            } else {
                let alt = resources.iter().map(|r| format!("(?:{r})")).collect::<Vec<_>>().join("|");
                if Regex::new(&alt).is_err() {
                    out.unmapped.push(format!("{what}: resource patterns are not valid regular expressions"));
                    continue;
                }
                Some(alt)
            };
            let regions: Vec<String> = strings(rule.get("Regions")).into_iter().filter(|r| r != "*").collect();
            let description = rule.get("Description").and_then(|d| d.as_str()).unwrap_or("").trim().to_string();
            let reason = if description.is_empty() {
                format!("imported from Prowler mutelist {source}")
            } else {
                format!("{description} (Prowler mutelist {source})")
            };
            for t in targets {
                out.exemptions.push(Exemption {
                    id: 0,
                    check: t,
                    resource: None,
                    resource_pattern: pattern.clone(),
                    scope: Some(account.clone()).filter(|a| a != "*"),
                    regions: regions.clone(),
                    category: "waiver".into(),
                    reason: reason.clone(),
                    author: author.to_string(),
                    created_at: now,
                    expires,
                });
            }
        }
    }
    Ok(out)
}
