//! What related and scope checks see: the resources of the types some check reads beside its
//! own, indexed per scope (only those types, so the estate is never held twice), and the scopes
//! and regions a run saw, which scope checks judge.

use crate::catalog::{Join, KeyPath, ScopeLevel, scope_type};
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
    /// The (type, key path) pairs joined checks look partners up by.
    joins: Vec<(String, KeyPath)>,
    /// Per scope, join and key: the partners' places in `by_scope`.
    keyed: HashMap<(Cloud, String, usize, String), Vec<usize>>,
}

type BoundKey = (Cloud, String, Option<String>, Vec<String>);

impl RelatedIndex {
    /// An index that keeps resources of `types`, looked up by each `joins` key as well.
    pub fn new(types: BTreeSet<String>, joins: Vec<(String, KeyPath)>) -> RelatedIndex {
        RelatedIndex { types, joins, ..Default::default() }
    }

    /// Keep `r` if its type is indexed.
    pub fn add(&mut self, r: &Resource) {
        if self.types.contains(&r.meta.rtype) {
            self.keep(&r.meta, r.doc.clone());
        }
    }

    /// [`RelatedIndex::add`] for a resource read only for the index: its document is kept,
    /// not copied (related types can be a tenth of an estate).
    pub fn add_owned(&mut self, r: Resource) {
        if self.types.contains(&r.meta.rtype) {
            self.keep(&r.meta, r.doc);
        }
    }

    fn keep(&mut self, meta: &ResourceRef, doc: Value) {
        let key = (meta.cloud, meta.scope.clone());
        let docs = self.by_scope.entry(key).or_default().entry(meta.rtype.clone()).or_default();
        let at = docs.len();
        for (j, (t, path)) in self.joins.iter().enumerate() {
            if *t == meta.rtype
                && let Some(k) = path.key_of(meta.cloud, &doc)
            {
                self.keyed.entry((meta.cloud, meta.scope.clone(), j, k)).or_default().push(at);
            }
        }
        docs.push(doc);
    }

    /// Note the scope and region of a resource of the run (scope checks judge every scope seen).
    pub fn saw(&mut self, r: &ResourceRef) {
        // An Entra tenant is no subscription: subscription scope checks must not judge it.
        if crate::sources::is_graph_type(&r.rtype) {
            return;
        }
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

    /// `related` for a joined check: of each of `types`, the resources of `r`'s scope whose
    /// key matches `r`'s (none when `r` has no key).
    pub fn joined(&self, r: &Resource, types: &[String], join: &Join) -> Value {
        let key = join.resource.key_of(r.meta.cloud, &r.doc);
        let mut out = Map::new();
        for t in types {
            out.insert(t.clone(), Value::Array(self.partners(r, t, join, key.as_deref()).cloned().collect()));
        }
        Value::Object(out)
    }

    fn partners<'a>(
        &'a self,
        r: &Resource,
        t: &str,
        join: &Join,
        key: Option<&str>,
    ) -> impl Iterator<Item = &'a Value> {
        let j = self.joins.iter().position(|(jt, p)| jt == t && *p == join.related);
        let docs = self.by_scope.get(&(r.meta.cloud, r.meta.scope.clone())).and_then(|m| m.get(t));
        let places = match (j, key) {
            (Some(j), Some(k)) => self.keyed.get(&(r.meta.cloud, r.meta.scope.clone(), j, k.to_string())),
            _ => None,
        };
        places.into_iter().flatten().filter_map(move |&i| docs.and_then(|d| d.get(i)))
    }

    /// Evidence of what a joined check found for `r`.
    pub fn joined_evidence(&self, r: &Resource, types: &[String], join: &Join) -> Vec<Evidence> {
        let key = join.resource.key_of(r.meta.cloud, &r.doc);
        types
            .iter()
            .map(|t| {
                let value = match &key {
                    None => format!("none looked up: the resource has no {}", join.resource),
                    Some(k) => {
                        let ids: Vec<&str> = self
                            .partners(r, t, join, Some(k))
                            .filter_map(|d| d.get("id").and_then(Value::as_str))
                            .collect();
                        found(&ids, &format!("with {} = {k} in {}", join.related, r.meta.scope))
                    }
                };
                Evidence { path: format!("related['{t}']"), value }
            })
            .collect()
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
                let ids: Vec<&str> = docs().filter_map(|d| d.get("id").and_then(Value::as_str)).collect();
                Evidence { path: format!("related['{t}']"), value: found(&ids, &format!("in {where_}")) }
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

/// "none in S", "2 in S: a, b", "9 in S: a, … and 4 more".
fn found(ids: &[&str], where_: &str) -> String {
    let shown = ids[..ids.len().min(IDS_SHOWN)].join(", ");
    match ids.len() {
        0 => format!("none {where_}"),
        n if n > IDS_SHOWN => format!("{n} {where_}: {shown} and {} more", n - IDS_SHOWN),
        n => format!("{n} {where_}: {shown}"),
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
        let mut ix = RelatedIndex::new(["AWS::EC2::FlowLog".to_string()].into(), Vec::new());
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

    #[test]
    fn a_joined_check_sees_only_the_partners_with_its_key() {
        let join =
            Join { related: "properties.resourceId".parse().unwrap(), resource: "properties.vpcId".parse().unwrap() };
        let t = "AWS::EC2::FlowLog".to_string();
        let mut ix = RelatedIndex::new([t.clone()].into(), vec![(t.clone(), join.related.clone())]);
        let flow = |id: &str, vpc: &str| {
            let mut r = res(Cloud::Aws, "1", &t, id, "eu-west-1");
            r.doc["properties"] = serde_json::json!({"resourceId": vpc});
            r
        };
        for r in [flow("fl-1", "vpc-1"), flow("fl-2", "vpc-2"), flow("fl-3", "vpc-1")] {
            ix.add(&r);
        }
        let mut vpc = res(Cloud::Aws, "1", "AWS::EC2::VPC", "vpc-1", "eu-west-1");
        vpc.doc["properties"] = serde_json::json!({"vpcId": "vpc-1"});
        let types = std::slice::from_ref(&t);
        let got = ix.joined(&vpc, types, &join);
        let ids: Vec<&str> = got[&t].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["fl-1", "fl-3"]);
        assert_eq!(
            ix.joined_evidence(&vpc, types, &join)[0].value,
            "2 with properties.resourceId = vpc-1 in 1: fl-1, fl-3"
        );
        vpc.doc["properties"] = serde_json::json!({"vpcId": "vpc-9"});
        assert_eq!(ix.joined(&vpc, types, &join)[&t], serde_json::json!([]));
        assert_eq!(ix.joined_evidence(&vpc, types, &join)[0].value, "none with properties.resourceId = vpc-9 in 1");
        vpc.doc["properties"] = serde_json::json!({});
        assert_eq!(
            ix.joined_evidence(&vpc, types, &join)[0].value,
            "none looked up: the resource has no properties.vpcId"
        );
    }
}
