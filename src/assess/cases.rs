//! Test cases of checks: native export records with the state a check must give them, run
//! through the same readers and engine as a real run (`posture checks test`).
//!
//! A case file is `*.cases.json` in a standards directory (the shipped ones are embedded): a JSON
//! array of cases, each `{"check", "case", "want", "records", "subject"?, "evidence"?}`. See
//! docs/checks.md.

use super::Assessor;
use crate::catalog::Catalog;
use crate::model::FindingState;
use crate::sources::{SourceSpec, read_all};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One case as written in a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The check it tests.
    pub check: String,
    /// What it shows, in a few words.
    pub case: String,
    /// The state the check must give the subject.
    pub want: FindingState,
    /// Records in the cloud's own export format, as a file of that cloud would hold them.
    pub records: Vec<serde_json::Value>,
    /// The id of the resource judged; default: the only resource of the check's types.
    #[serde(default)]
    pub subject: Option<String>,
    /// Paths the evidence of an unhealthy or error finding must name.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// For a scope check: the subscription / account / project judged (default: the only
    /// scope of the records).
    #[serde(default)]
    pub scope: Option<String>,
    /// For a region-level scope check: the region judged.
    #[serde(default)]
    pub region: Option<String>,
    /// The clock the case runs at (for conditions on ages, `daysSince`); default: now.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// The name of the file the records are written to (default `case-N.json`), for AWS CLI
    /// output whose file name says what the output does not (`<trail>.get-trail-status.json`).
    #[serde(default)]
    pub file: Option<String>,
}

/// The file name a case's records are written to: the case's own `file` when it is a plain
/// `.json` file name (no folders: the scope and region folders are the runner's).
fn records_file_name(case: &Case, i: usize) -> Result<String, String> {
    match &case.file {
        None => Ok(format!("case-{i}.json")),
        Some(f) if f.ends_with(".json") && !f.starts_with('.') && !f.contains(['/', '\\']) => Ok(f.clone()),
        Some(f) => Err(format!("`file` must be a plain .json file name, not '{}'", crate::sanitize::clean(f))),
    }
}

/// A case and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// The case.
    pub case: Case,
    /// `file` (for messages).
    pub file: String,
}

/// A case that did not give what it wants.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFailure {
    /// The case's description (and file).
    pub case: String,
    /// What it wants.
    pub want: String,
    /// What the check gave (or why it could not run).
    pub got: String,
}

/// The cases of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckCases {
    /// Check id.
    pub check: String,
    /// Cases run.
    pub cases: usize,
    /// Cases that gave what they want.
    pub passed: usize,
    /// Cases that did not.
    pub failed: usize,
    /// Which, and why.
    pub failures: Vec<CaseFailure>,
    /// States the passing cases covered (a check is tested when healthy and unhealthy are).
    #[serde(skip)]
    pub covered: Vec<FindingState>,
}

impl CheckCases {
    /// A check with no case run yet.
    fn none(check: &str) -> CheckCases {
        CheckCases { check: check.to_string(), cases: 0, passed: 0, failed: 0, failures: vec![], covered: vec![] }
    }
}

/// The shipped case files (embedded), as (name, text).
pub fn builtin_case_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect(&crate::embedded::STANDARDS, &mut out);
    out.sort();
    out
}

fn collect(dir: &include_dir::Dir<'static>, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        if is_case_file(f.path())
            && let Some(text) = f.contents_utf8()
        {
            out.push((format!("standards/{}", f.path().display()), text.to_string()));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

fn is_case_file(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".cases.json"))
}

/// Every case file below `path` (or `path` itself), as (name, text); unreadable ones are errors.
pub fn case_files_in(path: &Path) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let files: Vec<PathBuf> = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && is_case_file(e.path()))
            .map(|e| e.into_path())
            .collect()
    };
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        out.push((f.display().to_string(), text));
    }
    Ok(out)
}

/// Parse case files; a file that does not parse is an error naming its line.
pub fn parse_case_files(files: &[(String, String)]) -> Result<Vec<LoadedCase>, String> {
    let mut out = Vec::new();
    for (name, text) in files {
        let cases: Vec<Case> =
            serde_json::from_str(text).map_err(|e| format!("{name}:{}:{}: {e}", e.line(), e.column()))?;
        out.extend(cases.into_iter().map(|case| LoadedCase { case, file: name.clone() }));
    }
    Ok(out)
}

/// Run `cases` against `catalog`, grouped by check (every check of the catalog appears, with
/// zero cases when it has none). A case naming an unknown check is a failure of that id.
pub fn run_cases(catalog: &Catalog, cases: &[LoadedCase], now: DateTime<Utc>) -> Vec<CheckCases> {
    let mut by_check: BTreeMap<String, CheckCases> = catalog
        .checks
        .iter()
        .map(|c| {
            let empty = CheckCases::none(&c.id);
            (c.id.clone(), empty)
        })
        .collect();
    let assessor = Assessor::new(catalog, &[], Vec::new());
    let scratch = tempfile::tempdir().ok();
    for (i, lc) in cases.iter().enumerate() {
        let entry = by_check.entry(lc.case.check.clone()).or_insert_with(|| CheckCases::none(&lc.case.check));
        entry.cases += 1;
        let outcome = match &scratch {
            Some(dir) => {
                let at = lc.case.now.unwrap_or(now);
                // AWS CLI outputs take their account and region from the folders
                // (`<account>/<region>/`): a case that names its scope gets them.
                let folder = match &lc.case.scope {
                    Some(s) if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                        dir.path().join(format!("case-{i}")).join(s).join(lc.case.region.as_deref().unwrap_or("global"))
                    }
                    _ => dir.path().to_path_buf(),
                };
                match (std::fs::create_dir_all(&folder), records_file_name(&lc.case, i)) {
                    (Ok(()), Ok(name)) => judge_case(catalog, &assessor, &lc.case, &folder.join(name), at),
                    (Err(e), _) => Err(format!("cannot create a scratch folder for the case's records: {e}")),
                    (_, Err(e)) => Err(e),
                }
            }
            None => Err("cannot create a scratch folder for the case's records".into()),
        };
        match outcome {
            Ok(()) => {
                entry.passed += 1;
                entry.covered.push(lc.case.want);
            }
            Err(got) => {
                entry.failed += 1;
                entry.failures.push(CaseFailure {
                    case: format!("{} ({})", lc.case.case, lc.file),
                    want: lc.case.want.as_str().to_string(),
                    got,
                });
            }
        }
    }
    by_check.into_values().collect()
}

/// Judge one case: Ok when the check gives what it wants, else what it gave.
fn judge_case(
    catalog: &Catalog,
    assessor: &Assessor,
    case: &Case,
    scratch: &Path,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let check = catalog.check(&case.check).ok_or_else(|| format!("no check '{}' in the catalog", case.check))?;
    // The records go through the real readers, as a file of the check's cloud.
    let text = serde_json::to_string(&case.records).map_err(|e| e.to_string())?;
    let graph_file;
    let scratch = if case.records.iter().any(crate::sources::is_graph_record) {
        graph_file = graph_scratch(scratch, case.scope.as_deref())?;
        graph_file.as_path()
    } else {
        scratch
    };
    std::fs::write(scratch, text).map_err(|e| format!("writing the case's records: {e}"))?;
    let spec = SourceSpec::Path { path: scratch.to_path_buf(), cloud: Some(check.cloud) };
    let (resources, report) = read_all(&spec);
    if let Some(e) = report.errors.first() {
        return Err(format!("the records do not read: {}", e.message));
    }
    let scope_subject;
    let subject = match &case.subject {
        _ if check.over.is_some() => {
            let mut scopes: Vec<&str> = resources.iter().map(|r| r.meta.scope.as_str()).collect();
            scopes.sort();
            scopes.dedup();
            let scope = match (&case.scope, scopes.as_slice()) {
                (Some(s), _) => s.as_str(),
                (None, [only]) => only,
                (None, _) => {
                    return Err("a scope check's case names its `scope` unless the records have exactly one".into());
                }
            };
            scope_subject = super::scope_subject(check.cloud, scope, case.region.as_deref());
            &scope_subject
        }
        Some(id) => resources.iter().find(|r| &r.meta.id == id).ok_or_else(|| format!("no resource with id '{id}'"))?,
        None => {
            let mut of_type = resources.iter().filter(|r| check.resource_types.contains(&r.meta.rtype));
            match (of_type.next(), of_type.next()) {
                (Some(r), None) => r,
                (None, _) => return Err(format!("no resource of the check's types {:?}", check.resource_types)),
                (Some(_), Some(_)) => return Err("several resources of the check's types: name the `subject`".into()),
            }
        }
    };
    let judged = assessor.judge(subject, &resources, now);
    let got = judged.iter().find(|(id, _, _)| id == &case.check);
    let Some((_, state, finding)) = got else {
        return Err(format!("the check does not assess {} resources", subject.meta.rtype));
    };
    if *state != case.want {
        let why = finding
            .as_ref()
            .map(|f| {
                let ev: Vec<String> = f.evidence.iter().map(|e| format!("{} = {}", e.path, e.value)).collect();
                f.message.clone().unwrap_or_else(|| ev.join("; "))
            })
            .unwrap_or_default();
        return Err(if why.is_empty() { state.as_str().to_string() } else { format!("{}: {why}", state.as_str()) });
    }
    for path in &case.evidence {
        let named = finding.as_ref().is_some_and(|f| f.evidence.iter().any(|e| names(&e.path, path)));
        if !named {
            return Err(format!("{}, but the evidence does not name {path}", state.as_str()));
        }
    }
    Ok(())
}

/// Whether evidence at `got` names the path a case expects: the path itself, or an element of
/// the list at that path (`properties.securityRules[3]` names `properties.securityRules`).
fn names(got: &str, want: &str) -> bool {
    got == want || got.strip_prefix(want).is_some_and(|rest| rest.starts_with('['))
}

/// Where a case of Microsoft Graph records is written: below `entra/<tenant>/`, the layout that
/// names a Graph file's tenant; the case's `scope` is the tenant.
fn graph_scratch(scratch: &Path, tenant: Option<&str>) -> Result<PathBuf, String> {
    let tenant = tenant
        .filter(|t| !t.is_empty() && *t != "." && *t != ".." && !t.contains(['/', '\\']))
        .ok_or("a case of Microsoft Graph records names its tenant in `scope`")?;
    let dir = scratch.with_extension("").join("entra").join(tenant);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating the case's tenant folder: {e}"))?;
    Ok(dir.join("records.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(file: Option<&str>) -> Case {
        let mut v = serde_json::json!({"check": "c", "case": "x", "want": "healthy", "records": []});
        if let Some(f) = file {
            v["file"] = f.into();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_case_names_its_records_file_only_as_a_plain_json_name() {
        assert_eq!(records_file_name(&case(None), 3).unwrap(), "case-3.json");
        assert_eq!(records_file_name(&case(Some("t.get-trail-status.json")), 3).unwrap(), "t.get-trail-status.json");
        for bad in ["../x.json", "a/b.json", "a\\b.json", ".json", "x.txt"] {
            assert!(records_file_name(&case(Some(bad)), 0).unwrap_err().contains("plain .json file name"), "{bad}");
        }
    }
}
