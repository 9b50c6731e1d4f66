//! What related and scope checks see: the resources of the types some check reads beside its
//! own, indexed per scope (only those types, so the estate is never held twice), and the scopes
//! and regions a run saw, which scope checks judge.

use crate::catalog::{Join, KeyPath, ScopeLevel, scope_type};
use crate::model::{Cloud, Evidence, Resource, ResourceRef};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Most ids named in the evidence of what a related or scope check found.
const IDS_SHOWN: usize = 5;

/// Resources of the related types, per (cloud, scope), and every scope and region seen.
#[derive(Default)]
pub struct RelatedIndex {
    types: BTreeSet<String>,
    by_scope: HashMap<(Cloud, String), BTreeMap<String, Vec<Kept>>>,
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

/// A related resource as the index keeps it: its document as compact JSON text (parsed, a
/// document takes several times its text's size, and related types can be a tenth of an
/// estate), with the fields evidence and region filters read.
struct Kept {
    id: Option<Box<str>>,
    region: Option<Box<str>>,
    text: Box<str>,
}

impl Kept {
    fn of(doc: &Value) -> Kept {
        let field = |k: &str| doc.get(k).and_then(Value::as_str).map(Box::from);
        // Serializing a parsed document cannot fail: its keys are strings.
        let text = serde_json::to_string(doc).unwrap_or_default().into_boxed_str();
        Kept { id: field("id"), region: field("region"), text }
    }

    fn in_region(&self, region: Option<&str>) -> bool {
        region.is_none_or(|r| self.region.as_deref() == Some(r))
    }

    /// The document as the interpreter reads it (what `cel::to_value` makes of it parsed).
    fn value(&self) -> cel::Value {
        crate::policy::celjson::from_text(&self.text).unwrap_or(cel::Value::Null)
    }
}

/// A resource about to be kept: where, its keys for each join, and what is kept.
struct Packed {
    scope: (Cloud, String),
    rtype: String,
    keys: Vec<(usize, String)>,
    kept: Kept,
}

/// How a subject's partners are bound for its conditions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Binding {
    /// Converted once per scope, region and types, and shared by every resource that asks.
    Shared,
    /// Converted for this subject and dropped after (a scope or region is judged once).
    Once,
}

impl RelatedIndex {
    /// An index that keeps resources of `types`, looked up by each `joins` key as well.
    pub fn new(types: BTreeSet<String>, joins: Vec<(String, KeyPath)>) -> RelatedIndex {
        RelatedIndex { types, joins, ..Default::default() }
    }

    /// Keep `r` if its type is indexed.
    pub fn add(&mut self, r: &Resource) {
        if let Some(p) = self.pack(r) {
            self.keep(p);
        }
    }

    /// [`RelatedIndex::add`] for many resources read only for the index, packed on all cores.
    pub fn add_all(&mut self, rs: Vec<Resource>) {
        use rayon::prelude::*;
        let packed: Vec<Packed> = rs.par_iter().filter_map(|r| self.pack(r)).collect();
        drop(rs);
        packed.into_iter().for_each(|p| self.keep(p));
    }

    fn pack(&self, r: &Resource) -> Option<Packed> {
        let meta = &r.meta;
        if !self.types.contains(&meta.rtype) {
            return None;
        }
        let keys = (self.joins.iter().enumerate())
            .filter(|(_, (t, _))| *t == meta.rtype)
            .filter_map(|(j, (_, path))| path.key_of(meta.cloud, &r.doc).map(|k| (j, k)))
            .collect();
        let scope = (meta.cloud, meta.scope.clone());
        Some(Packed { scope, rtype: meta.rtype.clone(), keys, kept: Kept::of(&r.doc) })
    }

    fn keep(&mut self, p: Packed) {
        let docs = self.by_scope.entry(p.scope.clone()).or_default().entry(p.rtype).or_default();
        let at = docs.len();
        docs.push(p.kept);
        for (j, k) in p.keys {
            self.keyed.entry((p.scope.0, p.scope.1.clone(), j, k)).or_default().push(at);
        }
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

    /// The kept resources of `t` in a scope.
    fn held(&self, cloud: Cloud, scope: &str, t: &str) -> &[Kept] {
        let docs = self.by_scope.get(&(cloud, scope.to_string())).and_then(|m| m.get(t));
        docs.map_or(&[], Vec::as_slice)
    }

    /// `related` for a condition: each of `types` → the documents of that type in the scope
    /// (in `region` only, when given); a type with none maps to an empty list.
    pub fn related(&self, cloud: Cloud, scope: &str, region: Option<&str>, types: &[String]) -> cel::Value {
        let lists = types.iter().map(|t| {
            let docs = self.held(cloud, scope, t).iter().filter(|d| d.in_region(region));
            (t.clone(), docs.map(Kept::value).collect())
        });
        cel_lists(lists)
    }

    /// [`Self::related`] bound for a subject: shared (built once per scope, region and
    /// types) or built for it alone (see [`Binding`]).
    pub(super) fn bound(
        &self,
        binding: Binding,
        (cloud, scope, region): (Cloud, &str, Option<&str>),
        types: &[String],
    ) -> cel::Value {
        if binding == Binding::Once {
            return self.related(cloud, scope, region, types);
        }
        let key = (cloud, scope.to_string(), region.map(str::to_string), types.to_vec());
        let mut cache = self.bound.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(v) = cache.get(&key) {
            return v.clone();
        }
        let v = self.related(cloud, scope, region, types);
        cache.insert(key, v.clone());
        v
    }

    /// `related` for a joined check: of each of `types`, the resources of `r`'s scope whose
    /// key matches `r`'s (none when `r` has no key).
    pub fn joined(&self, r: &Resource, types: &[String], join: &Join) -> cel::Value {
        let key = join.resource.key_of(r.meta.cloud, &r.doc);
        let lists =
            types.iter().map(|t| (t.clone(), self.partners(r, t, join, key.as_deref()).map(Kept::value).collect()));
        cel_lists(lists)
    }

    fn partners<'a>(&'a self, r: &Resource, t: &str, join: &Join, key: Option<&str>) -> impl Iterator<Item = &'a Kept> {
        let j = self.joins.iter().position(|(jt, p)| jt == t && *p == join.related);
        let docs = self.held(r.meta.cloud, &r.meta.scope, t);
        let places = match (j, key) {
            (Some(j), Some(k)) => self.keyed.get(&(r.meta.cloud, r.meta.scope.clone(), j, k.to_string())),
            _ => None,
        };
        places.into_iter().flatten().filter_map(move |&i| docs.get(i))
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
                        let ids: Vec<&str> =
                            self.partners(r, t, join, Some(k)).filter_map(|d| d.id.as_deref()).collect();
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
        types
            .iter()
            .map(|t| {
                let docs = self.held(cloud, scope, t).iter().filter(|d| d.in_region(region));
                let ids: Vec<&str> = docs.filter_map(|d| d.id.as_deref()).collect();
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

/// A CEL map from each type to its list of documents.
fn cel_lists(lists: impl Iterator<Item = (String, Vec<cel::Value>)>) -> cel::Value {
    let map: HashMap<cel::objects::Key, cel::Value> =
        lists.map(|(t, docs)| (cel::objects::Key::String(Arc::new(t)), cel::Value::List(Arc::new(docs)))).collect();
    cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
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
    Resource {
        meta: ResourceRef { id, name: scope.to_string(), rtype, cloud, scope: scope.to_string(), region }.into(),
        doc,
    }
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
            }
            .into(),
            doc: serde_json::json!({"id": id, "type": rtype, "region": region}),
        }
    }

    /// The ids of the documents of type `t` in a bound `related`.
    fn ids(related: &cel::Value, t: &str) -> Vec<String> {
        let cel::Value::Map(m) = related else { panic!("not a map: {related:?}") };
        let Some(cel::Value::List(docs)) = m.map.get(&cel::objects::Key::String(Arc::new(t.to_string()))) else {
            panic!("no list of {t}")
        };
        let id = cel::objects::Key::String(Arc::new("id".to_string()));
        let id_of = |d: &cel::Value| match d {
            cel::Value::Map(d) => match d.map.get(&id) {
                Some(cel::Value::String(s)) => s.to_string(),
                other => panic!("id {other:?}"),
            },
            other => panic!("not a document: {other:?}"),
        };
        docs.iter().map(id_of).collect()
    }

    #[test]
    fn a_document_kept_as_text_binds_as_the_parsed_one_did() {
        let mut ix = RelatedIndex::new(["AWS::EC2::FlowLog".to_string()].into(), Vec::new());
        let mut r = res(Cloud::Aws, "1", "AWS::EC2::FlowLog", "fl-1", "eu-west-1");
        r.doc["properties"] = serde_json::json!({"n": 3, "neg": -2, "f": 0.5, "tags": {"a": [true, null]}});
        let mut other = res(Cloud::Aws, "1", "AWS::EC2::FlowLog", "fl-2", "us-east-1");
        other.doc.as_object_mut().unwrap().remove("region");
        ix.add_all(vec![r.clone(), other.clone()]);
        let t = vec!["AWS::EC2::FlowLog".to_string()];
        let want = cel::to_value(serde_json::json!({"AWS::EC2::FlowLog": [r.doc, other.doc]})).unwrap();
        assert_eq!(ix.related(Cloud::Aws, "1", None, &t), want);
        // A document without a region is in none.
        assert_eq!(ids(&ix.related(Cloud::Aws, "1", Some("us-east-1"), &t), &t[0]), Vec::<String>::new());
        assert_eq!(ix.evidence(Cloud::Aws, "1", Some("eu-west-1"), &t)[0].value, "1 in 1 (eu-west-1): fl-1");
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
        let related = |scope, region| ids(&ix.related(Cloud::Aws, scope, region, &t), &t[0]);
        assert_eq!(related("1", None), ["fl-1"]);
        assert_eq!(related("2", None), Vec::<String>::new());
        assert_eq!(related("1", Some("us-east-1")), Vec::<String>::new());
        assert_eq!(ix.bound(Binding::Once, (Cloud::Aws, "1", None), &t), ix.related(Cloud::Aws, "1", None, &t));
        assert_eq!(ix.bound(Binding::Shared, (Cloud::Aws, "1", None), &t), ix.related(Cloud::Aws, "1", None, &t));
        assert_eq!(ix.evidence(Cloud::Aws, "2", None, &t)[0].value, "none in 2");
        assert_eq!(ix.evidence(Cloud::Aws, "1", None, &t)[0].value, "1 in 1: fl-1");
        let accounts: Vec<String> =
            ix.subjects(Cloud::Aws, ScopeLevel::Scope).into_iter().map(|r| r.meta.id.clone()).collect();
        assert_eq!(accounts, ["1", "2"]);
        let regions: Vec<String> =
            ix.subjects(Cloud::Aws, ScopeLevel::Region).into_iter().map(|r| r.meta.id.clone()).collect();
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
        assert_eq!(ids(&ix.joined(&vpc, types, &join), &t), ["fl-1", "fl-3"]);
        assert_eq!(
            ix.joined_evidence(&vpc, types, &join)[0].value,
            "2 with properties.resourceId = vpc-1 in 1: fl-1, fl-3"
        );
        vpc.doc["properties"] = serde_json::json!({"vpcId": "vpc-9"});
        assert_eq!(ids(&ix.joined(&vpc, types, &join), &t), Vec::<String>::new());
        assert_eq!(ix.joined_evidence(&vpc, types, &join)[0].value, "none with properties.resourceId = vpc-9 in 1");
        vpc.doc["properties"] = serde_json::json!({});
        assert_eq!(
            ix.joined_evidence(&vpc, types, &join)[0].value,
            "none looked up: the resource has no properties.vpcId"
        );
    }
}
