//! What an error response says: the service's code and message from the bodies Azure, Entra ID
//! and AWS send, which AWS codes mean "slow down", and how long a server asks to wait.

use std::time::Duration;

/// Longest error message kept from a response body.
pub(super) const MAX_MESSAGE: usize = 400;

/// AWS error codes that mean "slow down" (sent with a 400), retried like a 429.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether an AWS error code asks the caller to retry later.
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// The code and message of an error body (`{"error":{"code","message"}}`, Google's
/// `{"error":{"status","message"}}`, OAuth's
/// `error`/`error_description`, AWS JSON's `__type`/`message`, AWS XML's `<Code>`/`<Message>`),
/// or the start of the body; cleaned for display.
pub fn error_text(body: &[u8]) -> (Option<String>, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let text = String::from_utf8_lossy(body);
    let (code, message) = match &parsed {
        Some(v) if v.get("__type").is_some_and(|t| t.is_string()) => {
            // `com.amazonaws.x#ThrottlingException` or `ThrottlingException:http://...`.
            let t = s(v.get("__type")).unwrap_or_default();
            let t = t.rsplit('#').next().unwrap_or(&t);
            let t = t.split(':').next().unwrap_or(t).to_string();
            (Some(t), s(v.get("message").or_else(|| v.get("Message"))).unwrap_or_default())
        }
        None if text.trim_start().starts_with('<') && xml_tag(&text, "Code").is_some() => {
            (xml_tag(&text, "Code"), xml_tag(&text, "Message").unwrap_or_default())
        }
        Some(v) if v.get("error").is_some_and(|e| e.is_object()) => {
            // Google puts the number in `code` and the name (`PERMISSION_DENIED`) in `status`.
            let code = s(v.pointer("/error/code")).or_else(|| s(v.pointer("/error/status")));
            (code, s(v.pointer("/error/message")).unwrap_or_default())
        }
        Some(v) if v.get("error").is_some_and(|e| e.is_string()) => {
            (s(v.get("error")), s(v.get("error_description")).unwrap_or_default())
        }
        _ => (None, String::from_utf8_lossy(&body[..body.len().min(MAX_MESSAGE)]).into_owned()),
    };
    let mut message = crate::sanitize::clean(message.trim()).into_owned();
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    (code.map(|c| crate::sanitize::clean(&c).into_owned()), message)
}

/// The text of the first `<tag>…</tag>` in `xml` (error bodies only; entities decoded).
fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    let raw = &xml[start..end];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// `Retry-After` as seconds or an HTTP date; also Azure's `x-ms-retry-after-ms`.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) =
        headers.get("x-ms-retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok().or(Some(Duration::ZERO))
}

/// `hh:mm:ss` (Resource Graph's reset time).
pub(super) fn parse_hms(v: &str) -> Option<Duration> {
    let mut secs = 0u64;
    let parts: Vec<&str> = v.trim().split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    for p in parts {
        let n: f64 = p.parse().ok()?;
        if !(0.0..1e6).contains(&n) {
            return None;
        }
        secs = secs * 60 + n as u64;
    }
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_error_bodies_name_their_code() {
        let (c, m) = error_text(br#"{"__type":"com.amazonaws.config#ThrottlingException","message":"Rate exceeded"}"#);
        assert_eq!((c.as_deref(), m.as_str()), (Some("ThrottlingException"), "Rate exceeded"));
        let xml = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate &amp; more</Message></Error></ErrorResponse>";
        let (c, m) = error_text(xml);
        assert_eq!((c.as_deref(), m.as_str()), (Some("Throttling"), "Rate & more"));
        assert!(is_throttling_code("RequestLimitExceeded") && !is_throttling_code("AccessDenied"));
    }
}
