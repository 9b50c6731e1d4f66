//! Certificate credentials: a client assertion (a JWT signed RS256 with the certificate's private
//! key, `x5t` = the certificate's SHA-1 thumbprint) that Entra ID exchanges for a token.
//! `AZURE_CLIENT_CERTIFICATE_PATH` names a PEM file holding the certificate and its unencrypted
//! private key (PKCS#8 or PKCS#1), as `az ad sp create-for-rbac --create-cert` writes it.

use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha1::Digest;
use std::path::Path;

/// A certificate's key and thumbprint.
pub struct CertificateKey {
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    x5t: String,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never appears in a log or an error.
        write!(f, "CertificateKey {{ x5t: {} }}", self.x5t)
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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
        let x5t = b64(&sha1::Sha1::digest(&der));
        let key = if let Some(body) = pem_block(text, "PRIVATE KEY") {
            rsa::RsaPrivateKey::from_pkcs8_pem(&format!("-----BEGIN PRIVATE KEY-----{body}-----END PRIVATE KEY-----"))
                .map_err(|e| format!("the private key is not an RSA PKCS#8 key: {e}"))?
        } else if let Some(body) = pem_block(text, "RSA PRIVATE KEY") {
            rsa::RsaPrivateKey::from_pkcs1_pem(&format!(
                "-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----"
            ))
            .map_err(|e| format!("the private key is not an RSA PKCS#1 key: {e}"))?
        } else if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err("the private key is encrypted; give posture an unencrypted PEM (0600)".into());
        } else {
            return Err("no PRIVATE KEY block".into());
        };
        Ok(CertificateKey { key: rsa::pkcs1v15::SigningKey::new(key), x5t })
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
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = self.key.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", b64(&signature))
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
