//! Verification of the `Stripe-Signature` header, exactly as Stripe's official libraries do it.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`. The signed payload is
//! `"{t}.{raw body}"`; the expected signature is the lowercase hex HMAC-SHA256 of it, keyed
//! with the whole `whsec_...` secret as UTF-8 bytes. Any `v1` item may match (Stripe sends
//! one per active secret while a secret is rolled), every other scheme (`v0`, unknown ones)
//! is ignored so an attacker cannot downgrade us, and hex strings are compared in constant
//! time. The timestamp is checked after the signature, like stripe-python.
//!
//! The behaviour follows stripe-python 16.1.0 case by case (docs/stripe-webhooks.md §1.1; the
//! vectors in `common/tests/data/stripe-signature-vectors.json`, described in §9 there, are
//! replayed by the tests), with one deliberate difference: a header with two `t=` items is
//! rejected as malformed, where stripe-python silently takes the first one and
//! stripe-node/stripe-go the last. Stripe never sends two, and the vectors list
//! `malformed_header` as an acceptable outcome.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<Sha256>;

/// How old a signed timestamp may be before the delivery is refused as a possible replay.
///
/// Stripe's libraries treat a tolerance of 0 as "no check"; here that choice is explicit
/// so a configuration mistake can never silently switch replay protection off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// Refuse deliveries signed more than this many seconds before now. Future timestamps
    /// are accepted, as every official library does (clock skew on our side).
    MaxAgeSecs(u64),
    /// Do not look at the timestamp at all. Only for replaying Stripe's own test vectors.
    Unchecked,
}

/// Why a delivery's signature was refused. Each variant is answered with HTTP 400 and its
/// [`code`](SignatureError::code) so the sender (and whoever reads our logs) can tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header, or an empty one.
    #[error("no Stripe-Signature header value was provided")]
    MissingHeader,
    /// The header has no usable `t=` item, an unparsable one, or more than one.
    #[error("unable to extract timestamp and signatures from the Stripe-Signature header")]
    MalformedHeader,
    /// The header parsed but carries no `v1` signature.
    #[error("no signatures found with expected scheme v1")]
    NoV1Signature,
    /// None of the `v1` signatures matches the body under any configured secret.
    #[error("no signature matches the expected signature for the payload")]
    SignatureMismatch,
    /// The signature matches but was made too long ago.
    #[error("timestamp outside the tolerance zone")]
    TimestampOutsideTolerance,
}

impl SignatureError {
    /// Stable machine-readable code used in the HTTP error body and in metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::MissingHeader => "missing_header",
            SignatureError::MalformedHeader => "malformed_header",
            SignatureError::NoV1Signature => "no_v1_signature",
            SignatureError::SignatureMismatch => "signature_mismatch",
            SignatureError::TimestampOutsideTolerance => "timestamp_outside_tolerance",
        }
    }
}

/// The parts of a `Stripe-Signature` header that verification uses.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader<'a> {
    timestamp: i64,
    v1_signatures: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses the header the way stripe-python does: split on `,`, then each item on `=`;
    /// no trimming (`" v1"` is not `"v1"`). Items of other schemes are skipped, but a `t` or
    /// `v1` item without a value makes the whole header malformed.
    fn parse(header: &'a str) -> Result<Self, SignatureError> {
        if header.is_empty() {
            return Err(SignatureError::MissingHeader);
        }
        let mut timestamp = None;
        let mut v1_signatures = Vec::new();
        for item in header.split(',') {
            let mut parts = item.splitn(3, '=');
            let key = parts.next().unwrap_or_default();
            let value = parts.next();
            match key {
                "t" => {
                    let value = value.ok_or(SignatureError::MalformedHeader)?;
                    let parsed = value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::MalformedHeader)?;
                    if timestamp.replace(parsed).is_some() {
                        return Err(SignatureError::MalformedHeader);
                    }
                }
                "v1" => v1_signatures.push(value.ok_or(SignatureError::MalformedHeader)?),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::MalformedHeader)?;
        Ok(Self {
            timestamp,
            v1_signatures,
        })
    }
}

/// Verifies Stripe webhook deliveries against one or more endpoint secrets.
///
/// Several secrets exist while an endpoint secret is rolled: Stripe keeps the old one alive
/// for up to 24 hours and signs with both. Configure both and a delivery signed with either
/// is accepted.
#[derive(Clone)]
pub struct SignatureVerifier {
    secrets: Vec<Vec<u8>>,
    tolerance: Tolerance,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets, not even in debug output.
        f.debug_struct("SignatureVerifier")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl SignatureVerifier {
    /// Builds a verifier. Secrets are used verbatim (no trimming, no base64 decoding), as
    /// Stripe's libraries do; callers validate them when loading configuration.
    pub fn new<S: AsRef<str>>(secrets: &[S], tolerance: Tolerance) -> Self {
        Self {
            secrets: secrets
                .iter()
                .map(|s| s.as_ref().as_bytes().to_vec())
                .collect(),
            tolerance,
        }
    }

    /// Checks `header` against the raw `payload` at time `now` (Unix seconds). Returns the
    /// signed timestamp on success.
    pub fn verify(&self, payload: &[u8], header: &str, now: i64) -> Result<i64, SignatureError> {
        let parsed = SignatureHeader::parse(header)?;
        if parsed.v1_signatures.is_empty() {
            return Err(SignatureError::NoV1Signature);
        }
        let matched = self.secrets.iter().any(|secret| {
            let expected = compute_signature(secret, parsed.timestamp, payload);
            // Evaluate every candidate: no early exit that would leak which one matched.
            parsed
                .v1_signatures
                .iter()
                .fold(subtle::Choice::from(0), |acc, candidate| {
                    acc | expected.as_bytes().ct_eq(candidate.as_bytes())
                })
                .into()
        });
        if !matched {
            return Err(SignatureError::SignatureMismatch);
        }
        if let Tolerance::MaxAgeSecs(max_age) = self.tolerance {
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            if parsed.timestamp < now.saturating_sub(max_age) {
                return Err(SignatureError::TimestampOutsideTolerance);
            }
        }
        Ok(parsed.timestamp)
    }
}

/// Lowercase hex HMAC-SHA256 of `"{timestamp}.{payload}"` keyed with `secret`: the `v1`
/// signature Stripe computes. Public so that test tools can sign deliveries the same way.
pub fn compute_signature(secret: &[u8], timestamp: i64, payload: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_items_of_unknown_schemes_are_ignored() {
        let parsed = SignatureHeader::parse("t=5,v0=abc,v1=def,foo,v1=ghi").unwrap();
        assert_eq!(parsed.timestamp, 5);
        assert_eq!(parsed.v1_signatures, vec!["def", "ghi"]);
    }

    #[test]
    fn duplicate_timestamp_is_malformed() {
        assert_eq!(
            SignatureHeader::parse("t=5,t=6,v1=def"),
            Err(SignatureError::MalformedHeader)
        );
    }

    #[test]
    fn v1_without_value_is_malformed() {
        assert_eq!(
            SignatureHeader::parse("v1,t=1"),
            Err(SignatureError::MalformedHeader)
        );
    }

    #[test]
    fn secret_rotation_accepts_either_secret() {
        let payload = b"{}";
        let old = compute_signature(b"whsec_old", 100, payload);
        let header = format!("t=100,v1={old}");
        let verifier =
            SignatureVerifier::new(&["whsec_new", "whsec_old"], Tolerance::MaxAgeSecs(300));
        assert_eq!(verifier.verify(payload, &header, 100), Ok(100));
        let only_new = SignatureVerifier::new(&["whsec_new"], Tolerance::MaxAgeSecs(300));
        assert_eq!(
            only_new.verify(payload, &header, 100),
            Err(SignatureError::SignatureMismatch)
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let verifier = SignatureVerifier::new(&["whsec_supersecret"], Tolerance::Unchecked);
        assert!(!format!("{verifier:?}").contains("supersecret"));
    }
}
