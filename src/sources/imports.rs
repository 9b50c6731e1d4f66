//! The pass that reads other tools' files (Prowler, Security Hub, Defender) for their
//! findings, beside the inventory pass. A file is told by its first record (or its CSV
//! header), or forced by its source's prefix (`prowler:PATH`); other files are left to the
//! inventory pass.

use super::external::{Imports, Tool, tool_of};
use super::files::with_input;
use super::{Limits, SourceError, SourceSpec, detect, files};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the pass found in one source.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Files read as another tool's output.
    pub files: usize,
    /// Findings imported.
    pub findings: usize,
    /// Files that failed.
    pub errors: Vec<SourceError>,
    /// Records left out or cut.
    pub warnings: Vec<SourceError>,
}

/// The longest CSV header looked at when telling Prowler's CSV apart.
const MAX_HEADER: u64 = 64 << 10;

/// The first line of an input (up to [`MAX_HEADER`] bytes).
fn first_line(input: &detect::Input) -> Vec<u8> {
    match input {
        detect::Input::Bytes(b) => {
            let end = memchr::memchr(b'\n', b).unwrap_or(b.len()).min(MAX_HEADER as usize);
            b[..end].to_vec()
        }
        detect::Input::Reader(open) => {
            let mut line = Vec::new();
            if let Ok(r) = open() {
                let _ = BufReader::new(r.take(MAX_HEADER)).read_until(b'\n', &mut line);
            }
            line
        }
    }
}

/// Whether an input is Prowler's CSV (the inventory pass skips it).
pub(super) fn is_prowler_csv(input: &detect::Input) -> bool {
    super::prowler::is_csv_header(&first_line(input))
}

/// Stop reading a file that turned out not to be another tool's: not an error.
const NOT_OURS: &str = "\u{0}not an import";

/// Read one file's findings into `out`; the count of records taken.
fn read_file(
    input: &detect::Input,
    forced: Option<Tool>,
    limits: Limits,
    out: &mut Imports,
    warn: &mut Vec<String>,
) -> Result<usize, String> {
    if is_prowler_csv(input) {
        let before = out.findings.len();
        let w = match input {
            detect::Input::Bytes(b) => super::prowler::read_csv(*b, limits, out)?,
            detect::Input::Reader(open) => {
                super::prowler::read_csv(open().map_err(|e| format!("cannot read: {e}"))?, limits, out)?
            }
        };
        warn.extend(w);
        return Ok(out.findings.len() - before);
    }
    let mut tool = forced;
    let mut n = 0usize;
    let mut taken = 0usize;
    let result = detect::stream(input, limits, &mut |rec| {
        n += 1;
        let Some(v) = rec.value else {
            warn.push(format!("record {n}: skipped: larger than max_record_bytes ({} bytes)", limits.max_record_bytes));
            return Ok(());
        };
        if rec.truncated > 0 {
            warn.push(format!("record {n}: {} strings cut to max_string_bytes", rec.truncated));
        }
        let t = match tool {
            Some(t) => t,
            None => *tool.insert(
                tool_of(&v)
                    .or_else(|| super::defender::is_security_row(&v).then_some(Tool::Defender))
                    .ok_or(NOT_OURS)?,
            ),
        };
        let at = |m: String| format!("record {n}: {m}");
        match t {
            Tool::Prowler if super::prowler::is_ocsf(&v) => super::prowler::read_ocsf(&v, out).map_err(at)?,
            Tool::SecurityHub if super::asff::is_asff(&v) => {
                if !super::asff::read(&v, out).map_err(at)? {
                    return Ok(());
                }
            }
            Tool::Defender if super::defender::is_defender(&v) => super::defender::read(&v, out).map_err(at)?,
            // A forced file (or a mixed one) may hold other records: only the tool's are read.
            _ => return Ok(()),
        }
        taken += 1;
        Ok(())
    });
    match result {
        Err(e) if e == NOT_OURS => Ok(0),
        Err(e) if forced.is_some() || taken > 0 => Err(e),
        // Not JSON, or not another tool's file: the inventory pass reports what it makes of it.
        Err(_) => Ok(0),
        Ok(()) => Ok(taken),
    }
}

/// Read the findings other tools wrote in `specs`, one report per source.
pub fn read_imports(specs: &[SourceSpec], limits: Limits, cancel: &AtomicBool) -> (Imports, Vec<ImportReport>) {
    let mut out = Imports::default();
    let mut reports = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut report = ImportReport::default();
        let forced = match spec {
            SourceSpec::Tool { tool, .. } => Some(*tool),
            _ => None,
        };
        let mut listing_errors = Vec::new();
        for files::SourceFile { name, open, size } in files::list(spec, &mut listing_errors) {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let mut warnings = Vec::new();
            let mut result = Ok(0);
            with_input(open.as_ref(), size, limits.in_memory_bytes, &mut |input| {
                result = read_file(input, forced, limits, &mut out, &mut warnings);
            });
            match result {
                Ok(0) if forced.is_none() => {}
                Ok(n) => {
                    report.files += 1;
                    report.findings += n;
                }
                Err(message) => report.errors.push(SourceError { file: name.clone(), message }),
            }
            report.warnings.extend(warnings.into_iter().map(|message| SourceError { file: name.clone(), message }));
        }
        if forced.is_some() {
            // The inventory pass does not list a tool's source, so its listing errors are told here.
            report.errors.extend(listing_errors);
        }
        reports.push(report);
    }
    (out, reports)
}

/// Whether a record is a finding or summary, never a resource: Defender's regulatory
/// compliance, secure score, metadata and sub-assessment rows (its assessments stay resources).
pub(super) fn not_a_resource(rec: &Value) -> bool {
    super::defender::is_summary(rec)
}

/// Whether the inventory pass leaves this record's file to the import pass: Prowler and
/// Security Hub files hold no resource (Defender's rows stay resources too: posture's own
/// checks read `microsoft.security/assessments`).
pub(super) fn findings_only(first: &Value) -> bool {
    matches!(tool_of(first), Some(Tool::Prowler | Tool::SecurityHub))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared/data").join(rel)
    }

    #[test]
    fn a_folder_of_tool_outputs_is_read_by_content() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["example_output_aws.ocsf.json", "example_output_gcp.csv"] {
            std::fs::copy(data(&format!("prowler/outputs/{f}")), dir.path().join(f)).unwrap();
        }
        let asff = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/securityhub/findings.json");
        std::fs::copy(asff, dir.path().join("hub.json")).unwrap();
        std::fs::write(dir.path().join("inventory.json"), r#"[{"id":"/subscriptions/s/x","type":"a.b/c"}]"#).unwrap();
        let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
        let (imports, reports) = read_imports(&[spec], Limits::default(), &AtomicBool::new(false));
        assert_eq!(reports[0].files, 3, "{:?}", reports[0]);
        assert!(reports[0].errors.is_empty(), "{:?}", reports[0].errors);
        assert_eq!(imports.findings.len(), 5 + 4 + 5, "OCSF, CSV, ASFF (two left out)");
        assert_eq!(reports[0].findings, 14);
    }

    #[test]
    fn a_forced_tool_reports_what_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.json"),
            r#"[{"class_uid":2004,"metadata":{"event_code":"x"},"status_code":"HUH","cloud":{"provider":"aws"}}]"#,
        )
        .unwrap();
        let spec = SourceSpec::Tool { tool: Tool::Prowler, path: dir.path().into() };
        let (imports, reports) = read_imports(&[spec], Limits::default(), &AtomicBool::new(false));
        assert!(imports.findings.is_empty());
        assert!(reports[0].errors[0].message.contains("record 1: status 'HUH'"), "{:?}", reports[0].errors);
    }

    #[test]
    fn a_resource_graph_page_that_starts_with_a_pricing_still_yields_its_assessments() {
        let dir = tempfile::tempdir().unwrap();
        let st = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
        let page = serde_json::json!({"count": 2, "data": [
            {"id": "/subscriptions/s/providers/Microsoft.Security/pricings/VirtualMachines", "name": "VirtualMachines",
             "type": "microsoft.security/pricings", "subscriptionId": "s", "properties": {"pricingTier": "Standard"}},
            {"id": format!("{st}/providers/Microsoft.Security/assessments/a1"), "name": "a1",
             "type": "microsoft.security/assessments", "subscriptionId": "s",
             "properties": {"resourceDetails": {"Source": "Azure", "Id": st}, "displayName": "Restrict network access",
                            "status": {"code": "Unhealthy"}}}
        ]});
        std::fs::write(dir.path().join("page.json"), page.to_string()).unwrap();
        let spec = SourceSpec::Path { path: dir.path().into(), cloud: None };
        let (imports, reports) = read_imports(&[spec], Limits::default(), &AtomicBool::new(false));
        assert!(reports[0].errors.is_empty(), "{:?}", reports[0].errors);
        assert_eq!(imports.findings.len(), 1, "the assessment, not the pricing");
        assert_eq!(imports.findings[0].check, "defender.a1");
    }
}
