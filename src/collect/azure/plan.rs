//! What to collect, derived from the loaded catalog: the Azure types its checks read (their
//! own types, `related` types, scope checks' types) decide which Resource Graph tables are
//! queried for which types, and which ARM sub-resource GETs are made on which parents. The
//! table below only says where each sub-resource lives; whether it is fetched follows the
//! catalog.

use crate::catalog::Catalog;
use crate::model::Cloud;
use std::collections::{BTreeMap, BTreeSet};

/// A Resource Graph table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// `resources`.
    Resources,
    /// `securityresources`: Defender for Cloud.
    SecurityResources,
    /// `authorizationresources`: role assignments and definitions.
    AuthorizationResources,
    /// `policyresources`: policy assignments and states.
    PolicyResources,
    /// `resourcecontainers`: subscriptions, resource groups, management groups.
    ResourceContainers,
}

impl Table {
    /// The table's name in a query.
    pub fn name(self) -> &'static str {
        match self {
            Table::Resources => "resources",
            Table::SecurityResources => "securityresources",
            Table::AuthorizationResources => "authorizationresources",
            Table::PolicyResources => "policyresources",
            Table::ResourceContainers => "resourcecontainers",
        }
    }

    /// The table that holds `rtype` (lowercase).
    fn of(rtype: &str) -> Table {
        if rtype.starts_with("microsoft.security/") {
            Table::SecurityResources
        } else if rtype.starts_with("microsoft.authorization/policy") || rtype.starts_with("microsoft.policyinsights/")
        {
            Table::PolicyResources
        } else if rtype.starts_with("microsoft.authorization/") {
            Table::AuthorizationResources
        } else if rtype.starts_with("microsoft.resources/") || rtype.starts_with("microsoft.management/") {
            Table::ResourceContainers
        } else {
            Table::Resources
        }
    }
}

/// A sub-resource read with a GET on each parent resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildFetch {
    /// The sub-resource's type as ARM spells it (the data set's name).
    pub rtype: &'static str,
    /// The parent's type (lowercase).
    pub parent: &'static str,
    /// Paths after the parent's id (a list, or one object).
    pub paths: &'static [&'static str],
    /// api-version.
    pub api: &'static str,
}

/// A subscription-level GET (`/subscriptions/{id}/providers/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFetch {
    /// The type as ARM spells it.
    pub rtype: &'static str,
    /// Path after `/subscriptions/{id}/`.
    pub path: &'static str,
    /// api-version.
    pub api: &'static str,
}

const DIAGNOSTIC_SETTINGS: &str = "microsoft.insights/diagnosticsettings";
/// Resource diagnostic settings' path under a resource id, and its api-version.
pub const DIAGNOSTIC_PATH: (&str, &str) = ("/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview");

/// Where each sub-resource that Resource Graph does not hold is read.
const CHILDREN: &[ChildFetch] = &[
    ChildFetch {
        rtype: "Microsoft.Web/sites/config",
        parent: "microsoft.web/sites",
        paths: &["/config/web", "/config/authsettingsV2"],
        api: "2023-12-01",
    },
    ChildFetch {
        rtype: "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
        parent: "microsoft.dbforpostgresql/flexibleservers",
        paths: &["/configurations"],
        api: "2022-12-01",
    },
    ChildFetch {
        rtype: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
        parent: "microsoft.dbforpostgresql/flexibleservers",
        paths: &["/firewallRules"],
        api: "2022-12-01",
    },
    ChildFetch {
        rtype: "Microsoft.DBforMySQL/flexibleServers/configurations",
        parent: "microsoft.dbformysql/flexibleservers",
        paths: &["/configurations"],
        api: "2023-12-30",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/auditingSettings",
        parent: "microsoft.sql/servers",
        paths: &["/auditingSettings"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/securityAlertPolicies",
        parent: "microsoft.sql/servers",
        paths: &["/securityAlertPolicies"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/vulnerabilityAssessments",
        parent: "microsoft.sql/servers",
        paths: &["/vulnerabilityAssessments"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/encryptionProtector",
        parent: "microsoft.sql/servers",
        paths: &["/encryptionProtector"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/firewallRules",
        parent: "microsoft.sql/servers",
        paths: &["/firewallRules"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Sql/servers/databases/transparentDataEncryption",
        parent: "microsoft.sql/servers/databases",
        paths: &["/transparentDataEncryption"],
        api: "2021-11-01",
    },
    ChildFetch {
        rtype: "Microsoft.Storage/storageAccounts/blobServices",
        parent: "microsoft.storage/storageaccounts",
        paths: &["/blobServices"],
        api: "2023-05-01",
    },
    ChildFetch {
        rtype: "Microsoft.Storage/storageAccounts/fileServices",
        parent: "microsoft.storage/storageaccounts",
        paths: &["/fileServices"],
        api: "2023-05-01",
    },
    ChildFetch {
        rtype: "Microsoft.KeyVault/vaults/keys",
        parent: "microsoft.keyvault/vaults",
        paths: &["/keys"],
        api: "2023-07-01",
    },
    ChildFetch {
        rtype: "Microsoft.KeyVault/vaults/secrets",
        parent: "microsoft.keyvault/vaults",
        paths: &["/secrets"],
        api: "2023-07-01",
    },
];

/// Subscription-level settings Resource Graph does not hold.
const SUBSCRIPTION: &[SubscriptionFetch] = &[
    SubscriptionFetch {
        rtype: "Microsoft.Security/securityContacts",
        path: "providers/Microsoft.Security/securityContacts",
        api: "2020-01-01-preview",
    },
    SubscriptionFetch {
        rtype: "Microsoft.Security/autoProvisioningSettings",
        path: "providers/Microsoft.Security/autoProvisioningSettings",
        api: "2017-08-01-preview",
    },
    SubscriptionFetch {
        rtype: "Microsoft.Security/settings",
        path: "providers/Microsoft.Security/settings",
        api: "2022-05-01",
    },
    SubscriptionFetch {
        rtype: "Microsoft.Security/serverVulnerabilityAssessmentsSettings",
        path: "providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings",
        api: "2023-05-01",
    },
    // The activity log's diagnostic settings.
    SubscriptionFetch {
        rtype: "Microsoft.Insights/diagnosticSettings",
        path: "providers/Microsoft.Insights/diagnosticSettings",
        api: "2021-05-01-preview",
    },
];

/// Defender for Cloud's data sets, collected whole for the side-by-side view.
const DEFENDER: &[&str] = &[
    "microsoft.security/assessments",
    "microsoft.security/assessments/subassessments",
    "microsoft.security/regulatorycompliancestandards",
    "microsoft.security/regulatorycompliancestandards/regulatorycompliancecontrols",
    "microsoft.security/regulatorycompliancestandards/regulatorycompliancecontrols/regulatorycomplianceassessments",
    "microsoft.security/securescores",
    "microsoft.security/securescores/securescorecontrols",
    "microsoft.security/pricings",
];

/// The collection plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every Azure type the checks read.
    pub types: BTreeSet<String>,
    /// Per table, the types queried (`resourcecontainers` is always queried whole).
    pub tables: BTreeMap<Table, BTreeSet<String>>,
    /// Sub-resource GETs on parents.
    pub children: Vec<ChildFetch>,
    /// Subscription-level GETs.
    pub subscription: Vec<SubscriptionFetch>,
    /// Types whose resources get their diagnostic settings read.
    pub diagnostic_parents: BTreeSet<String>,
}

impl Plan {
    /// The plan for `catalog`; `defender` adds Defender for Cloud's data sets.
    pub fn from_catalog(catalog: &Catalog, defender: bool) -> Plan {
        let mut plan = Plan::default();
        let mut diagnostic_direct = false;
        for check in catalog.checks.iter().filter(|c| c.cloud == Cloud::Azure) {
            plan.types.extend(check.resource_types.iter().cloned());
            plan.types.extend(check.related.iter().cloned());
            diagnostic_direct |= check.resource_types.iter().any(|t| t == DIAGNOSTIC_SETTINGS);
            if check.related.iter().any(|t| t == DIAGNOSTIC_SETTINGS) {
                plan.diagnostic_parents.extend(check.resource_types.iter().cloned());
            }
        }
        let mut queried: BTreeSet<String> = BTreeSet::new();
        for t in &plan.types {
            if let Some(c) = CHILDREN.iter().find(|c| c.rtype.eq_ignore_ascii_case(t)) {
                plan.children.push(c.clone());
                queried.insert(c.parent.to_string());
            } else if let Some(s) = SUBSCRIPTION.iter().find(|s| s.rtype.eq_ignore_ascii_case(t)) {
                // Resource diagnostic settings are read per parent; only a check on the type
                // itself reads the subscription's (activity log) ones.
                if t != DIAGNOSTIC_SETTINGS || diagnostic_direct {
                    plan.subscription.push(s.clone());
                }
            } else {
                queried.insert(t.clone());
            }
        }
        queried.extend(plan.diagnostic_parents.iter().cloned());
        if defender {
            queried.extend(DEFENDER.iter().map(|s| s.to_string()));
        }
        for t in queried {
            let table = Table::of(&t);
            if table != Table::ResourceContainers {
                plan.tables.entry(table).or_default().insert(t);
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_decides_what_is_fetched() {
        let catalog = Catalog::load_with_dirs(&[]);
        let plan = Plan::from_catalog(&catalog, false);
        let res = &plan.tables[&Table::Resources];
        assert!(res.contains("microsoft.storage/storageaccounts"));
        // parents of fetched sub-resources are queried even when no check reads them directly
        assert!(res.contains("microsoft.sql/servers/databases"), "{res:?}");
        assert!(!res.contains("microsoft.web/sites/config"));
        assert!(plan.tables[&Table::AuthorizationResources].contains("microsoft.authorization/roleassignments"));
        assert!(plan.tables[&Table::PolicyResources].contains("microsoft.authorization/policyassignments"));
        assert!(plan.children.iter().any(|c| c.rtype == "Microsoft.Web/sites/config"));
        assert!(plan.subscription.iter().any(|s| s.rtype == "Microsoft.Security/securityContacts"));
        assert!(plan.subscription.iter().any(|s| s.rtype == "Microsoft.Insights/diagnosticSettings"));
        assert!(plan.diagnostic_parents.contains("microsoft.keyvault/vaults"));
        assert!(!plan.tables[&Table::SecurityResources].contains("microsoft.security/securescores"));
        let with = Plan::from_catalog(&catalog, true);
        assert!(with.tables[&Table::SecurityResources].contains("microsoft.security/securescores"));
    }

    #[test]
    fn a_catalog_without_a_check_on_a_sub_resource_fetches_none_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::load_with_dirs(&[dir.path().to_path_buf()]);
        // storage checks that read nothing beside the account (the lock checks read related locks)
        catalog.checks.retain(|c| {
            c.related.is_empty() && c.resource_types.iter().all(|t| t == "microsoft.storage/storageaccounts")
        });
        let plan = Plan::from_catalog(&catalog, false);
        assert!(plan.children.is_empty() && plan.subscription.is_empty() && plan.diagnostic_parents.is_empty());
        assert_eq!(plan.tables.keys().collect::<Vec<_>>(), vec![&Table::Resources]);
    }
}
