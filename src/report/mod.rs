//! Reports of one standard over one run, for auditors (PDF, HTML), spreadsheets (CSV) and
//! tickets (Markdown), and OCSF events for SIEMs. [`build`] reads the store once into a bounded [`Report`]; each format
//! module renders it.

mod build;
pub mod chart;
pub mod csv;
pub mod html;
pub mod markdown;
mod model;
pub mod ocsf;
mod output;
pub mod pdf;
pub mod sarif;

pub use build::{ReportRequest, build};
pub use model::*;
pub use output::{ReportFormat, render, write_file, write_file_with};
