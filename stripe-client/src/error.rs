//! Stripe failures and their classification.
//!
//! Like the Salesforce client's, every failure falls in one of four classes, because the
//! class decides what the caller does: retry later, slow down, fix the credentials, or give
//! up on the request (dead-letter what caused it).

use std::{fmt, time::Duration};

use serde::Deserialize;

/// What a failure means for the work that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// Try again (same idempotency key): 5xx, 409 (a request with the key still running, or
    /// a lock), timeouts, connection errors, or Stripe said `Stripe-Should-Retry: true`.
    Retryable,
    /// 429: the account's rate limit. Slow down, then try again.
    RateLimited,
    /// 401 or 403: the key is wrong, revoked, or lacks a permission. No retry helps.
    Auth,
    /// 400, 402, 404 and anything else Stripe refuses: the request itself is wrong, or
    /// Stripe said `Stripe-Should-Retry: false`.
    Permanent,
}

impl FailureClass {
    /// Stable label for metrics and dead letters.
    pub fn label(self) -> &'static str {
        match self {
            FailureClass::Retryable => "retryable",
            FailureClass::RateLimited => "rate_limited",
            FailureClass::Auth => "auth",
            FailureClass::Permanent => "permanent",
        }
    }

    /// Whether a later attempt of the same request can succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, FailureClass::Retryable | FailureClass::RateLimited)
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Classifies a response Stripe answered with `status`, given its `Stripe-Should-Retry`
/// header. The header wins when present, as in Stripe's own libraries (stripe-node's and
/// stripe-python's `_should_retry`); authentication failures stay `Auth` whatever it says.
pub fn classify(status: u16, should_retry: Option<bool>) -> FailureClass {
    match (status, should_retry) {
        (401 | 403, _) => FailureClass::Auth,
        (429, Some(false)) => FailureClass::Permanent,
        (429, _) => FailureClass::RateLimited,
        (_, Some(true)) => FailureClass::Retryable,
        (_, Some(false)) => FailureClass::Permanent,
        (409 | 500..=599, None) => FailureClass::Retryable,
        _ => FailureClass::Permanent,
    }
}

/// Stripe's error object (`{"error": {...}}`), as the API reference's "Errors" page
/// describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// `api_error`, `card_error`, `idempotency_error`, `invalid_request_error`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A short machine-readable code, when Stripe gives one (`resource_missing`, ...).
    #[serde(default)]
    pub code: Option<String>,
    /// The human-readable message. It can quote parameter values: keep it out of info logs.
    #[serde(default)]
    pub message: Option<String>,
    /// The parameter the error is about.
    #[serde(default)]
    pub param: Option<String>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error status.
    #[error("Stripe answered {status} ({class}): {kind}{code}", kind = error.kind, code = error.code.as_deref().map(|c| format!("/{c}")).unwrap_or_default())]
    Api {
        /// The HTTP status.
        status: u16,
        /// What it means for the caller.
        class: FailureClass,
        /// Stripe's error object (empty when the body was not one); boxed to keep results small.
        error: Box<ApiError>,
        /// The `Request-Id` header, for Stripe's support and dashboard logs.
        request_id: Option<String>,
        /// How long Stripe asked to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, reset, or the timeout passed. Retryable: with an
    /// idempotency key the retry cannot act twice.
    #[error("no answer from Stripe: {0}")]
    Transport(String),
    /// Stripe answered 2xx with a body that is not the object expected.
    #[error("unexpected answer from Stripe ({request_id:?}): {detail}")]
    Decode {
        /// What did not parse.
        detail: String,
        /// The `Request-Id` header.
        request_id: Option<String>,
    },
    /// The gate refused to admit the call because the process is stopping; nothing was sent.
    #[error("stopping: the Stripe call was not sent")]
    Interrupted,
}

impl StripeError {
    /// The failure's class. A response that did not decode is permanent (retrying reads the
    /// same body); an interrupted call is retryable (it was never sent).
    pub fn class(&self) -> FailureClass {
        match self {
            StripeError::Api { class, .. } => *class,
            StripeError::Transport(_) | StripeError::Interrupted => FailureClass::Retryable,
            StripeError::Decode { .. } => FailureClass::Permanent,
        }
    }

    /// Stripe's error code, if it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            StripeError::Api { error, .. } => error.code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, if Stripe answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            StripeError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_in_their_classes() {
        assert_eq!(classify(400, None), FailureClass::Permanent);
        assert_eq!(classify(402, None), FailureClass::Permanent);
        assert_eq!(classify(404, None), FailureClass::Permanent);
        assert_eq!(classify(401, None), FailureClass::Auth);
        assert_eq!(classify(403, Some(true)), FailureClass::Auth);
        assert_eq!(classify(409, None), FailureClass::Retryable);
        assert_eq!(classify(429, None), FailureClass::RateLimited);
        assert_eq!(classify(500, None), FailureClass::Retryable);
        assert_eq!(classify(503, None), FailureClass::Retryable);
    }

    #[test]
    fn should_retry_header_overrides_the_status() {
        assert_eq!(classify(500, Some(false)), FailureClass::Permanent);
        assert_eq!(classify(400, Some(true)), FailureClass::Retryable);
        assert_eq!(classify(429, Some(false)), FailureClass::Permanent);
        assert_eq!(classify(429, Some(true)), FailureClass::RateLimited);
    }

    #[test]
    fn the_display_names_status_class_and_code_but_not_the_message() {
        let error = StripeError::Api {
            status: 400,
            class: FailureClass::Permanent,
            error: Box::new(ApiError {
                kind: "invalid_request_error".into(),
                code: Some("email_invalid".into()),
                message: Some("Invalid email address: jane@example.com".into()),
                param: Some("email".into()),
            }),
            request_id: Some("req_1".into()),
            retry_after: None,
        };
        let text = error.to_string();
        assert_eq!(
            text,
            "Stripe answered 400 (permanent): invalid_request_error/email_invalid"
        );
        assert!(!text.contains("jane"));
    }
}
