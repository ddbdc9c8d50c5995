//! JWT bearer assertions (RFC 7523) as Salesforce checks them (docs/salesforce-api.md §1.4):
//! RS256 signature against the connected app's certificate, `iss` = consumer key, `aud` = the
//! login host, `sub` (or `prn`, which wins) = a pre-approved user, `exp` in the future with
//! about three minutes of clock-skew allowance.
//!
//! The `jsonwebtoken` crate reads the key and the token and checks the algorithm, the
//! signature and `iss`. The other claims follow rules its `Validation` cannot express, so
//! they are checked here: `aud` is a string or an array and may end in `/`, `exp` is a
//! number or a string (clients send both), and `prn` wins over `sub`. The order of the checks
//! decides the error when several fail: format and signature, `iss`, `aud`, `exp`, user.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Clock-skew allowance on `exp` (§1.4: about 3 minutes).
const EXP_LEEWAY_SECS: i64 = 180;

/// Why an assertion was refused, mapped to the token endpoint's error texts (§1.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Bad format, algorithm, signature or expiry: `invalid_grant` / `invalid assertion`.
    #[error("invalid assertion")]
    InvalidAssertion,
    /// Wrong `aud`: `invalid_grant` / `audience is invalid`.
    #[error("audience is invalid")]
    BadAudience,
    /// `iss` is not the consumer key: `invalid_client_id` / `client identifier invalid`.
    #[error("client identifier invalid")]
    UnknownClient,
}

/// The claims the simulator reads (`iss` is checked by `jsonwebtoken`).
#[derive(Debug, Deserialize)]
struct Claims {
    /// Read only for its type: an `iss` that is not a string makes the assertion malformed.
    #[serde(rename = "iss")]
    _iss: Option<String>,
    sub: Option<String>,
    prn: Option<String>,
    aud: Option<Value>,
    exp: Option<Value>,
}

/// A verified assertion: the user it names.
#[derive(Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// `prn` if present, else `sub`.
    pub username: String,
}

/// An RSA public key read from PEM, ready to verify RS256 signatures.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
}

impl JwtVerifier {
    /// Reads `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) or
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        // `jsonwebtoken` would also take a private key here, and then refuse every assertion.
        if !pem.contains("-----BEGIN PUBLIC KEY-----")
            && !pem.contains("-----BEGIN RSA PUBLIC KEY-----")
        {
            return Err(
                "expected an RSA public key PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)".into(),
            );
        }
        let key = DecodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|error| format!("public key PEM is not an RSA public key: {error}"))?;
        Ok(Self { key })
    }

    /// Verifies `assertion` for consumer key `client_id`, accepting any of `audiences`.
    pub fn verify(
        &self,
        assertion: &str,
        client_id: &str,
        audiences: &[String],
        now_secs: i64,
    ) -> Result<VerifiedAssertion, JwtError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims = ["iss".to_string()].into();
        validation.set_issuer(&[client_id]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(assertion, &self.key, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidIssuer | ErrorKind::MissingRequiredClaim(_) => {
                    JwtError::UnknownClient
                }
                _ => JwtError::InvalidAssertion,
            })?
            .claims;
        let audience_ok = match &claims.aud {
            Some(Value::String(aud)) => audience_matches(aud, audiences),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .any(|aud| audience_matches(aud, audiences)),
            _ => false,
        };
        if !audience_ok {
            return Err(JwtError::BadAudience);
        }
        // Clients send exp as a number or a string (§1.4).
        let exp = match &claims.exp {
            Some(Value::Number(number)) => number.as_i64(),
            Some(Value::String(text)) => text.parse().ok(),
            _ => None,
        }
        .ok_or(JwtError::InvalidAssertion)?;
        if exp + EXP_LEEWAY_SECS < now_secs {
            return Err(JwtError::InvalidAssertion);
        }
        let username = claims
            .prn
            .or(claims.sub)
            .ok_or(JwtError::InvalidAssertion)?;
        Ok(VerifiedAssertion { username })
    }
}

/// Whether `aud` is one of `audiences`, a trailing `/` on either side aside.
fn audience_matches(aud: &str, audiences: &[String]) -> bool {
    let aud = aud.trim_end_matches('/');
    audiences
        .iter()
        .any(|allowed| allowed.trim_end_matches('/') == aud)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::test_keys::{PRIVATE_KEY_PEM, PUBLIC_KEY_PEM};

    const NOW: i64 = 1_750_000_000;

    fn sign(claims: &Value) -> String {
        let header = Header {
            typ: None,
            ..Header::new(Algorithm::RS256)
        };
        let key = EncodingKey::from_rsa_pem(PRIVATE_KEY_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn verify(claims: &Value) -> Result<VerifiedAssertion, JwtError> {
        let audiences = ["https://login.salesforce.com".to_string()];
        JwtVerifier::from_pem(PUBLIC_KEY_PEM)
            .unwrap()
            .verify(&sign(claims), "app", &audiences, NOW)
    }

    fn user(name: &str) -> Result<VerifiedAssertion, JwtError> {
        Ok(VerifiedAssertion {
            username: name.to_string(),
        })
    }

    #[test]
    fn claims_as_salesforce_reads_them() {
        let aud = "https://login.salesforce.com";
        assert_eq!(
            verify(&json!({"iss": "app", "sub": "u@x", "aud": aud, "exp": NOW})),
            user("u@x")
        );
        let lenient = json!({
            "iss": "app", "sub": "u@x", "prn": "p@x",
            "aud": ["other", format!("{aud}/")], "exp": (NOW - 170).to_string()
        });
        assert_eq!(
            verify(&lenient),
            user("p@x"),
            "prn wins, aud may be an array and end in /, exp may be a string within the leeway"
        );
        for (claims, error) in [
            (
                json!({"sub": "u@x", "aud": aud, "exp": NOW}),
                JwtError::UnknownClient,
            ),
            (
                json!({"iss": "other", "aud": aud, "exp": NOW}),
                JwtError::UnknownClient,
            ),
            (
                json!({"iss": 7, "sub": "u@x", "aud": aud, "exp": NOW}),
                JwtError::InvalidAssertion,
            ),
            (
                json!({"iss": "app", "sub": "u@x", "exp": NOW}),
                JwtError::BadAudience,
            ),
            (
                json!({"iss": "app", "sub": "u@x", "aud": 1, "exp": NOW}),
                JwtError::BadAudience,
            ),
            (
                json!({"iss": "app", "sub": "u@x", "aud": aud, "exp": NOW - 181}),
                JwtError::InvalidAssertion,
            ),
            (
                json!({"iss": "app", "sub": "u@x", "aud": aud, "exp": "soon"}),
                JwtError::InvalidAssertion,
            ),
            (
                json!({"iss": "app", "sub": "u@x", "aud": aud}),
                JwtError::InvalidAssertion,
            ),
            (
                json!({"iss": "app", "aud": aud, "exp": NOW}),
                JwtError::InvalidAssertion,
            ),
            // Several problems: the first in Salesforce's order decides.
            (
                json!({"iss": "other", "sub": "u@x", "aud": "nope"}),
                JwtError::UnknownClient,
            ),
            (
                json!({"iss": "app", "aud": "nope", "exp": 0}),
                JwtError::BadAudience,
            ),
        ] {
            assert_eq!(verify(&claims), Err(error), "{claims}");
        }
    }

    #[test]
    fn only_rs256_signed_by_the_key() {
        let verifier = JwtVerifier::from_pem(PUBLIC_KEY_PEM).unwrap();
        let audiences = ["https://login.salesforce.com".to_string()];
        let good = sign(&json!({"iss": "app", "sub": "u", "aud": &audiences[0], "exp": NOW}));
        let (signed, signature) = good.rsplit_once('.').unwrap();
        let mut tampered = signature.to_string();
        tampered.replace_range(..1, if tampered.starts_with('A') { "B" } else { "A" });
        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"iss": "app", "sub": "u", "aud": &audiences[0], "exp": NOW}),
            &EncodingKey::from_secret(PUBLIC_KEY_PEM.as_bytes()),
        )
        .unwrap();
        for assertion in [
            format!("{signed}.{tampered}"),
            hs256,
            "not.a.jwt".to_string(),
            format!("{good}.extra"),
            String::new(),
        ] {
            assert_eq!(
                verifier.verify(&assertion, "app", &audiences, NOW),
                Err(JwtError::InvalidAssertion),
                "{assertion}"
            );
        }
    }

    #[test]
    fn keys_must_be_rsa_public_keys() {
        assert!(JwtVerifier::from_pem(PRIVATE_KEY_PEM).is_err());
        assert!(JwtVerifier::from_pem(
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"
        )
        .is_err());
    }

    #[test]
    fn pkcs1_public_keys_work_too() {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        let body: String = PUBLIC_KEY_PEM
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        // A 2048-bit key's SubjectPublicKeyInfo is a 24-byte prefix and the PKCS#1 key.
        let pkcs1 = STANDARD.encode(&STANDARD.decode(body).unwrap()[24..]);
        let pem =
            format!("-----BEGIN RSA PUBLIC KEY-----\n{pkcs1}\n-----END RSA PUBLIC KEY-----\n");
        let audiences = ["https://login.salesforce.com".to_string()];
        let assertion = sign(&json!({"iss": "app", "sub": "u", "aud": &audiences[0], "exp": NOW}));
        assert_eq!(
            JwtVerifier::from_pem(&pem)
                .unwrap()
                .verify(&assertion, "app", &audiences, NOW),
            user("u")
        );
    }
}
