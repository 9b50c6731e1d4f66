//! Reports of one standard over one run, for auditors (PDF, HTML), spreadsheets (CSV),
//! tickets (Markdown), GRC tools (OSCAL) and SIEMs (OCSF events). [`build`] reads the store
//! once into a bounded [`Report`]; each format module renders it.

mod build;
pub mod chart;
pub mod csv;
pub mod html;
pub mod markdown;
mod model;
pub mod ocsf;
pub mod oscal;
mod output;
pub mod pdf;
pub mod sarif;

pub use build::{ReportRequest, build};
pub use model::*;
pub use output::{ReportFormat, render, write_file, write_file_with};
