//! Azure Resource Graph rows and ARM resources.

use super::{build, str_field, tag_map};
use crate::model::{Cloud, Resource, ResourceRef};
use serde_json::Value;

/// The value that follows `key` in an ARM id path (`/subscriptions/{x}/...`), case-insensitive.
pub(super) fn id_segment(id: &str, key: &str) -> Option<String> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next().map(str::to_string);
        }
    }
    None
}

/// The id of a row [`normalize`] accepts.
pub fn identity(rec: &Value) -> Option<&str> {
    let id = rec.get("id").and_then(Value::as_str).filter(|s| !s.is_empty())?;
    rec.get("type").and_then(Value::as_str).is_some_and(|t| !t.is_empty()).then_some(id)
}

/// Normalize one Azure row.
pub fn normalize(mut rec: Value) -> Result<Resource, String> {
    if !rec.is_object() {
        return Err("expected an ARM resource object".into());
    }
    let id = str_field(&rec, "id");
    let rtype = str_field(&rec, "type").to_ascii_lowercase();
    if id.is_empty() || rtype.is_empty() {
        return Err(
            "a JSON object but not an Azure resource: missing id or type (project both in the Resource Graph query)"
                .into(),
        );
    }
    let name = match str_field(&rec, "name") {
        n if !n.is_empty() => n,
        _ => id.rsplit('/').next().unwrap_or_default().to_string(),
    };
    let scope = match str_field(&rec, "subscriptionId") {
        s if !s.is_empty() => s,
        _ => id_segment(&id, "subscriptions").unwrap_or_default(),
    };
    let resource_group = match str_field(&rec, "resourceGroup") {
        s if !s.is_empty() => s,
        _ => id_segment(&id, "resourceGroups").unwrap_or_default(),
    };
    let region = match str_field(&rec, "location") {
        s if !s.is_empty() => s,
        _ => "global".into(),
    };
    let obj = rec.as_object_mut().ok_or("expected an object")?;
    let tags = tag_map(obj.remove("tags"));
    let properties = obj.remove("properties").unwrap_or(Value::Null);
    let mut extra = Vec::new();
    for key in ["sku", "kind", "identity", "zones", "managedBy", "plan"] {
        if let Some(v) = obj.remove(key)
            && !v.is_null()
        {
            extra.push((key, v));
        }
    }
    let meta = ResourceRef { id, name, rtype, cloud: Cloud::Azure, scope, region };
    Ok(build(meta, resource_group, tags, properties, extra))
}
