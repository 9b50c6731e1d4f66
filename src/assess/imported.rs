//! Findings other tools produced (Prowler, Security Hub, Defender), folded into a run beside
//! posture's own. A finding whose tool check a posture check aliases (within its cloud)
//! counts for that check; any other counts for a synthetic check (`prowler.<id>`,
//! `securityhub.<id>`, `defender.<assessment>`) that carries the tool's metadata.
//!
//! Who decides, for one check on one resource: posture's own evaluation when there is one
//! (the imported finding is kept, marked "not counted"); else the first imported finding read
//! (sources in the order given; later ones are kept, marked). Every imported finding that is
//! not healthy, or that did not decide, is stored, so the resource shows both.

use super::results::{BatchOutput, RunResult};
use crate::catalog::{Catalog, Check, ScopeLevel};
use crate::model::{Cloud, Finding, FindingState, ResourceRef};
use crate::sources::external::{DefenderScore, DefenderStandard, ExternalCheck, ExternalFinding, Imports};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Whether `id` names another tool's check (`prowler.`, `securityhub.`, `defender.`).
pub fn is_synthetic(id: &str) -> bool {
    ["prowler.", "securityhub.", "defender."].iter().any(|p| id.starts_with(p))
}

/// One check on one resource: (check id, lowercased resource id).
type Key = (String, String);

/// What a run imported, stored with it: the synthetic checks its findings belong to, and
/// what Defender concluded itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct External {
    /// Synthetic checks with findings in this run.
    pub checks: Vec<ExternalCheck>,
    /// Defender's regulatory compliance standards, per subscription.
    pub standards: Vec<DefenderStandard>,
    /// Defender's secure scores, per subscription.
    pub scores: Vec<DefenderScore>,
    /// Imported findings that decided a check on a resource.
    pub decided: u64,
    /// Imported findings kept beside a decision made by posture or an earlier import.
    pub not_counted: u64,
}

impl External {
    /// Nothing was imported.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.standards.is_empty() && self.scores.is_empty() && self.decided == 0
    }

    /// A synthetic check by id.
    pub fn check(&self, id: &str) -> Option<&ExternalCheck> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// The posture checks each imported finding answers for, and posture's own states of those
/// (check, resource) pairs as the engine judges them.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    /// Per imported finding: the posture checks it counts for, each with the resource it
    /// judges there (the scope itself for a scope check); empty: its synthetic check.
    targets: Vec<Vec<(String, ResourceRef)>>,
    wanted: HashSet<Key>,
    own: HashMap<Key, FindingState>,
}

fn key(check: &str, resource: &str) -> Key {
    (check.to_string(), resource.to_ascii_lowercase())
}

impl Claims {
    /// Map `imports` onto the catalog's checks among `selected` (indices).
    pub fn new(catalog: &Catalog, selected: &HashSet<usize>, imports: &Imports) -> Claims {
        let mut by_alias: HashMap<(Cloud, &str), Vec<&Check>> = HashMap::new();
        for (i, c) in catalog.checks.iter().enumerate() {
            if selected.contains(&i) {
                for a in &c.aliases {
                    by_alias.entry((c.cloud, a.as_str())).or_default().push(c);
                }
            }
        }
        let mut claims = Claims::default();
        for f in &imports.findings {
            let mut checks: Vec<&Check> = f
                .prowler_ids
                .iter()
                .flat_map(|p| by_alias.get(&(f.resource.cloud, p.as_str())).into_iter().flatten().copied())
                .collect();
            checks.sort_by(|a, b| a.id.cmp(&b.id));
            checks.dedup_by(|a, b| a.id == b.id);
            let t: Vec<(String, ResourceRef)> =
                checks.into_iter().map(|c| (c.id.clone(), subject(c, &f.resource))).collect();
            for (c, r) in &t {
                claims.wanted.insert(key(c, &r.id));
            }
            claims.targets.push(t);
        }
        claims
    }

    /// Note posture's own state of `check` on `resource`, if an import claims that pair.
    pub(super) fn note(&mut self, check: &str, resource: &str, state: FindingState) {
        if self.wanted.is_empty() {
            return;
        }
        let k = key(check, resource);
        if self.wanted.contains(&k) {
            self.own.insert(k, state);
        }
    }
}

/// What `check` judges for a finding on `r`: the resource, or for a scope check its scope (or
/// the scope's region), as posture's own evaluation names it.
fn subject(check: &Check, r: &ResourceRef) -> ResourceRef {
    match check.over {
        None => r.clone(),
        Some(level) => {
            let region = (level == ScopeLevel::Region && r.region != "global").then_some(r.region.as_str());
            ResourceRef::clone(&super::scope::scope_resource(r.cloud, &r.scope, region).meta)
        }
    }
}

/// Fold `imports` into `result`; the findings and resources to store, and what to keep with
/// the run. Synthetic checks count only when `synthetic` (no standard was selected: they
/// belong to none).
pub fn merge(
    catalog: &Catalog,
    result: &mut RunResult,
    imports: Imports,
    claims: &Claims,
    synthetic: bool,
) -> (BatchOutput, External) {
    let mut out = BatchOutput::default();
    let mut ext = External { standards: imports.standards, scores: imports.scores, ..Default::default() };
    let mut decided_by: HashMap<Key, String> = HashMap::new();
    let mut resources: HashSet<String> = HashSet::new();
    let mut used: BTreeMap<String, ExternalCheck> = BTreeMap::new();
    for (f, targets) in imports.findings.into_iter().zip(&claims.targets) {
        let targets: Vec<(String, ResourceRef)> = if !targets.is_empty() {
            targets.clone()
        } else if synthetic {
            if let Some(c) = imports.checks.get(&f.check) {
                used.entry(c.id.clone()).or_insert_with(|| c.clone());
            }
            vec![(f.check.clone(), f.resource.clone())]
        } else {
            continue;
        };
        for (check, subject) in targets {
            let f = &ExternalFinding { resource: subject, ..f.clone() };
            let k = key(&check, &f.resource.id);
            let note = if let Some(own) = claims.own.get(&k) {
                Some(format!("not counted: posture's own evaluation decided ({own})"))
            } else if let Some(first) = decided_by.get(&k) {
                Some(format!("not counted: {first} decided"))
            } else {
                decided_by.insert(k, f.origin.to_string());
                count(catalog, result, &check, f);
                None
            };
            if note.is_some() {
                ext.not_counted += 1;
            } else {
                ext.decided += 1;
            }
            if note.is_none() && matches!(f.state, FindingState::Healthy | FindingState::NotApplicable) {
                continue;
            }
            if resources.insert(f.resource.id.clone()) {
                out.resources.push(f.resource.clone().into());
            }
            out.findings.push(finding(check, f, note));
        }
    }
    ext.checks = used.into_values().collect();
    (out, ext)
}

/// Count a deciding finding into the run.
fn count(catalog: &Catalog, result: &mut RunResult, check: &str, f: &ExternalFinding) {
    let r: &ResourceRef = &f.resource;
    result.clouds.insert(r.cloud);
    result.scopes.insert((r.cloud, r.scope.clone()));
    result.stats.entry((check.to_string(), r.scope.clone())).or_default().add(f.state);
    // A posture check counts in its security control; another tool's checks in one named
    // after the tool, which posture's secure score leaves out (Defender's own is shown apart).
    let sc = catalog.check(check).map_or_else(|| f.origin.to_string(), |c| c.security_control.clone());
    let e = result.security.entry(sc).or_default();
    match f.state {
        FindingState::Unhealthy | FindingState::Error => e.unhealthy += 1,
        FindingState::Healthy | FindingState::Exempt => e.healthy += 1,
        FindingState::NotApplicable | FindingState::Manual => {}
    }
}

/// The stored finding of an imported result.
fn finding(check: String, f: &ExternalFinding, note: Option<String>) -> Finding {
    let said = f.message.as_deref().map(|m| format!("{}: {m}", f.origin));
    let message = match (note, said) {
        (Some(n), Some(s)) => Some(format!("{n}; {s}")),
        (n, s) => n.or(s).or_else(|| Some(format!("from {} ({})", f.origin, f.tool_check))),
    };
    Finding {
        check,
        state: f.state,
        resource: f.resource.clone().into(),
        evidence: Vec::new(),
        message,
        origin: f.origin,
    }
}

#[cfg(test)]
mod tests {
    use crate::assess::Assessor;
    use crate::catalog::Catalog;
    use crate::model::{FindingState, Origin};
    use crate::sources::SourceSpec;
    use std::sync::atomic::AtomicBool;

    /// An account with a multi-region trail (posture: healthy), and Security Hub's findings
    /// for the same account, one of which says CloudTrail.1 failed.
    fn run(standards: &[String]) -> crate::assess::RunResult {
        let dir = tempfile::tempdir().unwrap();
        let hub = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/securityhub/findings.json");
        std::fs::copy(hub, dir.path().join("hub.json")).unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"configurationItems":[{"resourceType":"AWS::CloudTrail::Trail","resourceId":"main","resourceName":"main",
            "arn":"arn:aws:cloudtrail:eu-west-1:111111111111:trail/main","awsRegion":"eu-west-1","accountId":"111111111111",
            "configurationItemStatus":"OK","configuration":{"isMultiRegionTrail":true}}]}"#,
        )
        .unwrap();
        let cat = Catalog::load(&Catalog::builtin_files());
        let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
        Assessor::new(&cat, standards, vec![]).run(&[spec], chrono::Utc::now(), &AtomicBool::new(false), &mut |_| {})
    }

    #[test]
    fn posture_decides_where_it_judged_and_imports_decide_elsewhere() {
        let r = run(&[]);
        assert!(r.sources[0].errors.is_empty(), "{:?}", r.sources);
        assert_eq!(r.sources[0].imported, 5);
        let totals = r.check_totals();
        let trail = totals["aws.cloudtrail.multi_region"];
        assert_eq!((trail.healthy, trail.unhealthy), (1, 0), "posture's own evaluation decides");
        let kept = r
            .findings
            .iter()
            .find(|f| f.check == "aws.cloudtrail.multi_region" && f.origin == Origin::SecurityHub)
            .expect("the imported finding is kept beside posture's");
        assert_eq!(kept.state, FindingState::Unhealthy);
        assert_eq!(kept.resource.id, "111111111111", "a scope check judges the account");
        assert!(
            kept.message.as_deref().unwrap().starts_with("not counted: posture's own evaluation decided (healthy)")
        );
        assert_eq!(
            totals["aws.s3.account_public_access_block"].healthy, 1,
            "Security Hub decides where posture has nothing"
        );
        // IAM.6 (root hardware MFA) and the Access Analyzer control are posture's scope checks
        // (aws.iam.root_hardware_mfa, aws.accessanalyzer.enabled), judged for the account and
        // region it saw: posture decides, the imports are kept beside.
        assert!(!totals.contains_key("securityhub.IAM.6"), "posture has a check for IAM.6");
        let root_mfa = totals["aws.iam.root_hardware_mfa"];
        assert_eq!(root_mfa.unhealthy, 1, "no credential report was collected: posture's scope check fails");
        assert_eq!(totals["aws.s3.bucket_public_access_block"].exempt, 1, "suppressed in Security Hub");
        let not_counted: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.message.as_deref().is_some_and(|m| m.starts_with("not counted")))
            .map(|f| f.check.as_str())
            .collect();
        assert_eq!(
            not_counted,
            [
                "aws.cloudtrail.multi_region",
                "aws.cloudtrail.multi_region_logging",
                "aws.iam.root_hardware_mfa",
                "aws.accessanalyzer.enabled"
            ]
        );
        assert_eq!((r.external.decided, r.external.not_counted), (2, 4));
    }

    #[test]
    fn synthetic_checks_stay_out_of_selected_standards() {
        let r = run(&["cis-aws-7.0".to_string()]);
        let totals = r.check_totals();
        assert!(!totals.keys().any(|k| k.starts_with("securityhub.")), "{:?}", totals.keys());
        assert!(r.external.checks.is_empty());
    }
}
