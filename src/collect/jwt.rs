//! RS256-signed JWTs, shared by the credentials that prove themselves with a private key:
//! Azure's certificate assertion and a Google service account's token grant.

use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};

/// An RSA key that signs with PKCS#1 v1.5 and SHA-256 (JWS `RS256`).
pub type Rs256Key = rsa::pkcs1v15::SigningKey<sha2::Sha256>;

/// Base64url without padding, as JWS wants it.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.claims.signature`, signed with `key`.
pub fn sign(key: &Rs256Key, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let signature = key.sign(input.as_bytes()).to_bytes();
    format!("{input}.{}", b64url(&signature))
}

/// An unencrypted RSA private key in PEM, PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
/// Errors never quote the key.
pub fn key_from_pem(pem: &str) -> Result<Rs256Key, String> {
    let key = if pem.contains("-----BEGIN PRIVATE KEY-----") {
        rsa::RsaPrivateKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| format!("the private key is not an RSA PKCS#8 key: {e}"))?
    } else if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        rsa::RsaPrivateKey::from_pkcs1_pem(pem.trim())
            .map_err(|e| format!("the private key is not an RSA PKCS#1 key: {e}"))?
    } else if pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err("the private key is encrypted".into());
    } else {
        return Err("no PRIVATE KEY block".into());
    };
    Ok(Rs256Key::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_usable_say_why_without_quoting_them() {
        assert_eq!(key_from_pem("nothing").unwrap_err(), "no PRIVATE KEY block");
        let bad = "-----BEGIN PRIVATE KEY-----\nQUJDRA==\n-----END PRIVATE KEY-----\n";
        let e = key_from_pem(bad).unwrap_err();
        assert!(e.contains("PKCS#8") && !e.contains("QUJDRA"), "{e}");
        assert!(key_from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap_err().contains("encrypted"));
    }
}
