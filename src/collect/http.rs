//! The HTTP layer every collector shares: bounded requests in flight, a per-request timeout,
//! retries with exponential backoff and jitter for throttling, 5xx and connection errors,
//! `Retry-After`, and a pause before the quota the server announces runs out. Cloud-neutral:
//! the cloud modules add authentication and paging on top.

use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// How the client treats a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Longest one request may take, headers and body.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub retry_base: Duration,
    /// Longest wait between two attempts (a longer `Retry-After` is cut to it).
    pub retry_max: Duration,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Pause when the announced remaining quota falls to this or below.
    pub quota_floor: u64,
    /// Longest pause for a quota to reset; beyond it, stop asking (the part is partial).
    pub quota_max_wait: Duration,
}

impl HttpSettings {
    /// The settings a config section asks for, within posture's bounds (at most 20 retries,
    /// 1 to 64 requests in flight); the quota settings keep their defaults.
    pub fn bounded(
        timeout: Duration,
        max_retries: u32,
        retry_base: Duration,
        retry_max: Duration,
        max_in_flight: usize,
    ) -> HttpSettings {
        HttpSettings {
            timeout,
            max_retries: max_retries.min(20),
            retry_base,
            retry_max,
            max_in_flight: max_in_flight.clamp(1, 64),
            ..HttpSettings::default()
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(60),
            max_retries: 5,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(120),
            max_in_flight: 8,
            quota_floor: 1,
            quota_max_wait: Duration::from_secs(60),
        }
    }
}

/// A request: what to send and how to name it in errors (method and URL; never a header).
#[derive(Debug, Clone)]
pub struct Request {
    /// GET or POST.
    pub method: Method,
    /// Where.
    pub url: url::Url,
    /// A bearer token for the Authorization header.
    pub bearer: Option<String>,
    /// A JSON body.
    pub json: Option<serde_json::Value>,
    /// A form body (token requests).
    pub form: Option<Vec<(String, String)>>,
    /// A body sent as it is, its content type among `headers` (signed AWS requests).
    pub raw: Option<Vec<u8>>,
    /// Extra headers (managed identity's `Metadata: true`).
    pub headers: Vec<(&'static str, String)>,
}

/// The methods collectors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Query (Resource Graph) or token request.
    Post,
    /// The instance metadata service's session token (IMDSv2).
    Put,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: url::Url) -> Request {
        Request { method: Method::Get, url, bearer: None, json: None, form: None, raw: None, headers: Vec::new() }
    }
    /// A POST of `body` as it is, with its content type, to `url`.
    pub fn post_raw(url: url::Url, content_type: &str, body: Vec<u8>) -> Request {
        let headers = vec![("content-type", content_type.to_string())];
        Request { method: Method::Post, raw: Some(body), headers, ..Request::get(url) }
    }
    /// The body that will be sent (what a signature covers).
    pub fn body_bytes(&self) -> Vec<u8> {
        if let Some(r) = &self.raw {
            r.clone()
        } else if let Some(j) = &self.json {
            j.to_string().into_bytes()
        } else if let Some(f) = &self.form {
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(f).finish().into_bytes()
        } else {
            Vec::new()
        }
    }
    /// A POST of `body` to `url`.
    pub fn post_json(url: url::Url, body: serde_json::Value) -> Request {
        Request { method: Method::Post, json: Some(body), ..Request::get(url) }
    }
    /// A POST of a form to `url` (token requests; the form never appears in errors).
    pub fn post_form(url: url::Url, form: Vec<(String, String)>) -> Request {
        Request { method: Method::Post, form: Some(form), ..Request::get(url) }
    }
    /// How errors name it: the method and the URL (URLs carry no secret; headers and bodies may).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.url)
    }
}

/// A response that arrived with a success status.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a request gave no usable response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The server answered with an error status (after retries, for retried ones).
    #[error("{request}: HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Status {
        /// Method and URL.
        request: String,
        /// The status.
        status: u16,
        /// The service's error code, when it sent one.
        code: Option<String>,
        /// The service's message, cleaned and cut.
        message: String,
    },
    /// No response within the timeout, on every attempt.
    #[error("{request}: no response within {}", humantime::format_duration(*timeout))]
    Timeout {
        /// Method and URL.
        request: String,
        /// The per-request timeout.
        timeout: Duration,
    },
    /// The connection failed on every attempt.
    #[error("{request}: cannot connect: {detail}")]
    Connection {
        /// Method and URL.
        request: String,
        /// What failed.
        detail: String,
    },
    /// The server's quota is spent and resets later than the longest pause allowed.
    #[error("{request}: request quota spent; it resets in {}, later than quota_max_wait", humantime::format_duration(*resets_after))]
    QuotaExhausted {
        /// The request not sent.
        request: String,
        /// When the quota resets.
        resets_after: Duration,
    },
}

impl HttpError {
    /// The HTTP status, when the server sent one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Counts kept across all requests of a collection.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent (every attempt).
    pub sent: AtomicU64,
    /// Attempts retried.
    pub retried: AtomicU64,
    /// Pauses made because the quota ran low.
    pub quota_pauses: AtomicU64,
}

/// The shared client: clone it freely (one connection pool, one quota, one limit).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    settings: HttpSettings,
    permits: Arc<Semaphore>,
    /// No request leaves before this instant (the quota said wait).
    pause_until: Arc<Mutex<Option<Instant>>>,
    /// Counts, for the manifest and tests.
    pub counters: Arc<Counters>,
    secrets: Arc<std::sync::RwLock<Vec<String>>>,
}

mod errors;
#[cfg(test)]
use errors::MAX_MESSAGE;
pub use errors::{error_text, is_throttling_code};
use errors::{parse_hms, retry_after};

impl Client {
    /// A client with `settings` (rustls, no proxy from the environment: only the endpoints
    /// configured are ever contacted).
    pub fn new(settings: HttpSettings) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Client {
            http,
            settings: HttpSettings { max_in_flight: settings.max_in_flight.max(1), ..settings },
            permits: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            pause_until: Arc::new(Mutex::new(None)),
            counters: Arc::new(Counters::default()),
            secrets: Arc::new(std::sync::RwLock::new(Vec::new())),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> HttpSettings {
        self.settings
    }

    /// Remember a secret (a token, a client secret) so no error message ever carries it.
    pub fn add_secret(&self, secret: &str) {
        if secret.len() >= 8
            && let Ok(mut s) = self.secrets.write()
        {
            s.push(secret.to_string());
        }
    }

    /// `text` with every remembered secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Ok(s) = self.secrets.read() {
            for secret in s.iter() {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }

    /// Send `req`, retrying what is worth retrying; a success status returns the body.
    pub async fn send(&self, req: &Request) -> Result<Reply, HttpError> {
        self.send_signed(req, &|_: &Request| Vec::new()).await
    }

    /// Send `req` like [`Client::send`], with the headers `sign` gives added to each attempt
    /// (a signature is dated, so every retry is signed afresh).
    pub async fn send_signed(&self, req: &Request, sign: &Signer<'_>) -> Result<Reply, HttpError> {
        let mut attempt = 0u32;
        loop {
            self.wait_for_quota(req).await?;
            let outcome = {
                let _permit = self.permits.acquire().await.map_err(|_| HttpError::Connection {
                    request: req.describe(),
                    detail: "the client was shut down".into(),
                })?;
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                self.attempt(req, &sign(req)).await
            };
            let (error, wait) = match outcome {
                Attempt::Done(reply) => return Ok(reply),
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry { error, retry_after } => (error, retry_after),
            };
            if attempt >= self.settings.max_retries {
                return Err(error);
            }
            let delay = wait.unwrap_or_else(|| self.backoff(attempt)).min(self.settings.retry_max);
            attempt += 1;
            self.counters.retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    /// Send `req` once, without retries (probes such as the metadata service).
    pub async fn send_once(&self, req: &Request) -> Result<Reply, HttpError> {
        let _permit = self.permits.acquire().await.map_err(|_| HttpError::Connection {
            request: req.describe(),
            detail: "the client was shut down".into(),
        })?;
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        match self.attempt(req, &[]).await {
            Attempt::Done(r) => Ok(r),
            Attempt::Fatal(e) | Attempt::Retry { error: e, .. } => Err(e),
        }
    }

    async fn attempt(&self, req: &Request, signed: &[(&'static str, String)]) -> Attempt {
        let mut b = match req.method {
            Method::Get => self.http.get(req.url.clone()),
            Method::Post => self.http.post(req.url.clone()),
            Method::Put => self.http.put(req.url.clone()),
        };
        if let Some(t) = &req.bearer {
            b = b.bearer_auth(t);
        }
        for (k, v) in req.headers.iter().chain(signed) {
            b = b.header(*k, v);
        }
        if let Some(r) = &req.raw {
            b = b.body(r.clone());
        }
        if let Some(j) = &req.json {
            b = b.header("content-type", "application/json").body(j.to_string());
        }
        if let Some(f) = &req.form {
            let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(f).finish();
            b = b.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let timeout = self.settings.timeout;
        let describe = || req.describe();
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry { error: self.transport_error(&e, describe(), timeout), retry_after: None };
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.note_quota(&headers).await;
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Attempt::Retry { error: self.transport_error(&e, describe(), timeout), retry_after: None };
            }
        };
        if (200..300).contains(&status) {
            return Attempt::Done(Reply { status, body });
        }
        let (mut code, message) = error_text(&body);
        if code.is_none() {
            // REST-JSON services name the error in a header (`Code:more`).
            code = headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|v| crate::sanitize::clean(v.split(':').next().unwrap_or(v)).into_owned());
        }
        let throttled = code.as_deref().is_some_and(is_throttling_code);
        let error = HttpError::Status { request: describe(), status, code, message: self.redact(&message) };
        match status {
            429 | 503 => Attempt::Retry { error, retry_after: retry_after(&headers) },
            400..=499 if throttled => Attempt::Retry { error, retry_after: None },
            500..=599 => Attempt::Retry { error, retry_after: None },
            _ => Attempt::Fatal(error),
        }
    }

    fn transport_error(&self, e: &reqwest::Error, request: String, timeout: Duration) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout { request, timeout }
        } else {
            // reqwest's chain names the cause; the URL is already in `request`.
            let mut detail = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                detail = format!("{detail}: {s}");
                src = s.source();
            }
            HttpError::Connection { request, detail: self.redact(&detail) }
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.retry_base.saturating_mul(1u32 << attempt.min(16));
        let capped = base.min(self.settings.retry_max);
        let half = capped / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros().min(u64::MAX as u128) as u64);
        half + Duration::from_micros(jitter)
    }

    /// Read `x-ms-user-quota-remaining` / `-resets-after`: at or below the floor, no request
    /// leaves until the quota resets.
    async fn note_quota(&self, headers: &reqwest::header::HeaderMap) {
        let remaining = headers
            .get("x-ms-user-quota-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if remaining.is_none_or(|r| r > self.settings.quota_floor) {
            return;
        }
        let resets = headers
            .get("x-ms-user-quota-resets-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_hms)
            .unwrap_or(Duration::from_secs(5));
        let until = Instant::now() + resets;
        let mut p = self.pause_until.lock().await;
        if p.is_none_or(|old| old < until) {
            *p = Some(until);
        }
    }

    async fn wait_for_quota(&self, req: &Request) -> Result<(), HttpError> {
        let until = *self.pause_until.lock().await;
        let Some(until) = until else { return Ok(()) };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        if left > self.settings.quota_max_wait {
            return Err(HttpError::QuotaExhausted { request: req.describe(), resets_after: left });
        }
        self.counters.quota_pauses.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(left).await;
        Ok(())
    }
}

/// Headers to add to one attempt of a request (an AWS signature).
pub type Signer<'a> = dyn Fn(&Request) -> Vec<(&'static str, String)> + Send + Sync + 'a;

enum Attempt {
    Done(Reply),
    Fatal(HttpError),
    Retry { error: HttpError, retry_after: Option<Duration> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_times_and_error_bodies() {
        assert_eq!(parse_hms("00:00:03"), Some(Duration::from_secs(3)));
        assert_eq!(parse_hms("01:00:00"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_hms("soon"), None);
        let (c, m) = error_text(br#"{"error":{"code":"AuthorizationFailed","message":"no\u001b[31m"}}"#);
        assert_eq!(c.as_deref(), Some("AuthorizationFailed"));
        assert!(!m.contains('\u{1b}'), "{m}");
        let (c, m) = error_text(br#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#);
        assert_eq!((c.as_deref(), m.as_str()), (Some("invalid_client"), "AADSTS7000215"));
        let (c, m) = error_text(br#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#);
        assert_eq!((c.as_deref(), m.as_str()), (Some("PERMISSION_DENIED"), "denied"));
        let (_, m) = error_text(&vec![b'x'; 5000]);
        assert!(m.len() <= MAX_MESSAGE + 3);
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let c = Client::new(HttpSettings {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(500),
            ..Default::default()
        })
        .unwrap();
        for a in 0..10 {
            let d = c.backoff(a);
            assert!(d <= Duration::from_millis(500), "{d:?}");
        }
        assert!(c.backoff(0) >= Duration::from_millis(50));
        assert!(c.backoff(5) >= Duration::from_millis(250));
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Client::new(HttpSettings::default()).unwrap();
        c.add_secret("s3cr3t-value-123");
        assert_eq!(c.redact("token s3cr3t-value-123 here"), "token [redacted] here");
    }
}
