//! Cloud Asset Inventory assets; a resource record and its IAM policy record are merged.

use super::{build, tag_map};
use crate::model::{Cloud, Resource, ResourceRef};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Collects CAI records by asset name until a source is finished.
#[derive(Default)]
pub struct Merger {
    order: Vec<String>,
    assets: HashMap<String, Map<String, Value>>,
}

impl Merger {
    /// Add one record; fields of a later record with the same name fill in the earlier one.
    pub fn add(&mut self, rec: Value) -> Result<(), String> {
        let Value::Object(mut m) = rec else {
            return Err("expected a Cloud Asset Inventory asset object".into());
        };
        // Accept the camelCase spelling of the API as well as the export's snake_case.
        for (camel, snake) in [("assetType", "asset_type"), ("iamPolicy", "iam_policy"), ("updateTime", "update_time")]
        {
            if let Some(v) = m.remove(camel) {
                m.entry(snake.to_string()).or_insert(v);
            }
        }
        let name = m.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        if name.is_empty() {
            return Err("asset without `name`".into());
        }
        if !m.contains_key("asset_type") {
            return Err(format!("asset '{name}' without `asset_type`"));
        }
        match self.assets.get_mut(&name) {
            Some(existing) => {
                for (k, v) in m {
                    existing.entry(k).or_insert(v);
                }
            }
            None => {
                self.order.push(name.clone());
                self.assets.insert(name, m);
            }
        }
        Ok(())
    }

    /// Normalize every merged asset, in first-seen order.
    pub fn finish(&mut self) -> Vec<Resource> {
        let mut out = Vec::with_capacity(self.order.len());
        for name in std::mem::take(&mut self.order) {
            if let Some(m) = self.assets.remove(&name) {
                out.push(normalize(name, m));
            }
        }
        out
    }
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// `.../projects/{x}/...` in a CAI name or URL.
fn project_in(s: &str) -> Option<String> {
    let mut parts = s.split('/');
    while let Some(p) = parts.next() {
        if p == "projects" {
            return parts.next().filter(|x| !x.is_empty()).map(str::to_string);
        }
    }
    None
}

fn normalize(name: String, mut m: Map<String, Value>) -> Resource {
    let rtype = m.get("asset_type").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let mut resource = match m.remove("resource") {
        Some(Value::Object(r)) => r,
        _ => Map::new(),
    };
    let data = match resource.remove("data") {
        Some(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    };
    let str_of = |v: Option<&Value>| v.and_then(|x| x.as_str()).map(str::to_string);
    let ancestors: Vec<String> = m
        .get("ancestors")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let scope = ancestors
        .iter()
        .find_map(|a| a.strip_prefix("projects/").map(str::to_string))
        .or_else(|| str_of(resource.get("parent")).and_then(|p| project_in(&p)))
        .or_else(|| project_in(&name))
        .or_else(|| str_of(data.get("selfLink")).and_then(|p| project_in(&p)))
        .or_else(|| str_of(data.get("projectId")))
        .or_else(|| str_of(data.get("project")))
        .unwrap_or_else(|| "unknown".into());
    let region = str_of(resource.get("location"))
        .or_else(|| str_of(data.get("location")))
        .or_else(|| str_of(data.get("region")).map(|r| last_segment(&r).to_string()))
        .or_else(|| {
            str_of(data.get("zone")).map(|z| {
                let z = last_segment(&z).to_string();
                // a zone "europe-west1-b" is in region "europe-west1"
                match z.rsplit_once('-') {
                    Some((region, suffix)) if suffix.len() == 1 => region.to_string(),
                    _ => z,
                }
            })
        })
        .map(|r| r.to_ascii_lowercase())
        .unwrap_or_else(|| "global".into());
    let display = str_of(data.get("name"))
        .map(|n| last_segment(&n).to_string())
        .unwrap_or_else(|| last_segment(&name).to_string());
    let tags = tag_map(data.get("labels").cloned());
    let iam = match m.remove("iam_policy") {
        Some(Value::Object(mut p)) => {
            p.entry("bindings").or_insert(Value::Array(Vec::new()));
            Value::Object(p)
        }
        _ => serde_json::json!({"bindings": []}),
    };
    let mut extra = vec![("iam_policy", iam), ("ancestors", Value::from(ancestors))];
    if let Some(p) = m.remove("org_policy") {
        extra.push(("org_policy", p));
    }
    let meta = ResourceRef { id: name, name: display, rtype, cloud: Cloud::Gcp, scope, region };
    build(meta, String::new(), tags, data, extra)
}
