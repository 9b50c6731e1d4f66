//! CSV: one row per control and one per failing resource, `;`-separated with the columns of
//! Prowler's per-framework compliance CSV first (where they mean the same thing), so existing
//! spreadsheets keep working, then posture's own.

use super::model::{ControlReport, Report, evidence_line};
use crate::model::ControlState;
use std::io::Write;

/// The header, in order: Prowler's compliance columns, then posture's.
pub const COLUMNS: &[&str] = &[
    "PROVIDER",
    "DESCRIPTION",
    "ACCOUNTID",
    "REGION",
    "ASSESSMENTDATE",
    "REQUIREMENTS_ID",
    "REQUIREMENTS_DESCRIPTION",
    "REQUIREMENTS_ATTRIBUTES_SECTION",
    "STATUS",
    "STATUSEXTENDED",
    "RESOURCEID",
    "RESOURCENAME",
    "CHECKID",
    "MUTED",
    "FRAMEWORK",
    "VERSION",
    "RUN_ID",
    "ROW",
    "SEVERITY",
    "HEALTHY",
    "UNHEALTHY",
    "NOT_LISTED",
    "OWNER",
    "DUE_DATE",
];

/// Prowler's status word where it means the same; posture's state otherwise.
pub fn status_word(s: ControlState) -> &'static str {
    match s {
        ControlState::Passed => "PASS",
        ControlState::Failed => "FAIL",
        ControlState::Manual => "MANUAL",
        ControlState::Skipped => "SKIPPED",
        ControlState::Unsupported => "UNSUPPORTED",
    }
}

/// Cells that a spreadsheet would run as a formula are prefixed with `'` (CSV injection).
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

/// Write the report as CSV.
pub fn write(r: &Report, out: &mut dyn Write) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(COLUMNS)?;
    let clouds: Vec<&str> = {
        let mut v: Vec<&str> = r.scopes.iter().map(|s| s.cloud.as_str()).collect();
        v.dedup();
        v
    };
    let provider = clouds.join(",");
    let date = r.run.started_at.as_str();
    for (section, c) in r.controls() {
        let action = r.actions.iter().find(|a| a.id == format!("{}/{}", r.standard.id, c.id));
        let not_listed: u64 = c.checks.iter().map(|k| k.more).sum();
        let row = [
            provider.as_str(),
            &r.standard.description,
            "",
            "",
            date,
            &c.id,
            &c.title,
            &section.name,
            status_word(c.state),
            &control_extended(c),
            "",
            "",
            &c.checks.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(","),
            "False",
            &r.standard.id,
            &r.standard.version,
            &r.run.id.to_string(),
            "control",
            "",
            &c.healthy.to_string(),
            &c.unhealthy.to_string(),
            &not_listed.to_string(),
            action.and_then(|a| a.owner.as_deref()).unwrap_or(""),
            &action.and_then(|a| a.due).map(|d| d.to_string()).unwrap_or_default(),
        ];
        w.write_record(row.iter().map(|s| cell(s)))?;
        for k in &c.checks {
            let action = r.actions.iter().find(|a| a.id == k.id);
            for f in &k.failing {
                let row = [
                    f.resource.cloud.as_str(),
                    &r.standard.description,
                    &f.resource.scope,
                    &f.resource.region,
                    date,
                    &c.id,
                    &c.title,
                    &section.name,
                    "FAIL",
                    &evidence_line(f),
                    &f.resource.id,
                    &f.resource.name,
                    &k.id,
                    "False",
                    &r.standard.id,
                    &r.standard.version,
                    &r.run.id.to_string(),
                    "resource",
                    k.severity.as_str(),
                    "",
                    "",
                    "",
                    action.and_then(|a| a.owner.as_deref()).unwrap_or(""),
                    &action.and_then(|a| a.due).map(|d| d.to_string()).unwrap_or_default(),
                ];
                w.write_record(row.iter().map(|s| cell(s)))?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn control_extended(c: &ControlReport) -> String {
    match (&c.attestation, &c.reason) {
        (Some(a), _) => format!("attested {a}"),
        (None, Some(why)) => why.clone(),
        (None, None) => format!("{} healthy, {} unhealthy over {} checks", c.healthy, c.unhealthy, c.checks.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("storage1"), "storage1");
    }
}
