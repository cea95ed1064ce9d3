//! The `gcp-service-account` built-in: a service-account key is checked by signing a JWT with
//! it (RS256) and exchanging it at Google's OAuth token endpoint, the way client libraries do.
//! A deleted key or account answers `invalid_grant` with a signature or account error.

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// The token endpoint (also the JWT audience).
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Why no assertion could be signed.
#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    /// The key material cannot sign anything: the credential is unusable (verification says
    /// dead without asking anyone).
    #[error("{0}")]
    UnusableKey(String),
    /// Signing failed for another reason (the random source): nothing is concluded.
    #[error("signing failed")]
    Signing,
}

/// A signed assertion for `client_email`, valid for ten minutes from `now` (Unix seconds).
pub fn assertion(
    private_key_pem: &str,
    client_email: &str,
    audience: &str,
    now: i64,
) -> Result<String, AssertionError> {
    let der = super::keys::pem_der(private_key_pem).ok_or_else(|| {
        AssertionError::UnusableKey("the private key is not valid PEM".to_string())
    })?;
    let key = RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| AssertionError::UnusableKey(format!("not a usable RSA key: {e}")))?;
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": client_email,
        "scope": "https://www.googleapis.com/auth/cloud-platform.read-only",
        "aud": audience,
        "iat": now,
        "exp": now + 600,
    });
    let payload = b64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| AssertionError::Signing)?;
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

/// The form body of the token request.
pub fn token_body(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_assertion_has_three_parts_and_the_claims() {
        let rng = ring::rand::SystemRandom::new();
        // ring cannot generate RSA keys; an Ed25519 key must be refused cleanly.
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
        );
        // Both kinds of bad key material are *unusable keys* (a dead credential), decided by
        // the error's type, not its wording.
        assert!(matches!(
            assertion(&pem, "a@b.iam.gserviceaccount.com", TOKEN_URL, 0),
            Err(AssertionError::UnusableKey(_))
        ));
        assert!(matches!(
            assertion(
                "not pem at all",
                "a@b.iam.gserviceaccount.com",
                TOKEN_URL,
                0
            ),
            Err(AssertionError::UnusableKey(_))
        ));
        assert!(token_body("x.y.z").ends_with("&assertion=x.y.z"));
    }
}
