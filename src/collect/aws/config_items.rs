//! AWS Config configuration items through advanced queries: `SelectAggregateResourceConfig`
//! over an aggregator's accounts and regions, else `SelectResourceConfig` per account and
//! region, paged with `NextToken`. Each page is written as an array of configuration items,
//! the format `src/sources/aws.rs` reads.

use super::api::{Api, CallError};
use super::credential::Credentials;
use super::ctx::{AWS_DIR, MAX_PAGES, next_token, part_error};
use super::service::Service;
use crate::collect::state::State;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Results per page (the APIs' most).
const LIMIT: u64 = 100;
/// The longest expression the APIs take.
const MAX_EXPRESSION: usize = 4096;

/// The properties selected: a whole configuration item.
const FIELDS: &str = "resourceId, resourceName, resourceType, arn, accountId, awsRegion, availabilityZone, \
resourceCreationTime, configurationItemCaptureTime, configurationItemStatus, configurationStateId, \
configuration, supplementaryConfiguration, tags, relationships";

/// The manifest's data set name per account and region.
pub const DATASET: &str = "config-select-resource-config";
/// The manifest's data set name of an aggregator's query.
pub const AGGREGATE_DATASET: &str = "config-select-aggregate-resource-config";

/// Where the query runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// One account's recorder in one region.
    Account {
        /// The 12-digit account.
        account: &'a str,
    },
    /// An aggregator (its account's home region), over the accounts it holds.
    Aggregator {
        /// The aggregator's name.
        name: &'a str,
        /// The scope errors are recorded under.
        scope: &'a str,
    },
}

/// The expressions that select `types`, each within the APIs' length limit.
pub fn expressions(types: &BTreeSet<String>) -> Vec<String> {
    let head = format!("SELECT {FIELDS} WHERE resourceType IN (");
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for t in types {
        // Types are `AWS::Service::Thing`: quotes cannot occur, but never let one through.
        let quoted = format!("'{}'", t.replace('\'', ""));
        let len = head.len() + current.iter().map(|q| q.len() + 2).sum::<usize>() + quoted.len() + 1;
        if len > MAX_EXPRESSION && !current.is_empty() {
            out.push(format!("{head}{})", current.join(", ")));
            current.clear();
        }
        current.push(quoted);
    }
    if !current.is_empty() {
        out.push(format!("{head}{})", current.join(", ")));
    }
    out
}

/// Run the queries for `types` against `target` in `region`, writing each page.
pub async fn collect(
    api: &Api,
    state: &State,
    creds: &Credentials,
    region: &str,
    target: &Target<'_>,
    types: &BTreeSet<String>,
) {
    let (op, dataset, scope, permission, dir) = match target {
        Target::Account { account } => (
            "SelectResourceConfig",
            format!("{region}/{DATASET}"),
            account.to_string(),
            "config:SelectResourceConfig",
            format!("{AWS_DIR}/{account}/{}", crate::collect::snapshot::slug(region)),
        ),
        Target::Aggregator { name, scope } => (
            "SelectAggregateResourceConfig",
            AGGREGATE_DATASET.to_string(),
            scope.to_string(),
            "config:SelectAggregateResourceConfig",
            format!("{AWS_DIR}/aggregator-{}", crate::collect::snapshot::slug(name)),
        ),
    };
    state.in_flight(&dataset);
    state.count(&scope, &dataset, 0, 0);
    let mut file = 0u64;
    for expr in expressions(types) {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut body = json!({ "Expression": expr, "Limit": LIMIT });
            if let Target::Aggregator { name, .. } = target {
                body["ConfigurationAggregatorName"] = Value::String(name.to_string());
            }
            if let Some(t) = &token {
                body["NextToken"] = Value::String(t.clone());
            }
            let fail = |e: &CallError| {
                let perm = e.denied().then(|| permission.to_string());
                state.fail(
                    &scope,
                    &dataset,
                    part_error(&e.request(), e.status(), api.client.redact(&e.to_string())),
                    perm,
                );
            };
            let page = match api.json(creds, Service::Config, region, op, &body).await {
                Ok(v) => v,
                Err(e) => return fail(&e),
            };
            let items = match items_of(&page) {
                Ok(items) => items,
                Err(detail) => {
                    return fail(&CallError::Malformed { request: format!("{op} page {}", file + 1), detail });
                }
            };
            let next = match next_token(&page, "NextToken", token.as_deref()) {
                Ok(n) => n,
                Err(detail) => {
                    return fail(&CallError::Malformed { request: format!("{op} page {}", file + 1), detail });
                }
            };
            let rows = items.len() as u64;
            if let Target::Aggregator { .. } = target {
                // The aggregator's rows count under the accounts they belong to.
                for i in &items {
                    if let Some(a) = i.get("accountId").and_then(Value::as_str) {
                        state.count_row(a, AGGREGATE_DATASET);
                    }
                }
            }
            match serde_json::to_vec(&Value::Array(items)) {
                Ok(bytes) => state.write(&format!("{dir}/config-{file:05}.json"), &bytes),
                Err(e) => return fail(&CallError::Malformed { request: op.to_string(), detail: e.to_string() }),
            }
            state.count(&scope, &dataset, rows, 1);
            state.add_rows(rows);
            file += 1;
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
    }
}

/// The configuration items of a page: `Results` is a list of JSON texts.
fn items_of(page: &Value) -> Result<Vec<Value>, String> {
    let results = page.get("Results").and_then(Value::as_array).ok_or("no Results list in the answer")?;
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let text = r.as_str().ok_or(format!("result {} is not a string", i + 1))?;
            let v: Value = serde_json::from_str(text).map_err(|e| format!("result {} is not JSON: {e}", i + 1))?;
            if v.get("resourceType").and_then(Value::as_str).is_none() {
                return Err(format!("result {} has no resourceType", i + 1));
            }
            Ok(v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_stay_under_the_limit_and_cover_every_type() {
        let types: BTreeSet<String> = (0..400).map(|i| format!("AWS::Service{i}::Thing")).collect();
        let ex = expressions(&types);
        assert!(ex.len() > 1);
        assert!(ex.iter().all(|e| e.len() <= MAX_EXPRESSION && e.starts_with("SELECT resourceId")));
        let joined = ex.join(" ");
        assert!(types.iter().all(|t| joined.contains(&format!("'{t}'"))));
        assert!(items_of(&json!({"Results": ["{\"resourceType\": \"AWS::S3::Bucket\"}"]})).is_ok());
        assert!(items_of(&json!({"Results": ["not json"]})).unwrap_err().contains("result 1"));
        assert!(items_of(&json!({})).is_err());
    }
}
