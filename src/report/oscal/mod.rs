//! OSCAL 1.1.3 documents of a report, for GRC tools: the Assessment Results ([`ar`]) and the
//! Plan of Action and Milestones ([`poam`]). Both are JSON valid against NIST's schema; the
//! mapping is documented in docs/reports.md. Every id is a v5 UUID derived from what it names
//! ([`common::Ids`]), so rendering the same run again gives the same ids.

pub mod ar;
pub mod common;
mod observe;
pub mod poam;

use super::Report;

/// Which OSCAL document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OscalModel {
    /// assessment-results.
    AssessmentResults,
    /// plan-of-action-and-milestones.
    PlanOfAction,
}

/// `report` as the OSCAL document `model`, pretty-printed JSON. The report's strings are
/// already free of control characters; DEL, C1 and bidi controls are escaped as in every JSON
/// posture prints.
pub fn render(report: &Report, model: OscalModel) -> Result<Vec<u8>, String> {
    let doc = match model {
        OscalModel::AssessmentResults => ar::document(report)?,
        OscalModel::PlanOfAction => poam::document(report)?,
    };
    let text = serde_json::to_string_pretty(&doc).map_err(|e| format!("OSCAL document: {e}"))?;
    let mut bytes = crate::sanitize::json_escaped(text).into_bytes();
    bytes.push(b'\n');
    Ok(bytes)
}
