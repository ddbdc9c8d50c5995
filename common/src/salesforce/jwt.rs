//! The OAuth 2.0 JWT bearer flow (docs/salesforce-api.md §1.4): a Connected App with a
//! certificate logs in as a user without a secret on the wire. The assertion is
//! `base64url(header).base64url(claims).base64url(RS256 signature)` with the claims
//! `iss` (consumer key), `sub` (username), `aud` (login host) and `exp` (at most 3 minutes
//! ahead), signed with the app's private key (PKCS#8 PEM).

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::json;

/// Why an assertion could not be made. The key itself never appears in the message.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The PEM is not a base64 PKCS#8 block.
    #[error("the JWT private key is not a PKCS#8 PEM (BEGIN PRIVATE KEY)")]
    NotPem,
    /// The key is not an RSA key ring accepts.
    #[error("the JWT private key is not a usable RSA key: {0}")]
    BadKey(String),
    /// Signing failed.
    #[error("signing the JWT failed")]
    Signing,
}

/// A parsed private key that signs assertions.
pub struct AssertionSigner {
    key: RsaKeyPair,
}

impl std::fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AssertionSigner(<private key>)")
    }
}

impl AssertionSigner {
    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = STANDARD.decode(body).map_err(|_| JwtError::NotPem)?;
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|e| JwtError::BadKey(e.to_string()))?;
        Ok(Self { key })
    }

    /// An assertion for `username` of the app `client_id`, for `audience`, valid until
    /// `expires_at` (Unix seconds).
    pub fn assertion(
        &self,
        client_id: &str,
        username: &str,
        audience: &str,
        expires_at: i64,
    ) -> Result<String, JwtError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let claims =
            json!({ "iss": client_id, "sub": username, "aud": audience, "exp": expires_at });
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| JwtError::Signing)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}
