//! Why an authenticated request of a collector gave no data, and how the manifest records it.
//! Cloud-neutral: Azure and GCP requests fail the same ways.

use crate::collect::http::HttpError;
use crate::collect::manifest::PartError;

/// Why a request gave no data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The HTTP layer's error.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The response was not the JSON expected.
    #[error("{request}: malformed response: {detail}")]
    Malformed {
        /// Method and URL.
        request: String,
        /// What was wrong.
        detail: String,
    },
    /// A link pointed outside the configured endpoints.
    #[error("{request}: refused to follow a link outside the configured endpoints: {link}")]
    Refused {
        /// The request whose response held the link.
        request: String,
        /// The link.
        link: String,
    },
    /// No token could be had.
    #[error("{0}")]
    Auth(String),
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl ApiError {
    /// The manifest's record of it.
    pub fn part_error(&self) -> PartError {
        let request = match self {
            ApiError::Http(HttpError::Status { request, .. })
            | ApiError::Http(HttpError::Timeout { request, .. })
            | ApiError::Http(HttpError::Connection { request, .. })
            | ApiError::Http(HttpError::QuotaExhausted { request, .. })
            | ApiError::Malformed { request, .. }
            | ApiError::Refused { request, .. } => request.clone(),
            ApiError::Auth(_) | ApiError::Cancelled => String::new(),
        };
        let status = match self {
            ApiError::Http(h) => h.status(),
            _ => None,
        };
        PartError { request: crate::sanitize::clean(&request).into_owned(), status, message: self.to_string() }
    }

    /// The HTTP status, when the service sent one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http(h) => h.status(),
            _ => None,
        }
    }

    /// For a 403: the permission the service named (Azure's `action 'X'`, Google's
    /// `Permission 'X'`), else `fallback`.
    pub fn missing_permission(&self, fallback: &str) -> Option<String> {
        let ApiError::Http(HttpError::Status { status: 403, message, .. }) = self else { return None };
        let named = ["action '", "Permission '", "permission '"]
            .iter()
            .find_map(|m| message.split_once(m))
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(a, _)| a.to_string())
            .filter(|a| !a.is_empty() && !a.contains(char::is_whitespace));
        Some(named.unwrap_or_else(|| fallback.to_string()))
    }
}

/// A response body as the JSON object every list API answers with, or a malformed page named
/// with its request.
pub fn json_object(request: &crate::collect::http::Request, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed { request: request.describe(), detail: format!("not JSON: {e}") })?;
    if !value.is_object() {
        return Err(ApiError::Malformed { request: request.describe(), detail: "expected a JSON object".into() });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_permission_comes_from_the_message_else_the_fallback() {
        let e = |message: &str| {
            ApiError::Http(HttpError::Status {
                request: "GET x".into(),
                status: 403,
                code: Some("AuthorizationFailed".into()),
                message: message.into(),
            })
        };
        let named = e(
            "The client 'a' with object id 'b' does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/s'",
        );
        assert_eq!(named.missing_permission("F").as_deref(), Some("Microsoft.Security/securityContacts/read"));
        assert_eq!(e("Forbidden").missing_permission("F").as_deref(), Some("F"));
        assert_eq!(ApiError::Cancelled.missing_permission("F"), None);
        let google = e(
            "Permission 'cloudasset.assets.listResource' denied on resource '//cloudresourcemanager.googleapis.com/projects/p1' (or it may not exist).",
        );
        assert_eq!(google.missing_permission("F").as_deref(), Some("cloudasset.assets.listResource"));
    }
}
