//! Authenticated GETs to Google's JSON APIs: a 401 refreshes the token once, the quota
//! project rides along as `x-goog-user-project`, and a body that is not a JSON object is a
//! malformed page named with its request.

use super::credential::Credential;
use crate::collect::error::ApiError;
use crate::collect::http::{Client, HttpError, Request};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The requests of one collection.
pub struct Api {
    /// The HTTP client.
    pub client: Client,
    credential: Credential,
    cancel: Arc<AtomicBool>,
}

impl Api {
    /// Requests with `credential`, stopping when `cancel` is set.
    pub fn new(client: Client, credential: Credential, cancel: Arc<AtomicBool>) -> Api {
        Api { client, credential, cancel }
    }

    /// GET `url` and parse its JSON object.
    pub async fn get(&self, url: url::Url) -> Result<Value, ApiError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(ApiError::Cancelled);
        }
        // Dropped as soon as the run is cancelled, even while waiting out a backoff.
        tokio::select! {
            value = self.get_uncancelled(url) => value,
            () = crate::collect::cancelled(&self.cancel) => Err(ApiError::Cancelled),
        }
    }

    async fn get_uncancelled(&self, url: url::Url) -> Result<Value, ApiError> {
        let mut req = Request::get(url);
        if let Some(q) = &self.credential.quota_project {
            req.headers.push(("x-goog-user-project", q.clone()));
        }
        req.bearer = Some(self.credential.token().await.map_err(ApiError::Auth)?);
        let reply = match self.client.send(&req).await {
            Err(HttpError::Status { status: 401, .. }) => {
                req.bearer = Some(self.credential.refresh().await.map_err(ApiError::Auth)?);
                self.client.send(&req).await?
            }
            other => other?,
        };
        crate::collect::error::json_object(&req, &reply.body)
    }
}

/// A page's items under `key` (absent: none) and its `nextPageToken` (absent or empty: the
/// last page); anything else is malformed.
pub fn page_items(page: &mut Value, key: &str, request: &str) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let malformed = |detail: String| ApiError::Malformed { request: request.to_string(), detail };
    let items = match page.get_mut(key).map(Value::take) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(malformed(format!("'{key}' is not a list"))),
    };
    if let Some(i) = items.iter().position(|a| !a.is_object()) {
        return Err(malformed(format!("'{key}' item {i} is not an object")));
    }
    let next = match page.get("nextPageToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("'nextPageToken' is not a string".into())),
    };
    Ok((items, next))
}

/// Move `token` on to `next`; false when there is no next page. A token repeated would page
/// forever, so it is a malformed page.
pub fn advance(token: &mut Option<String>, next: Option<String>, request: &str) -> Result<bool, ApiError> {
    if next.is_some() && next == *token {
        return Err(ApiError::Malformed {
            request: request.to_string(),
            detail: "nextPageToken repeats the one sent".into(),
        });
    }
    *token = next;
    Ok(token.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_are_read_or_named_malformed() {
        let (items, next) =
            page_items(&mut json!({"assets": [{"name": "a"}], "nextPageToken": "t2"}), "assets", "GET x").unwrap();
        assert_eq!((items.len(), next.as_deref()), (1, Some("t2")));
        let (items, next) = page_items(&mut json!({"readTime": "2026-01-01T00:00:00Z"}), "assets", "GET x").unwrap();
        assert_eq!((items.len(), next), (0, None));
        let e = page_items(&mut json!({"assets": {"a": 1}}), "assets", "GET x").unwrap_err();
        assert_eq!(e.to_string(), "GET x: malformed response: 'assets' is not a list");
        assert!(page_items(&mut json!({"assets": [1]}), "assets", "GET x").is_err());
        assert!(page_items(&mut json!({"assets": [], "nextPageToken": 5}), "assets", "GET x").is_err());
        let mut token = Some("a".to_string());
        assert!(advance(&mut token, Some("a".into()), "GET x").is_err());
        assert!(advance(&mut token, Some("b".into()), "GET x").unwrap());
        assert!(!advance(&mut token, None, "GET x").unwrap());
    }
}
