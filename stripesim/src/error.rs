//! Errors as Stripe puts them on the wire: `{"error": {"type", "code", "message", "param"}}`
//! with Stripe's HTTP statuses (https://docs.stripe.com/api/errors), and the simulator's
//! own startup errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// A failed API call, rendered as Stripe's error object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {kind}: {message}")]
pub struct StripeError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stripe's `type`: `invalid_request_error`, `idempotency_error`, `api_error`, ...
    pub kind: &'static str,
    /// Stripe's machine-readable `code`, when Stripe gives one.
    pub code: Option<&'static str>,
    /// Human-readable text.
    pub message: String,
    /// The request parameter the error is about.
    pub param: Option<String>,
}

impl StripeError {
    /// 400 `invalid_request_error` with the given code and parameter.
    pub fn invalid(
        code: Option<&'static str>,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code,
            message: message.into(),
            param: param.map(str::to_string),
        }
    }

    /// 400 `parameter_missing` for a required parameter.
    pub fn missing_param(param: &str) -> Self {
        Self::invalid(
            Some("parameter_missing"),
            format!("Missing required param: {param}."),
            Some(param),
        )
    }

    /// 404 `resource_missing`, worded as Stripe words it (`No such customer: 'cus_x'`).
    pub fn no_such(resource: &str, id: &str, param: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: Some("resource_missing"),
            ..Self::invalid(None, format!("No such {resource}: '{id}'"), Some(param))
        }
    }

    /// 401: no key or a key that is not accepted (Stripe types it `invalid_request_error`).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            ..Self::invalid(None, message, None)
        }
    }

    /// 404 for a path the API does not have.
    pub fn unrecognized_url(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            ..Self::invalid(
                None,
                format!("Unrecognized request URL ({method}: {path})."),
                None,
            )
        }
    }

    /// An `idempotency_error` with the given status (400 mismatch, 409 in flight).
    pub fn idempotency(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            kind: "idempotency_error",
            ..Self::invalid(None, message, None)
        }
    }

    /// 500 `api_error` for a failure of the simulator itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "api_error",
            ..Self::invalid(None, message, None)
        }
    }

    /// The body: `{"error": {...}}`, leaving out `code` and `param` when there are none.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), json!(self.kind));
        error.insert("message".into(), json!(self.message));
        if let Some(code) = self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        json!({ "error": error })
    }
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A configuration value is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_missing_has_stripe_shape() {
        let body = StripeError::no_such("customer", "cus_x", "id").body();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "resource_missing");
        assert_eq!(body["error"]["message"], "No such customer: 'cus_x'");
        assert_eq!(body["error"]["param"], "id");
    }

    #[test]
    fn absent_code_and_param_are_left_out() {
        let body = StripeError::unauthorized("no key").body();
        assert!(body["error"].get("code").is_none());
        assert!(body["error"].get("param").is_none());
    }
}
