//! The OAuth 2.0 JWT bearer flow (docs/salesforce-api.md §1.4): a Connected App with a
//! certificate logs in as a user without a secret on the wire. The assertion is an RS256
//! JWT with the claims `iss` (consumer key), `sub` (username), `aud` (login host) and `exp`
//! (at most 3 minutes ahead), signed with the app's private key (PEM).
//!
//! Encoding and signing are `jsonwebtoken`'s; this module only fixes the claims Salesforce
//! expects and keeps the key out of logs and errors.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;

/// Why an assertion could not be made. The key itself never appears in the message.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The PEM is not an RSA private key (PKCS#1 or PKCS#8).
    #[error("the JWT private key is not a usable RSA private key PEM: {0}")]
    BadKey(String),
    /// Signing failed.
    #[error("signing the JWT failed: {0}")]
    Signing(String),
}

/// A parsed private key that signs assertions.
pub struct AssertionSigner {
    key: EncodingKey,
}

impl std::fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AssertionSigner(<private key>)")
    }
}

/// The claims Salesforce reads from the assertion.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

impl AssertionSigner {
    /// Reads an RSA private key PEM (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| JwtError::BadKey(kind_name(&e)))?;
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
        let claims = Claims {
            iss: client_id,
            sub: username,
            aud: audience,
            exp: expires_at,
        };
        encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| JwtError::Signing(kind_name(&e)))
    }
}

/// The kind of a `jsonwebtoken` error, without any key material.
fn kind_name(error: &jsonwebtoken::errors::Error) -> String {
    format!("{:?}", error.kind())
}
