//! Printing: JSON as documented, tables for people (untrusted text cleaned).

use crate::sanitize::clean;
use comfy_table::{ContentArrangement, Table, presets};

pub use super::FormatArg as Format;

/// Print a value as pretty JSON.
pub fn json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{}", crate::sanitize::json_escaped(s)),
        Err(e) => eprintln!("error: cannot encode JSON: {e}"),
    }
}

/// Print rows under a header as aligned columns.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(header.iter().map(|h| h.to_string()));
    for r in rows {
        t.add_row(r.into_iter().map(|c| clean(&c).into_owned()));
    }
    // comfy-table pads with a leading space; trim each line's end for tidy output.
    for line in t.to_string().lines() {
        println!("{}", line.strip_prefix(' ').unwrap_or(line).trim_end());
    }
}

/// `12.5 %`.
pub fn pct(v: f64) -> String {
    format!("{v:.1} %")
}
