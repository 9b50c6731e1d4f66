//! Signed calls in the three protocols the collected services speak: JSON 1.1 (`X-Amz-Target`),
//! query (a form of `Action` and `Version`, XML back) and REST-JSON (a path per operation).

use super::credential::Credentials;
use super::service::{Endpoints, Service};
use super::sigv4;
use super::xml::Node;
use crate::collect::http::{Client, HttpError, Request};
use serde_json::Value;

/// Why a call gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The service refused or failed (after retries).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// It answered with a body that is not what the operation returns.
    #[error("{request}: malformed answer: {detail}")]
    Malformed {
        /// Method, URL and operation.
        request: String,
        /// What was wrong.
        detail: String,
    },
    /// No endpoint for the service.
    #[error("{0}")]
    Endpoint(String),
    /// The collection was cancelled while the call was in flight.
    #[error("cancelled")]
    Cancelled,
}

impl CallError {
    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Http(e) => e.status(),
            _ => None,
        }
    }

    /// The service's error code (`AccessDenied`, `NoSuchEntity`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Http(HttpError::Status { code, .. }) => code.as_deref(),
            _ => None,
        }
    }

    /// Whether the caller lacks the permission (rather than the service failing).
    pub fn denied(&self) -> bool {
        self.status() == Some(403)
            || self.code().is_some_and(|c| {
                matches!(c, "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError")
            })
    }

    /// The request it concerns.
    pub fn request(&self) -> String {
        match self {
            CallError::Http(
                HttpError::Status { request, .. }
                | HttpError::Timeout { request, .. }
                | HttpError::Connection { request, .. }
                | HttpError::QuotaExhausted { request, .. },
            )
            | CallError::Malformed { request, .. } => request.clone(),
            CallError::Endpoint(_) | CallError::Cancelled => String::new(),
        }
    }
}

/// The signed-call layer: the shared client and where each service is.
#[derive(Clone)]
pub struct Api {
    /// The shared HTTP client (retries, backoff, bounded in flight).
    pub client: Client,
    /// Service endpoints.
    pub endpoints: Endpoints,
    /// Set when the collection is cancelled: the call in flight is dropped.
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Api {
    /// Send `req`, signed with `creds` (unsigned when None); a cancel drops it.
    async fn send(
        &self,
        creds: Option<&Credentials>,
        service: Service,
        region: &str,
        req: Request,
    ) -> Result<Vec<u8>, CallError> {
        tokio::select! {
            r = self.send_uncancelled(creds, service, region, req) => r,
            () = crate::collect::cancelled(&self.cancel) => Err(CallError::Cancelled),
        }
    }

    async fn send_uncancelled(
        &self,
        creds: Option<&Credentials>,
        service: Service,
        region: &str,
        req: Request,
    ) -> Result<Vec<u8>, CallError> {
        let Some(creds) = creds else { return Ok(self.client.send(&req).await?.body) };
        let scope_region = service.signing_region(region).to_string();
        let sign = |r: &Request| {
            let scope = sigv4::Scope { region: &scope_region, service: service.signing_name() };
            sigv4::sign(r, creds, &scope, chrono::Utc::now())
        };
        Ok(self.client.send_signed(&req, &sign).await?.body)
    }

    /// A JSON 1.1 call: `operation` with `body`.
    pub async fn json(
        &self,
        creds: &Credentials,
        service: Service,
        region: &str,
        operation: &str,
        body: &Value,
    ) -> Result<Value, CallError> {
        let url = self.endpoints.url(service, region).map_err(CallError::Endpoint)?;
        let mut req = Request::post_raw(url, "application/x-amz-json-1.1", body.to_string().into_bytes());
        req.headers.push(("x-amz-target", format!("{}.{operation}", service.target_prefix())));
        let request = format!("{} {operation}", req.describe());
        let bytes = self.send(Some(creds), service, region, req).await?;
        serde_json::from_slice(&bytes).map_err(|e| CallError::Malformed { request, detail: format!("not JSON: {e}") })
    }

    /// A query call: `action` with `params`; the `<{action}Result>` element back (EC2 has none:
    /// its root is the result).
    pub async fn query(
        &self,
        creds: &Credentials,
        service: Service,
        region: &str,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Node, CallError> {
        self.query_as(Some(creds), service, region, action, params).await
    }

    /// A query call sent unsigned (STS `AssumeRoleWithWebIdentity`, whose token is the proof).
    pub async fn query_unsigned(
        &self,
        service: Service,
        region: &str,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Node, CallError> {
        self.query_as(None, service, region, action, params).await
    }

    async fn query_as(
        &self,
        creds: Option<&Credentials>,
        service: Service,
        region: &str,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Node, CallError> {
        let url = self.endpoints.url(service, region).map_err(CallError::Endpoint)?;
        let req = query_request(url, service, action, params);
        let request = format!("{} {action}", req.describe());
        let bytes = self.send(creds, service, region, req).await?;
        query_result(&bytes, action).map_err(|detail| CallError::Malformed { request, detail })
    }

    /// A REST-JSON call: `path` (with its query) and a JSON body for a POST.
    pub async fn rest(
        &self,
        creds: &Credentials,
        service: Service,
        region: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let base = self.endpoints.url(service, region).map_err(CallError::Endpoint)?;
        let url = base.join(path.trim_start_matches('/')).map_err(|e| CallError::Endpoint(format!("{path}: {e}")))?;
        let req = match body {
            Some(b) => Request::post_raw(url, "application/json", b.to_string().into_bytes()),
            None => Request::get(url),
        };
        let request = req.describe();
        let bytes = self.send(Some(creds), service, region, req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes).map_err(|e| CallError::Malformed { request, detail: format!("not JSON: {e}") })
    }
}

fn query_request(url: url::Url, service: Service, action: &str, params: &[(&str, String)]) -> Request {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action).append_pair("Version", service.query_version());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    Request::post_raw(url, "application/x-www-form-urlencoded; charset=utf-8", form.finish().into_bytes())
}

fn query_result(bytes: &[u8], action: &str) -> Result<Node, String> {
    let mut root = Node::parse(bytes)?;
    if root.name != format!("{action}Response") {
        return Err(format!("expected <{action}Response>, found <{}>", root.name));
    }
    let result = format!("{action}Result");
    match root.children.iter().position(|c| c.name == result) {
        Some(i) => Ok(root.children.swap_remove(i)),
        None => Ok(root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_results_are_unwrapped_and_a_wrong_answer_is_malformed() {
        let ok = b"<ListSubscriptionsResponse><ListSubscriptionsResult><NextToken>t</NextToken></ListSubscriptionsResult></ListSubscriptionsResponse>";
        assert_eq!(query_result(ok, "ListSubscriptions").unwrap().text_at(&["NextToken"]), Some("t"));
        assert!(
            query_result(b"<Other/>", "ListSubscriptions")
                .unwrap_err()
                .contains("expected <ListSubscriptionsResponse>")
        );
        let denied = CallError::Http(HttpError::Status {
            request: "POST x".into(),
            status: 400,
            code: Some("AccessDeniedException".into()),
            message: String::new(),
        });
        assert!(denied.denied());
    }
}
