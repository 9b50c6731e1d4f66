//! AWS Config configuration items (versions 1.0–1.3), alone, in arrays or in snapshots.

use super::{build, str_field, tag_map};
use crate::model::{Cloud, Resource, ResourceRef};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// What a record that is not a configuration item is told.
const NOT_AN_ITEM: &str = "a JSON object but not an AWS Config configuration item";

/// The id a configuration item is known by: its ARN (older items spell it `ARN`), else its
/// resource id; "" when it has neither.
pub fn id_of(rec: &Value) -> &str {
    ["arn", "ARN", "resourceId"]
        .iter()
        .filter_map(|k| rec.get(*k).and_then(Value::as_str))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// The identity of a configuration item [`normalize`] accepts (deleted ones too: a deletion
/// newer than the item replaces it): its id and capture time in ms.
pub fn identity(rec: &Value) -> Option<(&str, Option<i64>)> {
    let id = id_of(rec);
    let typed = rec.get("resourceType").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
    let time = rec.get("configurationItemCaptureTime").and_then(Value::as_str).and_then(super::dedupe::millis);
    (typed && !id.is_empty()).then_some((id, time))
}

/// Normalize one configuration item; deleted resources yield None.
pub fn normalize(mut rec: Value) -> Result<Option<Resource>, String> {
    if !rec.is_object() {
        return Err("expected an AWS Config configuration item object".into());
    }
    let status = str_field(&rec, "configurationItemStatus");
    if status.starts_with("ResourceDeleted") {
        return Ok(None);
    }
    let rtype = str_field(&rec, "resourceType");
    if rtype.is_empty() {
        return Err(format!("{NOT_AN_ITEM}: missing resourceType"));
    }
    let resource_id = str_field(&rec, "resourceId");
    let id = id_of(&rec).to_string();
    if id.is_empty() {
        return Err(format!("{NOT_AN_ITEM}: missing arn and resourceId"));
    }
    let name = match str_field(&rec, "resourceName") {
        n if !n.is_empty() => n,
        _ => resource_id,
    };
    let scope = match str_field(&rec, "accountId") {
        a if !a.is_empty() => a,
        _ => str_field(&rec, "awsAccountId"),
    };
    let region = match str_field(&rec, "awsRegion") {
        r if !r.is_empty() => r,
        _ => "global".into(),
    };
    let obj = rec.as_object_mut().ok_or("expected an object")?;
    let tags = tag_map(obj.remove("tags"));
    let mut configuration = obj.remove("configuration").unwrap_or(Value::Null);
    if let Value::String(s) = &configuration {
        // Some delivery channels send the configuration as a JSON string.
        configuration = serde_json::from_str(s).unwrap_or(Value::Null);
    }
    decode_documents(&mut configuration);
    let mut supplementary = match obj.remove("supplementaryConfiguration") {
        Some(Value::Object(m)) => Value::Object(m),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(m) = &mut supplementary {
        for v in m.values_mut() {
            if let Value::String(s) = v {
                let t = s.trim_start();
                if (t.starts_with('{') || t.starts_with('['))
                    && let Ok(parsed) = serde_json::from_str::<Value>(t)
                {
                    *v = parsed;
                }
            }
        }
    }
    decode_documents(&mut supplementary);
    let relationships = match obj.remove("relationships") {
        Some(v @ Value::Array(_)) => v,
        _ => Value::Array(Vec::new()),
    };
    let meta = ResourceRef { id, name, rtype, cloud: Cloud::Aws, scope, region };
    Ok(Some(build(
        meta,
        String::new(),
        tags,
        configuration,
        vec![("supplementary", supplementary), ("relationships", relationships)],
    )))
}

/// Policy documents arrive URL-encoded or as JSON strings; turn them into objects.
fn decode_documents(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                let is_doc = k.ends_with("Document") || k == "policyText" || k == "keyPolicy" || k == "Policy";
                if is_doc
                    && let Value::String(s) = child
                    && let Some(parsed) = decode_policy(s)
                {
                    *child = parsed;
                    continue;
                }
                decode_documents(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(decode_documents),
        _ => {}
    }
}

fn decode_policy(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.starts_with('{') {
        return serde_json::from_str(t).ok();
    }
    if t.starts_with("%7B") || t.starts_with("%7b") {
        let decoded = percent_decode_str(t).decode_utf8().ok()?;
        return serde_json::from_str(&decoded.replace('+', " ")).ok().or_else(|| serde_json::from_str(&decoded).ok());
    }
    None
}
