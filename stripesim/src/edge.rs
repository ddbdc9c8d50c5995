//! What every request passes before a handler: a `Request-Id` (`req_…`) on every response,
//! the `Stripe-Version` header echoed (or the account's version), and, for `/v1/`, the
//! secret key as HTTP Bearer or Basic auth (key as user, empty password), as Stripe takes it
//! (https://docs.stripe.com/api/authentication).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::StripeError;
use crate::gate;
use crate::state::{new_id, AppState};

/// The id of the request being handled, as sent back in `Request-Id` and recorded in the
/// `request` of the events it causes.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The secret key the request authenticated with (the idempotency scope).
#[derive(Debug, Clone)]
pub struct ApiKey(pub String);

/// The middleware: request id, version, the key check for `/v1/` paths, then the
/// [`gate`] (faults and rate limits) for authenticated API requests.
pub async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let request_id = new_id("req");
    let version = request
        .headers()
        .get("stripe-version")
        .cloned()
        .or_else(|| HeaderValue::from_str(&state.config.api_version).ok());
    let mut response = if request.uri().path().starts_with("/v1/") {
        match authenticate(request.headers(), state.config.api_key.as_deref()) {
            Ok(key) => match gate::check(&state, gate::Call::of(&request)).await {
                Some(refused) => refused,
                None => {
                    request.extensions_mut().insert(ApiKey(key));
                    request
                        .extensions_mut()
                        .insert(RequestId(request_id.clone()));
                    next.run(request).await
                }
            },
            Err(error) => error.into_response(),
        }
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", value);
    }
    if let Some(version) = version {
        headers.insert("stripe-version", version);
    }
    response
}

/// The key from `Authorization`, if it is one this account accepts: `expected` when
/// configured, otherwise any `sk_test_…` key.
pub fn authenticate(headers: &HeaderMap, expected: Option<&str>) -> Result<String, StripeError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(StripeError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    };
    let key = if let Some(token) = value.strip_prefix("Bearer ") {
        token.trim().to_string()
    } else if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        decoded.split(':').next().unwrap_or_default().to_string()
    } else {
        return Err(StripeError::unauthorized(
            "Invalid Authorization header: use Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    };
    let accepted = match expected {
        Some(expected) => key == expected,
        None => key.starts_with("sk_test_") && key.len() > "sk_test_".len(),
    };
    if accepted {
        Ok(key)
    } else {
        Err(StripeError::unauthorized(format!(
            "Invalid API Key provided: {}",
            redact(&key)
        )))
    }
}

/// A key as Stripe shows it in errors: prefix, stars, last four characters.
pub fn redact(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn bearer_and_basic_carry_the_key() {
        let basic = base64::engine::general_purpose::STANDARD.encode("sk_test_abc:");
        for value in ["Bearer sk_test_abc".to_string(), format!("Basic {basic}")] {
            assert_eq!(
                authenticate(&with_auth(&value), None).expect("accepted"),
                "sk_test_abc"
            );
        }
    }

    #[test]
    fn configured_key_is_the_only_one_accepted() {
        let headers = with_auth("Bearer sk_test_other");
        assert!(authenticate(&headers, Some("sk_test_mine")).is_err());
        assert!(authenticate(&with_auth("Bearer sk_live_x"), None).is_err());
        assert_eq!(
            authenticate(&HeaderMap::new(), None)
                .expect_err("no key")
                .status,
            401
        );
    }

    #[test]
    fn redaction_keeps_only_prefix_and_last_four() {
        assert_eq!(redact("sk_test_1234567890abcd"), "sk_test_**********abcd");
    }
}
