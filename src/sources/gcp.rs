//! Cloud Asset Inventory assets; a resource record and its IAM policy record are merged.

use super::{build, tag_map};
use crate::model::{Cloud, Resource, ResourceRef};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Merges CAI records of the same asset while streaming. A source is read twice: first only
/// the records without resource data (IAM or org policies, exported separately) are kept, then
/// every resource record is emitted at once with what was kept for its name. Memory holds the
/// policy-only records, never the whole estate.
#[derive(Default)]
pub struct Merger {
    pending: HashMap<String, Map<String, Value>>,
    order: Vec<String>,
    emitted: HashSet<String>,
}

/// A record with its keys in the export's snake_case spelling, and its name.
fn prepare(rec: Value) -> Result<(String, Map<String, Value>), String> {
    let Value::Object(mut m) = rec else {
        return Err("expected a Cloud Asset Inventory asset object".into());
    };
    // Accept the camelCase spelling of the API as well as the export's snake_case.
    for (camel, snake) in [
        ("assetType", "asset_type"),
        ("iamPolicy", "iam_policy"),
        ("updateTime", "update_time"),
        ("orgPolicy", "org_policy"),
        ("accessPolicy", "access_policy"),
    ] {
        if let Some(v) = m.remove(camel) {
            m.entry(snake.to_string()).or_insert(v);
        }
    }
    let name = m.get("name").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err("a JSON object but not a Cloud Asset Inventory asset: missing name".into());
    }
    if !m.contains_key("asset_type") {
        return Err(format!("a JSON object but not a Cloud Asset Inventory asset: '{name}' has no asset_type"));
    }
    Ok((name, m))
}

/// The name of a resource record (one with resource data) [`Merger::add`] accepts; None for
/// a policy-only record or one it refuses.
pub fn identity(rec: &Value) -> Option<&str> {
    let name = rec.get("name").and_then(Value::as_str).filter(|s| !s.is_empty())?;
    let typed = rec.get("asset_type").or_else(|| rec.get("assetType")).is_some();
    (typed && rec.get("resource").is_some()).then_some(name)
}

/// Whether a record carries no resource data (an IAM or org policy exported on its own).
pub fn policy_only(rec: &Value) -> bool {
    rec.get("resource").is_none()
}

impl Merger {
    /// First pass: keep a record that carries no resource data, for its resource to pick up.
    pub fn prescan(&mut self, rec: Value) {
        let Ok((name, m)) = prepare(rec) else { return };
        if m.contains_key("resource") {
            return;
        }
        match self.pending.get_mut(&name) {
            Some(existing) => {
                for (k, v) in m {
                    existing.entry(k).or_insert(v);
                }
            }
            None => {
                self.order.push(name.clone());
                self.pending.insert(name, m);
            }
        }
    }

    /// Second pass: a resource record becomes a resource now (with its kept policies); a
    /// policy-only record was kept in the first pass and yields nothing here.
    pub fn add(&mut self, rec: Value) -> Result<Option<Resource>, String> {
        let (name, mut m) = prepare(rec)?;
        if !m.contains_key("resource") {
            return Ok(None);
        }
        if !self.emitted.insert(name.clone()) {
            // The same asset twice (overlapping exports): the first one stands.
            return Ok(None);
        }
        if let Some(extra) = self.pending.remove(&name) {
            for (k, v) in extra {
                m.entry(k).or_insert(v);
            }
        }
        Ok(Some(normalize(name, m)))
    }

    /// A resource record merged with what the first pass kept for its name, leaving the
    /// merger as it was (the related index reads copies before the second pass).
    pub fn merged(&self, rec: Value) -> Result<Option<Resource>, String> {
        let (name, mut m) = prepare(rec)?;
        if !m.contains_key("resource") {
            return Ok(None);
        }
        if let Some(extra) = self.pending.get(&name) {
            for (k, v) in extra {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Ok(Some(normalize(name, m)))
    }

    /// The names of the assets kept so far that have only policy records.
    pub fn pending(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str).filter(|n| self.pending.contains_key(*n))
    }

    /// Assets that only had policy records (no resource record anywhere in the source), except
    /// those `keep` refuses (a copy elsewhere stands for them).
    pub fn finish(&mut self, keep: &dyn Fn(&str) -> bool) -> Vec<Resource> {
        let mut out = Vec::new();
        for name in std::mem::take(&mut self.order) {
            if let Some(m) = self.pending.remove(&name)
                && keep(&name)
                && self.emitted.insert(name.clone())
            {
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
    // An asset above the projects (an organization or folder, or what is set on one, such as
    // its org policies) has no project: its scope is empty, so scope checks, which judge
    // projects, do not invent a project for it.
    let scope = ancestors
        .iter()
        .find_map(|a| a.strip_prefix("projects/").map(str::to_string))
        .or_else(|| str_of(resource.get("parent")).and_then(|p| project_in(&p)))
        .or_else(|| project_in(&name))
        .or_else(|| str_of(data.get("selfLink")).and_then(|p| project_in(&p)))
        .or_else(|| str_of(data.get("projectId")))
        .or_else(|| str_of(data.get("project")))
        .unwrap_or_default();
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
    // Absent when not exported, so a check can tell "not exported" from "none".
    for field in ["org_policy", "access_policy"] {
        if let Some(p) = m.remove(field) {
            extra.push((field, p));
        }
    }
    let meta = ResourceRef { id: name, name: display, rtype, cloud: Cloud::Gcp, scope, region };
    build(meta, String::new(), tags, data, extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Both passes of a source over `records`, in order: what a run yields.
    fn merge(records: &[Value]) -> Vec<Resource> {
        let mut m = Merger::default();
        for r in records {
            m.prescan(r.clone());
        }
        let mut out: Vec<Resource> = records.iter().filter_map(|r| m.add(r.clone()).ok().flatten()).collect();
        out.extend(m.finish(&|_| true));
        out
    }

    fn project() -> Value {
        json!({"name": "//cloudresourcemanager.googleapis.com/projects/345", "asset_type": "cloudresourcemanager.googleapis.com/Project",
               "ancestors": ["projects/345", "folders/2", "organizations/1"],
               "resource": {"version": "v1", "data": {"projectId": "p-345", "projectNumber": "345"}}})
    }

    // The ORG_POLICY record shape of GoogleCloudPlatform/config-validator's validator tests:
    // snake_case keys, `all_values` as the enum's number.
    fn org_policy_record(key: &str) -> Value {
        json!({"name": "//cloudresourcemanager.googleapis.com/projects/345", "asset_type": "cloudresourcemanager.googleapis.com/Project",
               key: [{"constraint": "constraints/compute.disableSerialPortAccess", "boolean_policy": {"enforced": true}},
                     {"constraint": "constraints/serviceuser.services", "list_policy": {"all_values": 1}}]})
    }

    #[test]
    fn org_policy_content_is_merged_into_its_resource_in_either_order() {
        for records in
            [vec![project(), org_policy_record("org_policy")], vec![org_policy_record("org_policy"), project()]]
        {
            let out = merge(&records);
            assert_eq!(out.len(), 1);
            let doc = &out[0].doc;
            assert_eq!(doc["org_policy"][0]["constraint"], "constraints/compute.disableSerialPortAccess");
            assert_eq!(doc["org_policy"][1]["list_policy"]["all_values"], 1);
            assert_eq!(doc["properties"]["projectId"], "p-345");
            assert_eq!(out[0].meta.scope, "345");
        }
    }

    #[test]
    fn the_api_spelling_org_policy_is_read_as_org_policy() {
        let out = merge(&[project(), org_policy_record("orgPolicy")]);
        assert_eq!(out[0].doc["org_policy"][0]["boolean_policy"]["enforced"], true);
        assert!(out[0].doc.get("orgPolicy").is_none());
    }

    #[test]
    fn iam_and_org_policy_records_of_one_asset_both_reach_it() {
        let iam = json!({"name": "//cloudresourcemanager.googleapis.com/projects/345", "asset_type": "cloudresourcemanager.googleapis.com/Project",
                         "iam_policy": {"bindings": [{"role": "roles/viewer", "members": ["group:eng@example.com"]}]}});
        let out = merge(&[iam, project(), org_policy_record("org_policy")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].doc["iam_policy"]["bindings"][0]["role"], "roles/viewer");
        assert_eq!(out[0].doc["org_policy"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn an_access_policy_record_of_the_api_is_read_as_access_policy() {
        let rec = json!({"name": "//accesscontextmanager.googleapis.com/accessPolicies/9", "assetType": "accesscontextmanager.googleapis.com/AccessPolicy",
                         "ancestors": ["organizations/1"],
                         "accessPolicy": {"name": "accessPolicies/9", "parent": "organizations/1", "title": "default"}});
        let out = merge(&[rec]);
        assert_eq!(out[0].doc["access_policy"]["title"], "default");
        assert!(out[0].doc.get("accessPolicy").is_none());
    }

    #[test]
    fn an_organization_is_in_no_project_scope() {
        let org = json!({"name": "//cloudresourcemanager.googleapis.com/organizations/1", "asset_type": "cloudresourcemanager.googleapis.com/Organization",
                         "ancestors": ["organizations/1"],
                         "org_policy": [{"constraint": "constraints/compute.requireOsLogin", "boolean_policy": {"enforced": true}}]});
        let out = merge(&[org]);
        assert_eq!(out[0].meta.scope, "");
        // An empty scope is not a project: scope checks skip it (assess::scope::subjects).
        assert_eq!(out[0].doc["scope"], "");
    }

    #[test]
    fn an_org_policy_alone_is_still_an_asset_and_absence_stays_absent() {
        let out = merge(&[org_policy_record("org_policy")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].doc["properties"], json!({}));
        assert_eq!(out[0].doc["org_policy"][0]["constraint"], "constraints/compute.disableSerialPortAccess");
        // Without ORG_POLICY content the field is missing, not an empty list: a check can tell
        // "not exported" (has() is false) from "exported".
        let out = merge(&[project()]);
        assert!(out[0].doc.get("org_policy").is_none());
    }
}
