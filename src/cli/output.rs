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

/// A stored RFC 3339 time as a person reads it (`2026-12-01 19:36 UTC`); the text itself when
/// it does not parse.
pub fn when(stored: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => crate::sanitize::clean(stored).into_owned(),
    }
}

#[cfg(test)]
mod when_tests {
    #[test]
    fn stored_times_lose_their_nanoseconds_and_say_utc() {
        assert_eq!(super::when("2026-12-01T19:36:22.781809235+00:00"), "2026-12-01 19:36 UTC");
        assert_eq!(super::when("2026-12-01T20:36:22+01:00"), "2026-12-01 19:36 UTC");
        assert_eq!(super::when("yesterday"), "yesterday");
    }
}
