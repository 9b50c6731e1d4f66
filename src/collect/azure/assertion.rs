//! Certificate credentials: a client assertion (a JWT signed RS256 with the certificate's private
//! key, `x5t` = the certificate's SHA-1 thumbprint) that Entra ID exchanges for a token.
//! `AZURE_CLIENT_CERTIFICATE_PATH` names a PEM file holding the certificate and its unencrypted
//! private key (PKCS#8 or PKCS#1), as `az ad sp create-for-rbac --create-cert` writes it.

use crate::collect::jwt;
use base64::Engine;
use sha1::Digest;
use std::path::Path;

/// A certificate's key and thumbprint.
pub struct CertificateKey {
    key: jwt::Rs256Key,
    x5t: String,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never appears in a log or an error.
        write!(f, "CertificateKey {{ x5t: {} }}", self.x5t)
    }
}

/// The base64 body of the first PEM block labelled `label`.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    Some(&text[start..stop])
}

impl CertificateKey {
    /// Read the PEM file at `path`.
    pub fn from_pem_file(path: &Path) -> Result<CertificateKey, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("AZURE_CLIENT_CERTIFICATE_PATH {shown}: {e}"))?;
        CertificateKey::from_pem(&text).map_err(|e| format!("AZURE_CLIENT_CERTIFICATE_PATH {shown}: {e}"))
    }

    /// Parse PEM text holding a certificate and its private key.
    pub fn from_pem(text: &str) -> Result<CertificateKey, String> {
        let cert = pem_block(text, "CERTIFICATE").ok_or("no CERTIFICATE block")?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(cert.split_whitespace().collect::<String>())
            .map_err(|e| format!("the certificate is not base64: {e}"))?;
        let x5t = jwt::b64url(&sha1::Sha1::digest(&der));
        let pem = if let Some(body) = pem_block(text, "PRIVATE KEY") {
            format!("-----BEGIN PRIVATE KEY-----{body}-----END PRIVATE KEY-----")
        } else if let Some(body) = pem_block(text, "RSA PRIVATE KEY") {
            format!("-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----")
        } else if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err("the private key is encrypted; give posture an unencrypted PEM (0600)".into());
        } else {
            return Err("no PRIVATE KEY block".into());
        };
        let key = jwt::key_from_pem(&pem)?;
        Ok(CertificateKey { key, x5t })
    }

    /// A signed assertion for `client_id` at the token endpoint `audience`, valid ten minutes.
    pub fn assertion(&self, client_id: &str, audience: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let jti: u128 = rand::random();
        let claims = serde_json::json!({
            "aud": audience, "iss": client_id, "sub": client_id,
            "jti": format!("{jti:032x}"), "nbf": now, "iat": now, "exp": now + 600,
        });
        jwt::sign(&self.key, &header, &claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(CertificateKey::from_pem("nothing").unwrap_err().contains("CERTIFICATE"));
        let only_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(CertificateKey::from_pem(only_cert).unwrap_err().contains("PRIVATE KEY"));
        let enc =
            format!("{only_cert}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assert!(CertificateKey::from_pem(&enc).unwrap_err().contains("encrypted"));
    }
}
