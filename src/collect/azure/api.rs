//! Authenticated JSON requests to Resource Manager and Microsoft Graph: a 401 refreshes the
//! token once, a body that is not JSON is a malformed page named with its request, and a
//! `nextLink` that leaves the configured endpoints is refused.

use super::cloud::Endpoints;
use super::credential::Credential;
use crate::collect::http::{Client, HttpError, Request};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which service a request goes to (and so which token it carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Resource Manager and Resource Graph.
    Arm,
    /// Microsoft Graph.
    Graph,
}

pub use crate::collect::error::ApiError;

/// The requests of one collection.
pub struct Api {
    /// The HTTP client.
    pub client: Client,
    /// Where to go.
    pub endpoints: Endpoints,
    credential: Credential,
    cancel: Arc<AtomicBool>,
}

/// A page: its raw bytes (written as returned) and the parsed value.
pub struct Page {
    /// As returned.
    pub raw: Vec<u8>,
    /// Parsed.
    pub value: Value,
}

impl Api {
    /// Requests with `credential`, stopping when `cancel` is set.
    pub fn new(client: Client, endpoints: Endpoints, credential: Credential, cancel: Arc<AtomicBool>) -> Api {
        Api { client, endpoints, credential, cancel }
    }

    fn audience(&self, service: Service) -> &str {
        match service {
            Service::Arm => &self.endpoints.arm_audience,
            Service::Graph => &self.endpoints.graph_audience,
        }
    }

    /// Send `req` with a token for `service`; a 401 refreshes the token and tries once more.
    pub async fn send(&self, service: Service, req: Request) -> Result<Page, ApiError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(ApiError::Cancelled);
        }
        // A request in flight (or waiting out a Retry-After) is dropped as soon as the run is
        // cancelled, so Ctrl-C does not wait for a slow API.
        tokio::select! {
            page = self.send_uncancelled(service, req) => page,
            () = crate::collect::cancelled(&self.cancel) => Err(ApiError::Cancelled),
        }
    }

    async fn send_uncancelled(&self, service: Service, mut req: Request) -> Result<Page, ApiError> {
        if !self.endpoints.allows(&req.url) {
            return Err(ApiError::Refused { request: "a configured request".into(), link: req.url.to_string() });
        }
        let audience = self.audience(service).to_string();
        req.bearer = Some(self.credential.token(&audience).await.map_err(ApiError::Auth)?);
        let reply = match self.client.send(&req).await {
            Err(HttpError::Status { status: 401, .. }) => {
                req.bearer = Some(self.credential.refresh(&audience).await.map_err(ApiError::Auth)?);
                self.client.send(&req).await?
            }
            other => other?,
        };
        let value = crate::collect::error::json_object(&req, &reply.body)?;
        Ok(Page { raw: reply.body, value })
    }

    /// GET `url` and each `nextLink` (ARM) or `@odata.nextLink` (Graph) after it, calling `page`
    /// with each response. Stops at the first error.
    pub async fn get_all(
        &self,
        service: Service,
        url: url::Url,
        page: &mut (dyn FnMut(Page) -> Result<(), String> + Send),
    ) -> Result<u64, ApiError> {
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            let req = Request::get(url);
            let described = req.describe();
            let p = self.send(service, req).await?;
            let link = ["nextLink", "@odata.nextLink"].iter().find_map(|k| p.value.get(*k).and_then(Value::as_str));
            if let Some(link) = link.filter(|l| !l.is_empty()) {
                let u = url::Url::parse(link).map_err(|e| ApiError::Malformed {
                    request: described.clone(),
                    detail: format!("nextLink: {e}"),
                })?;
                if !self.endpoints.allows(&u) {
                    return Err(ApiError::Refused {
                        request: described,
                        link: crate::sanitize::clean(link).into_owned(),
                    });
                }
                next = Some(u);
            }
            pages += 1;
            page(p).map_err(|detail| ApiError::Malformed { request: described, detail })?;
        }
        Ok(pages)
    }
}
