//! AWS Signature Version 4 over the shared HTTP layer's requests: the canonical request, the
//! string to sign and the derived key, as the SigV4 specification gives them. Hand-written over
//! `hmac` + `sha2` (both already in the tree) instead of `aws-sigv4`, whose smithy runtime
//! crates would be compiled for these sixty lines (README, "Collect from AWS").

use super::credential::Credentials;
use crate::collect::http::Request;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm's name, first word of every Authorization header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a signature is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The signing region (`us-east-1` for global services).
    pub region: &'a str,
    /// The signing name of the service (`config`, `iam`, `monitoring`, ...).
    pub service: &'a str,
}

/// The headers that sign `req` at `now`: `x-amz-date`, `x-amz-content-sha256`, the session
/// token when there is one, and `authorization`. `req`'s own headers (content type, target)
/// are signed with them.
pub fn sign(
    req: &Request,
    creds: &Credentials,
    scope: &Scope,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(&'static str, String)> {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let body = req.body_bytes();
    let payload_hash = hex::encode(Sha256::digest(&body));
    let mut out: Vec<(&'static str, String)> =
        vec![("x-amz-date", amz_date.clone()), ("x-amz-content-sha256", payload_hash.clone())];
    if let Some(t) = &creds.session_token {
        out.push(("x-amz-security-token", t.clone()));
    }
    let host = match req.url.port() {
        Some(p) => format!("{}:{p}", req.url.host_str().unwrap_or_default()),
        None => req.url.host_str().unwrap_or_default().to_string(),
    };
    let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
    headers.extend(req.headers.iter().chain(out.iter()).map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string())));
    headers.sort();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let method = req.method.as_str();
    let path = if req.url.path().is_empty() { "/" } else { req.url.path() };
    let canonical = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        canonical_path(path),
        canonical_query(&req.url)
    );
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let to_sign =
        format!("{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut key = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), date.as_bytes());
    for part in [scope.region, scope.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    out.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding of everything but the unreserved characters, as SigV4 wants.
fn encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// The path as sent, each segment encoded again (non-S3 services sign the encoded path).
fn canonical_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// The query's pairs, decoded, re-encoded and sorted.
fn canonical_query(url: &url::Url) -> String {
    let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (encode(&k), encode(&v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn example_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            source: "test".into(),
        }
    }

    /// The key derivation and string to sign agree with the specification's worked example
    /// (the signing key of 20120215/us-east-1/iam).
    #[test]
    fn the_derived_key_matches_the_specification() {
        let mut key = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215");
        for part in ["us-east-1", "iam", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        assert_eq!(hex::encode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn a_request_is_signed_with_its_scope_and_headers() {
        let url = url::Url::parse("http://127.0.0.1:8080/?Version=2010-05-08&Action=ListUsers").unwrap();
        let mut req = Request::post_raw(url, "application/x-www-form-urlencoded; charset=utf-8", b"a=b".to_vec());
        req.headers.push(("x-amz-target", "X.Y".into()));
        let now = chrono::Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap();
        let mut creds = example_creds();
        creds.session_token = Some("TOKEN".into());
        let h = sign(&req, &creds, &Scope { region: "us-east-1", service: "iam" }, now);
        let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap();
        let auth = get("authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "));
        assert!(
            auth.contains(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target,"
            ),
            "{auth}"
        );
        assert_eq!(get("x-amz-date"), "20150830T123600Z");
        assert_eq!(get("x-amz-security-token"), "TOKEN");
        // the body is covered: another body, another signature
        let mut other = req.clone();
        other.raw = Some(b"a=c".to_vec());
        let h2 = sign(&other, &creds, &Scope { region: "us-east-1", service: "iam" }, now);
        assert_ne!(h2.last(), h.last());
        assert_eq!(canonical_query(&req.url), "Action=ListUsers&Version=2010-05-08");
        assert_eq!(encode("a b/c~"), "a%20b%2Fc~");
    }
}
