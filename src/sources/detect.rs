//! Tell formats apart by content, and split a file into records.

use serde_json::Value;

/// The export formats posture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Resource Graph rows or ARM resources.
    Azure,
    /// AWS Config configuration items.
    Aws,
    /// Cloud Asset Inventory assets.
    Gcp,
}

/// The records of a file: a JSON array, an envelope (`data`, `value`, `configurationItems`),
/// a single object, or newline-delimited JSON.
pub fn records(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => Ok(unwrap_envelope(v)),
        Err(whole) => {
            // Newline-delimited JSON: every non-empty line is one object.
            let mut out = Vec::new();
            for (i, line) in trimmed.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(v) if v.is_object() => out.push(v),
                    _ if i == 0 || out.is_empty() => {
                        return Err(format!(
                            "invalid JSON at line {}, column {}: {whole}",
                            whole.line(),
                            whole.column()
                        ));
                    }
                    Ok(_) => return Err(format!("line {}: expected a JSON object", i + 1)),
                    Err(e) => return Err(format!("line {}: invalid JSON: {e}", i + 1)),
                }
            }
            Ok(out)
        }
    }
}

fn unwrap_envelope(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        Value::Object(mut m) => {
            for key in ["data", "value", "configurationItems"] {
                if matches!(m.get(key), Some(Value::Array(_)))
                    && let Some(Value::Array(items)) = m.remove(key)
                {
                    return items;
                }
            }
            vec![Value::Object(m)]
        }
        other => vec![other],
    }
}

/// Which format a record follows, or None.
pub fn format_of(record: &Value) -> Option<Format> {
    let o = record.as_object()?;
    if o.contains_key("resourceType")
        && (o.contains_key("configuration") || o.contains_key("awsRegion") || o.contains_key("accountId"))
    {
        return Some(Format::Aws);
    }
    if o.contains_key("asset_type") || o.contains_key("assetType") {
        return Some(Format::Gcp);
    }
    let id = o.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let rtype = o.get("type").and_then(|v| v.as_str()).unwrap_or_default();
    if id.to_ascii_lowercase().starts_with("/subscriptions/") || (rtype.contains('/') && rtype.contains('.')) {
        return Some(Format::Azure);
    }
    None
}
