//! What to ask the Cloud Asset API for, derived from the loaded catalog: the GCP types its
//! checks read (their own and `related` ones) decide the `assetTypes` of each call, and a
//! content type beside RESOURCE (IAM_POLICY, ORG_POLICY, ACCESS_POLICY) is asked only for the
//! types of checks whose conditions read the field it fills.

use crate::catalog::Catalog;
use crate::model::Cloud;
use std::collections::{BTreeMap, BTreeSet};

/// The project asset: always listed, so every project in scope is known even when it holds
/// nothing the checks read (scope checks judge every project the run saw).
pub const PROJECT_TYPE: &str = "cloudresourcemanager.googleapis.com/Project";

/// A Cloud Asset API content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContentType {
    /// Resource metadata.
    Resource,
    /// The IAM policy set on a resource.
    IamPolicy,
    /// Organization policies set on a project, folder or organization.
    OrgPolicy,
    /// VPC Service Controls access policies.
    AccessPolicy,
}

impl ContentType {
    /// Every content type, in the order they are asked.
    pub const ALL: [ContentType; 4] =
        [ContentType::Resource, ContentType::IamPolicy, ContentType::OrgPolicy, ContentType::AccessPolicy];

    /// Its name in the API (`contentType=`).
    pub fn api_name(self) -> &'static str {
        match self {
            ContentType::Resource => "RESOURCE",
            ContentType::IamPolicy => "IAM_POLICY",
            ContentType::OrgPolicy => "ORG_POLICY",
            ContentType::AccessPolicy => "ACCESS_POLICY",
        }
    }

    /// The permission `assets.list` needs for it (Cloud Asset Inventory's listing guide).
    pub fn permission(self) -> &'static str {
        match self {
            ContentType::Resource => "cloudasset.assets.listResource",
            ContentType::IamPolicy => "cloudasset.assets.listIamPolicy",
            ContentType::OrgPolicy => "cloudasset.assets.listOrgPolicy",
            ContentType::AccessPolicy => "cloudasset.assets.listAccessPolicy",
        }
    }

    /// The field of a resource's document it fills, which a condition reads (none for
    /// RESOURCE: it is always asked).
    fn field(self) -> Option<&'static str> {
        match self {
            ContentType::Resource => None,
            ContentType::IamPolicy => Some("iam_policy"),
            ContentType::OrgPolicy => Some("org_policy"),
            ContentType::AccessPolicy => Some("access_policy"),
        }
    }

    /// The manifest's data set name.
    pub fn dataset(self) -> String {
        format!("assets:{}", self.api_name())
    }
}

/// The collection plan: per content type, the asset types asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every GCP type the checks read.
    pub types: BTreeSet<String>,
    /// Per content type, the `assetTypes` filter.
    pub contents: BTreeMap<ContentType, BTreeSet<String>>,
}

impl Plan {
    /// The plan for `catalog`.
    pub fn from_catalog(catalog: &Catalog) -> Plan {
        let mut plan = Plan::default();
        for check in catalog.checks.iter().filter(|c| c.cloud == Cloud::Gcp) {
            let read: Vec<&String> = check.resource_types.iter().chain(check.related.iter()).collect();
            plan.types.extend(read.iter().map(|t| t.to_string()));
            for content in ContentType::ALL {
                if content.field().is_some_and(|f| check.condition_src.contains(f)) {
                    plan.contents.entry(content).or_default().extend(read.iter().map(|t| t.to_string()));
                }
            }
        }
        let mut resources = plan.types.clone();
        resources.insert(PROJECT_TYPE.to_string());
        plan.contents.insert(ContentType::Resource, resources);
        plan
    }
}

/// Types that only exist above the projects: never listed under a project.
const ABOVE_PROJECTS: [&str; 2] =
    ["cloudresourcemanager.googleapis.com/Organization", "cloudresourcemanager.googleapis.com/Folder"];

impl Plan {
    /// The listings to make under `parent`: under a project, the organization and folder
    /// types are dropped, and a content type left with none is not asked at all.
    pub fn listings(&self, parent: &str) -> Vec<(ContentType, BTreeSet<String>)> {
        let project = parent.starts_with("projects/");
        self.contents
            .iter()
            .map(|(c, types)| {
                let kept =
                    types.iter().filter(|t| !project || !ABOVE_PROJECTS.contains(&t.as_str())).cloned().collect();
                (*c, kept)
            })
            .filter(|(_, types): &(ContentType, BTreeSet<String>)| !types.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_decides_the_content_types_and_their_types() {
        let plan = Plan::from_catalog(&Catalog::load_with_dirs(&[]));
        let res = &plan.contents[&ContentType::Resource];
        assert!(res.contains("storage.googleapis.com/Bucket") && res.contains(PROJECT_TYPE));
        // related types are listed too (log sinks for the project checks)
        assert!(res.contains("logging.googleapis.com/LogSink"), "{res:?}");
        let iam = &plan.contents[&ContentType::IamPolicy];
        assert!(iam.contains("storage.googleapis.com/Bucket") && iam.contains(PROJECT_TYPE), "{iam:?}");
        assert!(!iam.contains("sqladmin.googleapis.com/Instance"), "no SQL check reads an IAM policy: {iam:?}");
        let org = &plan.contents[&ContentType::OrgPolicy];
        assert!(
            org.contains("cloudresourcemanager.googleapis.com/Organization") && !org.contains(PROJECT_TYPE),
            "{org:?}"
        );
        // no shipped check reads access policies, so none are asked for
        assert!(!plan.contents.contains_key(&ContentType::AccessPolicy));
    }

    #[test]
    fn organization_types_are_not_asked_under_a_project() {
        let plan = Plan::from_catalog(&Catalog::load_with_dirs(&[]));
        let under_project: Vec<ContentType> = plan.listings("projects/1").into_iter().map(|(c, _)| c).collect();
        assert_eq!(
            under_project,
            [ContentType::Resource, ContentType::IamPolicy],
            "the org policy check reads organizations"
        );
        let under_org = plan.listings("organizations/1");
        assert!(under_org.iter().any(|(c, t)| *c == ContentType::OrgPolicy && t.contains(ABOVE_PROJECTS[0])));
    }

    #[test]
    fn a_catalog_without_gcp_checks_lists_only_projects() {
        let mut catalog = Catalog::load_with_dirs(&[]);
        catalog.checks.retain(|c| c.cloud != Cloud::Gcp);
        let plan = Plan::from_catalog(&catalog);
        assert_eq!(plan.contents.len(), 1);
        assert_eq!(plan.contents[&ContentType::Resource].iter().collect::<Vec<_>>(), vec![PROJECT_TYPE]);
    }
}
