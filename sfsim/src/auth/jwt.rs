//! JWT bearer assertions (RFC 7523) as Salesforce checks them (docs/salesforce-api.md §1.4):
//! RS256 signature against the connected app's certificate, `iss` = consumer key, `aud` = the
//! login host, `sub` (or `prn`, which wins) = a pre-approved user, `exp` in the future with
//! about three minutes of clock-skew allowance.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
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

/// The claims the simulator reads.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
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
    rsa_public_key: Vec<u8>,
}

impl JwtVerifier {
    /// Reads `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) or
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        let der = STANDARD
            .decode(body.trim())
            .map_err(|error| format!("public key PEM is not base64: {error}"))?;
        let rsa_public_key = if pem.contains("BEGIN RSA PUBLIC KEY") {
            der
        } else {
            spki_to_pkcs1(&der).ok_or("public key is not an RSA SubjectPublicKeyInfo")?
        };
        Ok(Self { rsa_public_key })
    }

    /// Verifies `assertion` for consumer key `client_id`, accepting any of `audiences`.
    pub fn verify(
        &self,
        assertion: &str,
        client_id: &str,
        audiences: &[String],
        now_secs: i64,
    ) -> Result<VerifiedAssertion, JwtError> {
        let mut parts = assertion.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::InvalidAssertion);
        };
        let header: Value = decode_json(header)?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(JwtError::InvalidAssertion);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::InvalidAssertion)?;
        let signed = &assertion[..header_and_payload_len(assertion)];
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.rsa_public_key)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| JwtError::InvalidAssertion)?;
        let claims: Claims = decode_json(payload)?;
        if claims.iss.as_deref() != Some(client_id) {
            return Err(JwtError::UnknownClient);
        }
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

fn audience_matches(aud: &str, audiences: &[String]) -> bool {
    let aud = aud.trim_end_matches('/');
    audiences
        .iter()
        .any(|allowed| allowed.trim_end_matches('/') == aud)
}

fn header_and_payload_len(assertion: &str) -> usize {
    assertion.rfind('.').unwrap_or(assertion.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::InvalidAssertion)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::InvalidAssertion)
}

/// Extracts the PKCS#1 `RSAPublicKey` from a DER SubjectPublicKeyInfo:
/// `SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING { RSAPublicKey } }`.
fn spki_to_pkcs1(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, outer, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (algorithm_tag, algorithm, rest) = read_tlv(outer)?;
    // 1.2.840.113549.1.1.1 (rsaEncryption)
    const RSA_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    if algorithm_tag != 0x30 || !algorithm.starts_with(RSA_OID) {
        return None;
    }
    let (bits_tag, bits, _) = read_tlv(rest)?;
    if bits_tag != 0x03 || bits.first() != Some(&0) {
        return None;
    }
    Some(bits[1..].to_vec())
}

/// Reads one DER tag-length-value: `(tag, value, remainder)`.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first_length = *input.get(1)?;
    let (length, header) = if first_length < 0x80 {
        (usize::from(first_length), 2)
    } else {
        let octets = usize::from(first_length & 0x7f);
        if octets == 0 || octets > 4 {
            return None;
        }
        let length = input
            .get(2..2 + octets)?
            .iter()
            .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
        (length, 2 + octets)
    };
    let value = input.get(header..header + length)?;
    Some((tag, value, &input[header + length..]))
}
