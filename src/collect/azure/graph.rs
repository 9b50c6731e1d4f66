//! Microsoft Graph for Entra ID: each list written as returned (`{"@odata.context": ...,
//! "value": [...]}`), one file per page under `entra/<tenant>/<data set>/`. A missing permission (403)
//! makes that data set partial in the manifest's `tenant` scope; it never stops the run.

use super::api::{Api, ApiError, Service};
use crate::collect::state::State;
use serde_json::Value;

/// A Graph data set: its name, the path under the Graph endpoint, the permission it needs.
pub struct GraphSet {
    /// Data set and folder name.
    pub name: &'static str,
    /// Path and query.
    pub path: &'static str,
    /// The application permission that reads it.
    pub permission: &'static str,
}

/// What CIS Azure section 1 needs from the directory.
pub const SETS: &[GraphSet] = &[
    GraphSet {
        name: "users",
        path: "v1.0/users?$select=id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime&$top=999",
        permission: "User.Read.All",
    },
    GraphSet {
        name: "userRegistrationDetails",
        path: "v1.0/reports/authenticationMethods/userRegistrationDetails",
        permission: "AuditLog.Read.All",
    },
    GraphSet {
        name: "conditionalAccessPolicies",
        path: "v1.0/identity/conditionalAccess/policies",
        permission: "Policy.Read.All",
    },
    GraphSet { name: "authorizationPolicy", path: "v1.0/policies/authorizationPolicy", permission: "Policy.Read.All" },
    GraphSet {
        name: "directoryRoleAssignments",
        path: "v1.0/roleManagement/directory/roleAssignments",
        permission: "RoleManagement.Read.Directory",
    },
    GraphSet {
        name: "directoryRoleDefinitions",
        path: "v1.0/roleManagement/directory/roleDefinitions",
        permission: "RoleManagement.Read.Directory",
    },
    GraphSet { name: "groupSettings", path: "v1.0/groupSettings", permission: "Directory.Read.All" },
];

/// Read every Graph data set into the snapshot.
pub async fn collect(api: &Api, state: &State, tenant: Option<&str>) {
    for set in SETS {
        if state.cancelled() {
            return;
        }
        let dataset = format!("graph:{}", set.name);
        state.count("tenant", &dataset, 0, 0);
        let Some(tenant) = tenant.filter(|t| !t.is_empty() && !t.contains(['/', '\\', '.'])) else {
            let why = "the tenant is not known (no tid claim in the token and no [azure] tenant)";
            state.fail("tenant", &dataset, ApiError::Auth(why.to_string()).part_error(), None);
            continue;
        };
        state.in_flight(&dataset);
        let url = match api.endpoints.graph.join(set.path) {
            Ok(u) => u,
            Err(e) => {
                state.fail("tenant", &dataset, ApiError::Auth(e.to_string()).part_error(), None);
                continue;
            }
        };
        let mut n = 0u32;
        let result = api
            .get_all(Service::Graph, url, &mut |page| {
                n += 1;
                let rows = page.value.get("value").and_then(Value::as_array).map_or(1, |v| v.len() as u64);
                state.count("tenant", &dataset, rows, 0);
                state.add_rows(rows);
                let dir = crate::collect::snapshot::ENTRA_DIR;
                state.write(&format!("{dir}/{tenant}/{}/page{n:05}.json", set.name), &page.raw);
                Ok(())
            })
            .await;
        match result {
            Ok(pages) => state.count("tenant", &dataset, 0, pages),
            Err(ApiError::Cancelled) => return,
            Err(e) => {
                let permission = e.missing_permission(set.permission);
                state.fail("tenant", &dataset, e.part_error(), permission);
            }
        }
    }
}
