//! What related and scope checks see: the resources of the types some check reads beside its
//! own, indexed per scope (only those types, so the estate is never held twice), and the scopes
//! and regions a run saw, which scope checks judge.

use crate::catalog::{ScopeLevel, scope_type};
use crate::model::{Cloud, Evidence, Resource, ResourceRef};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Most ids named in the evidence of what a related or scope check found.
const IDS_SHOWN: usize = 5;

/// Resources of the related types, per (cloud, scope), and every scope and region seen.
#[derive(Default)]
pub struct RelatedIndex {
    types: BTreeSet<String>,
    by_scope: HashMap<(Cloud, String), BTreeMap<String, Vec<Value>>>,
    scopes: BTreeMap<(Cloud, String), BTreeSet<String>>,
    /// `related` as bound for evaluation, built once per scope, region and set of types:
    /// every resource of a scope sees the same partners, and converting them for each one
    /// would cost the partners' size for every resource.
    bound: Mutex<HashMap<BoundKey, cel::Value>>,
}

type BoundKey = (Cloud, String, Option<String>, Vec<String>);

impl RelatedIndex {
    /// An index that keeps resources of `types`.
    pub fn new(types: BTreeSet<String>) -> RelatedIndex {
        RelatedIndex { types, ..Default::default() }
    }

    /// Keep `r` if its type is indexed.
    pub fn add(&mut self, r: &Resource) {
        if self.types.contains(&r.meta.rtype) {
            let key = (r.meta.cloud, r.meta.scope.clone());
            self.by_scope.entry(key).or_default().entry(r.meta.rtype.clone()).or_default().push(r.doc.clone());
        }
    }

    /// Note the scope and region of a resource of the run (scope checks judge every scope seen).
    pub fn saw(&mut self, r: &ResourceRef) {
        let regions = self.scopes.entry((r.cloud, r.scope.clone())).or_default();
        if !r.region.is_empty() && r.region != "global" && !regions.contains(&r.region) {
            regions.insert(r.region.clone());
        }
    }

    /// `related` for a condition: each of `types` → the documents of that type in the scope
    /// (in `region` only, when given); a type with none maps to an empty list.
    pub fn related(&self, cloud: Cloud, scope: &str, region: Option<&str>, types: &[String]) -> Value {
        let held = self.by_scope.get(&(cloud, scope.to_string()));
        let mut out = Map::new();
        for t in types {
            let docs: Vec<Value> = held
                .and_then(|m| m.get(t))
                .map(|docs| docs.iter().filter(|d| in_region(d, region)).cloned().collect())
                .unwrap_or_default();
            out.insert(t.clone(), Value::Array(docs));
        }
        Value::Object(out)
    }

    /// [`Self::related`] converted for binding, built once per scope, region and types.
    pub fn bound(&self, cloud: Cloud, scope: &str, region: Option<&str>, types: &[String]) -> cel::Value {
        let key = (cloud, scope.to_string(), region.map(str::to_string), types.to_vec());
        let mut cache = self.bound.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(v) = cache.get(&key) {
            return v.clone();
        }
        let v = cel::to_value(self.related(cloud, scope, region, types)).unwrap_or(cel::Value::Null);
        cache.insert(key, v.clone());
        v
    }

    /// Evidence of what was found: per type, how many and which (ids), in the scope or region.
    pub fn evidence(&self, cloud: Cloud, scope: &str, region: Option<&str>, types: &[String]) -> Vec<Evidence> {
        let where_ = match region {
            Some(r) => format!("{scope} ({r})"),
            None => scope.to_string(),
        };
        let held = self.by_scope.get(&(cloud, scope.to_string()));
        types
            .iter()
            .map(|t| {
                let docs = || held.and_then(|m| m.get(t)).into_iter().flatten().filter(|d| in_region(d, region));
                let ids: Vec<&str> =
                    docs().filter_map(|d| d.get("id").and_then(Value::as_str)).take(IDS_SHOWN).collect();
                let value = match docs().count() {
                    0 => format!("none in {where_}"),
                    n if n > IDS_SHOWN => format!("{n} in {where_}: {} and {} more", ids.join(", "), n - IDS_SHOWN),
                    n => format!("{n} in {where_}: {}", ids.join(", ")),
                };
                Evidence { path: format!("related['{t}']"), value }
            })
            .collect()
    }

    /// The subjects a scope check of `cloud` judges at `level`: each scope seen, or each
    /// region in use within each.
    pub fn subjects(&self, cloud: Cloud, level: ScopeLevel) -> Vec<Resource> {
        let mut out = Vec::new();
        for ((c, scope), regions) in &self.scopes {
            if *c != cloud || scope.is_empty() {
                continue;
            }
            match level {
                ScopeLevel::Scope => out.push(scope_resource(cloud, scope, None)),
                ScopeLevel::Region => out.extend(regions.iter().map(|r| scope_resource(cloud, scope, Some(r)))),
            }
        }
        out
    }
}

fn in_region(doc: &Value, region: Option<&str>) -> bool {
    region.is_none_or(|r| doc.get("region").and_then(Value::as_str) == Some(r))
}

/// The resource a scope finding belongs to: the subscription / account / project itself (or
/// one region of it), with the cloud's own id for it.
pub fn scope_resource(cloud: Cloud, scope: &str, region: Option<&str>) -> Resource {
    let base = match cloud {
        Cloud::Azure => format!("/subscriptions/{scope}"),
        Cloud::Aws => scope.to_string(),
        Cloud::Gcp => format!("//cloudresourcemanager.googleapis.com/projects/{scope}"),
    };
    let id = match region {
        Some(r) => format!("{base}/regions/{r}"),
        None => base,
    };
    let region = region.unwrap_or("global").to_string();
    let rtype = scope_type(cloud).to_string();
    let doc = serde_json::json!({
        "id": id, "cloud": cloud.as_str(), "type": rtype, "name": scope, "scope": scope, "region": region,
        "resource_group": "", "tags": {}, "properties": {}
    });
    Resource { meta: ResourceRef { id, name: scope.to_string(), rtype, cloud, scope: scope.to_string(), region }, doc }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cloud: Cloud, scope: &str, rtype: &str, id: &str, region: &str) -> Resource {
        Resource {
            meta: ResourceRef {
                id: id.into(),
                name: id.into(),
                rtype: rtype.into(),
                cloud,
                scope: scope.into(),
                region: region.into(),
            },
            doc: serde_json::json!({"id": id, "type": rtype, "region": region}),
        }
    }

    #[test]
    fn keeps_only_related_types_per_scope_and_says_what_it_found() {
        let mut ix = RelatedIndex::new(["AWS::EC2::FlowLog".to_string()].into());
        for r in [
            res(Cloud::Aws, "1", "AWS::EC2::FlowLog", "fl-1", "eu-west-1"),
            res(Cloud::Aws, "1", "AWS::EC2::VPC", "vpc-1", "eu-west-1"),
            res(Cloud::Aws, "2", "AWS::EC2::VPC", "vpc-2", "us-east-1"),
        ] {
            ix.add(&r);
            ix.saw(&r.meta);
        }
        let t = vec!["AWS::EC2::FlowLog".to_string()];
        assert_eq!(ix.related(Cloud::Aws, "1", None, &t)["AWS::EC2::FlowLog"].as_array().unwrap().len(), 1);
        assert_eq!(ix.related(Cloud::Aws, "2", None, &t)["AWS::EC2::FlowLog"], serde_json::json!([]));
        assert_eq!(ix.related(Cloud::Aws, "1", Some("us-east-1"), &t)["AWS::EC2::FlowLog"], serde_json::json!([]));
        assert_eq!(ix.evidence(Cloud::Aws, "2", None, &t)[0].value, "none in 2");
        assert_eq!(ix.evidence(Cloud::Aws, "1", None, &t)[0].value, "1 in 1: fl-1");
        let accounts: Vec<String> = ix.subjects(Cloud::Aws, ScopeLevel::Scope).into_iter().map(|r| r.meta.id).collect();
        assert_eq!(accounts, ["1", "2"]);
        let regions: Vec<String> = ix.subjects(Cloud::Aws, ScopeLevel::Region).into_iter().map(|r| r.meta.id).collect();
        assert_eq!(regions, ["1/regions/eu-west-1", "2/regions/us-east-1"]);
        assert!(ix.subjects(Cloud::Gcp, ScopeLevel::Scope).is_empty());
    }
}
