//! ARM GETs for what Resource Graph does not hold: sub-resources of the parents Resource Graph
//! returned, resources' diagnostic settings, and subscription-level settings. Only the plan's
//! fetches, only on resources that exist. One subscription's objects of one type are written
//! as one ARM resource array (`azure/arm/<subscription>/<type>.json`).

use super::api::{Api, ApiError, Service};
use super::plan::{DIAGNOSTIC_PATH, Plan};
use crate::collect::snapshot::slug;
use crate::collect::state::State;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::task::JoinSet;

/// A parent resource Resource Graph returned: its id and lowercase type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// ARM id.
    pub id: String,
    /// Lowercase type.
    pub rtype: String,
}

/// The data set name of resources' diagnostic settings.
const DIAGNOSTICS: &str = "Microsoft.Insights/diagnosticSettings";

/// One GET to make: the data set it belongs to, the file it goes to, the URL path, api-version.
struct Fetch {
    dataset: String,
    file: String,
    path: String,
    api: &'static str,
    permission: String,
}

/// The GETs the plan asks for in `sub` with these `parents`.
fn fetches(plan: &Plan, sub: &str, parents: &[Parent]) -> Vec<Fetch> {
    let mut out = Vec::new();
    for s in &plan.subscription {
        let activity = s.rtype == DIAGNOSTICS;
        out.push(Fetch {
            dataset: if activity { format!("arm:{DIAGNOSTICS} (activity log)") } else { format!("arm:{}", s.rtype) },
            file: if activity { "activity-log-diagnosticsettings".into() } else { slug(s.rtype) },
            path: format!("subscriptions/{sub}/{}", s.path),
            api: s.api,
            permission: format!("{}/read", s.rtype),
        });
    }
    for p in parents {
        let id = p.id.trim_start_matches('/');
        for c in plan.children.iter().filter(|c| c.parent == p.rtype) {
            for path in c.paths {
                out.push(Fetch {
                    dataset: format!("arm:{}", c.rtype),
                    file: slug(c.rtype),
                    path: format!("{id}{path}"),
                    api: c.api,
                    permission: format!("{}/read", c.rtype),
                });
            }
        }
        if plan.diagnostic_parents.contains(&p.rtype) {
            out.push(Fetch {
                dataset: format!("arm:{DIAGNOSTICS}"),
                file: slug(DIAGNOSTICS),
                path: format!("{id}{}", DIAGNOSTIC_PATH.0),
                api: DIAGNOSTIC_PATH.1,
                permission: format!("{DIAGNOSTICS}/read"),
            });
        }
    }
    out
}

/// The objects of a response: a list's `value`, or the one object returned.
fn objects(v: Value) -> Vec<Value> {
    match v {
        Value::Object(mut m) if m.contains_key("value") => match m.remove("value") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        v @ Value::Object(_) => vec![v],
        _ => Vec::new(),
    }
}

/// Make `sub`'s GETs, at most the client's limit in flight, and write what came back.
pub async fn subscription(api: &Arc<Api>, state: &Arc<State>, plan: &Plan, sub: &str, parents: &[Parent]) {
    let mut set = JoinSet::new();
    let mut files: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in fetches(plan, sub, parents) {
        files.entry(f.file.clone()).or_default();
        state.count(sub, &f.dataset, 0, 0);
        let (api, state) = (Arc::clone(api), Arc::clone(state));
        set.spawn(async move {
            if state.cancelled() {
                return (f, Err(ApiError::Cancelled));
            }
            state.in_flight(&f.dataset);
            let url = api
                .endpoints
                .resource_manager
                .join(&format!("{}?api-version={}", f.path, f.api))
                .map_err(|e| ApiError::Auth(format!("{}: {e}", f.path)));
            let mut got = Vec::new();
            let result = match url {
                Ok(url) => {
                    api.get_all(Service::Arm, url, &mut |p| {
                        got.extend(objects(p.value));
                        Ok(())
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            (f, result.map(|pages| (got, pages)))
        });
    }
    while let Some(joined) = set.join_next().await {
        let Ok((f, result)) = joined else { continue };
        match result {
            Ok((got, pages)) => {
                state.count(sub, &f.dataset, got.len() as u64, pages);
                state.add_rows(got.len() as u64);
                files.entry(f.file).or_default().extend(got);
            }
            // The resource has none (a server without an encryption protector, say).
            Err(e) if e.status() == Some(404) => state.count(sub, &f.dataset, 0, 1),
            Err(ApiError::Cancelled) => {}
            Err(e) => {
                let permission = e.missing_permission(&f.permission);
                state.fail(sub, &f.dataset, e.part_error(), permission);
            }
        }
    }
    for (file, mut objects) in files {
        if objects.is_empty() {
            continue;
        }
        // The same order on every run, whatever order the responses came in.
        objects.sort_by(|a, b| a.get("id").and_then(Value::as_str).cmp(&b.get("id").and_then(Value::as_str)));
        match serde_json::to_vec(&objects) {
            Ok(bytes) => state.write(&format!("azure/arm/{}/{file}.json", slug(sub)), &bytes),
            Err(e) => state.fail(
                sub,
                "snapshot",
                crate::collect::manifest::PartError { request: String::new(), status: None, message: e.to_string() },
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn gets_follow_the_plan_and_the_parents_that_exist() {
        let plan = Plan::from_catalog(&Catalog::load_with_dirs(&[]), false);
        let parents = vec![
            Parent {
                id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app".into(),
                rtype: "microsoft.web/sites".into(),
            },
            Parent {
                id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv".into(),
                rtype: "microsoft.keyvault/vaults".into(),
            },
        ];
        let f = fetches(&plan, "s", &parents);
        let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.contains(&"subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app/config/web"));
        assert!(paths.contains(&"subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv/keys"));
        assert!(paths.contains(&"subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Insights/diagnosticSettings"));
        assert!(paths.contains(&"subscriptions/s/providers/Microsoft.Security/securityContacts"));
        // no SQL server, no SQL GET
        assert!(!paths.iter().any(|p| p.contains("auditingSettings")));
        // the web app has no diagnostic-settings check
        assert!(!paths.iter().any(|p| p.contains("sites/app/providers")));
    }

    #[test]
    fn objects_of_lists_and_single_responses() {
        assert_eq!(objects(serde_json::json!({"value": [{"id": "a"}], "nextLink": "x"})).len(), 1);
        assert_eq!(objects(serde_json::json!({"id": "a", "properties": {}})).len(), 1);
        assert!(objects(serde_json::json!([1])).is_empty());
    }
}
