//! The normalized resource every reader builds: its document from the cloud's own parts.

use crate::model::{Resource, ResourceRef};
use serde_json::{Map, Value};

/// Build a resource from its parts; `extra` fields are added to the document.
pub(crate) fn build(
    meta: ResourceRef,
    resource_group: String,
    tags: Map<String, Value>,
    properties: Value,
    extra: Vec<(&str, Value)>,
) -> Resource {
    let mut doc = Map::new();
    doc.insert("id".into(), Value::String(meta.id.clone()));
    doc.insert("cloud".into(), Value::String(meta.cloud.to_string()));
    doc.insert("type".into(), Value::String(meta.rtype.clone()));
    doc.insert("name".into(), Value::String(meta.name.clone()));
    doc.insert("scope".into(), Value::String(meta.scope.clone()));
    doc.insert("region".into(), Value::String(meta.region.clone()));
    doc.insert("resource_group".into(), Value::String(resource_group));
    doc.insert("tags".into(), Value::Object(tags));
    doc.insert("properties".into(), if properties.is_object() { properties } else { Value::Object(Map::new()) });
    for (k, v) in extra {
        doc.insert(k.into(), v);
    }
    Resource { meta: meta.into(), doc: Value::Object(doc) }
}

/// Tags as a string map, whatever shape they came in (object, or list of key/value pairs).
pub(crate) fn tag_map(v: Option<Value>) -> Map<String, Value> {
    let mut out = Map::new();
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.insert(k, Value::String(scalar_string(&v)));
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let k = item.get("key").or_else(|| item.get("Key")).map(scalar_string);
                let v = item.get("value").or_else(|| item.get("Value")).map(scalar_string);
                if let (Some(k), Some(v)) = (k, v) {
                    out.insert(k, Value::String(v));
                }
            }
        }
        _ => {}
    }
    out
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A string field of an object, or "".
pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default().to_string()
}
