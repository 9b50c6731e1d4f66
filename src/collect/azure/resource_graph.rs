//! Resource Graph queries: one table, its types, subscriptions in batches of at most 300 (as
//! Microsoft advises), paged with `$skipToken` and `$top`, ordered by `id` so paging is
//! stable. Each page is written as returned.

use super::api::{Api, ApiError, Service};
use super::plan::Table;
use crate::collect::http::Request;
use crate::collect::state::State;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Resource Graph's api-version.
pub const API_VERSION: &str = "2022-10-01";
/// Most subscriptions in one query.
pub const BATCH: usize = 300;
/// The columns kept: those posture's Azure reader uses.
const PROJECT: &str = "project id, name, type, location, resourceGroup, subscriptionId, tags, properties, sku, kind, identity, zones, managedBy, plan";

/// Where a query looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every subscription the identity can read.
    Tenant,
    /// A management group.
    ManagementGroup(String),
    /// These subscriptions.
    Subscriptions(Vec<String>),
}

/// The query text for `table` restricted to `types` (all of the table when empty).
pub fn query_text(table: Table, types: &BTreeSet<String>) -> String {
    let mut q = table.name().to_string();
    if !types.is_empty() {
        let list: Vec<String> = types.iter().map(|t| format!("'{}'", t.replace('\'', ""))).collect();
        q.push_str(&format!(" | where type in~ ({})", list.join(", ")));
    }
    // resourcecontainers lacks some of the resources columns; it keeps them all.
    if table != Table::ResourceContainers {
        q.push_str(" | ");
        q.push_str(PROJECT);
    }
    q.push_str(" | order by id asc");
    q
}

/// Run `query` over `scope`, writing pages under `azure/resourcegraph/<table>/` and
/// counting rows per subscription into the data set `table`. `rows` sees every row.
pub async fn run(
    api: &Api,
    state: &State,
    table: Table,
    query: &str,
    scope: &Scope,
    page_size: u32,
    rows: &mut (dyn FnMut(&Value) + Send),
) {
    let batches: Vec<Option<Vec<String>>> = match scope {
        Scope::Subscriptions(subs) => subs.chunks(BATCH).map(|c| Some(c.to_vec())).collect(),
        _ => vec![None],
    };
    for (b, batch) in batches.iter().enumerate() {
        let mut body = json!({"query": query, "options": {"$top": page_size, "resultFormat": "objectArray"}});
        match (scope, batch) {
            (_, Some(subs)) => body["subscriptions"] = json!(subs),
            (Scope::ManagementGroup(mg), None) => body["managementGroups"] = json!([mg]),
            _ => {}
        }
        let mut page_no = 0u32;
        loop {
            if state.cancelled() {
                return;
            }
            let url = match api
                .endpoints
                .resource_manager
                .join(&format!("providers/Microsoft.ResourceGraph/resources?api-version={API_VERSION}"))
            {
                Ok(u) => u,
                Err(e) => {
                    state.fail_batch(table.name(), batch.as_deref(), ApiError::Auth(e.to_string()).part_error(), None);
                    break;
                }
            };
            state.in_flight(table.name());
            let result = api.send(Service::Arm, Request::post_json(url, body.clone())).await;
            let page = match result {
                Ok(p) => p,
                Err(e) => {
                    let permission = e.missing_permission("Microsoft.ResourceGraph/resources/read");
                    state.fail_batch(table.name(), batch.as_deref(), e.part_error(), permission);
                    break;
                }
            };
            let Some(data) = page.value.get("data").and_then(Value::as_array) else {
                let e = ApiError::Malformed {
                    request: format!(
                        "POST {} (query over {}, page {})",
                        api.endpoints.resource_manager,
                        table.name(),
                        page_no + 1
                    ),
                    detail: "no 'data' array in the response".into(),
                };
                state.fail_batch(table.name(), batch.as_deref(), e.part_error(), None);
                break;
            };
            page_no += 1;
            for row in data {
                rows(row);
                let sub = row.get("subscriptionId").and_then(Value::as_str).unwrap_or("tenant").to_ascii_lowercase();
                state.count_row(&sub, table.name());
            }
            state.add_rows(data.len() as u64);
            if let Some(subs) = batch {
                state.count_page(subs, table.name());
            } else {
                state.count_page(&["tenant".to_string()], table.name());
            }
            let name = format!("azure/resourcegraph/{}/batch{:03}-page{:05}.json", table.name(), b + 1, page_no);
            state.write(&name, &page.raw);
            match page.value.get("$skipToken").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                Some(token) => body["options"]["$skipToken"] = json!(token),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_name_their_types_project_id_and_order_by_it() {
        let types: BTreeSet<String> = ["microsoft.web/sites".to_string(), "x'y".to_string()].into();
        let q = query_text(Table::Resources, &types);
        assert_eq!(
            q,
            format!("resources | where type in~ ('microsoft.web/sites', 'xy') | {PROJECT} | order by id asc")
        );
        assert_eq!(query_text(Table::ResourceContainers, &BTreeSet::new()), "resourcecontainers | order by id asc");
    }
}
