//! Salesforce failures and their classification.
//!
//! Every failure, whether of a whole call or of one record inside a Collections or Bulk
//! result, is put in one of four classes, because the class decides what the fleet does:
//! retry later, slow down, fix credentials, or dead-letter the event.

use std::fmt;

/// What a failure means for the event that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// Try again later: row locks, 5xx, timeouts, connection errors, concurrent-request limit.
    Retryable,
    /// The org's daily API allowance is spent: wait for the rolling window, do not hammer.
    RateLimited,
    /// Credentials or session are not usable even after a fresh token.
    Auth,
    /// The record itself is wrong (validation, unknown field, bad value): retrying cannot help.
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
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Classifies a Salesforce error code (REST `errorCode`, Collections `statusCode`, the
/// code before the first `:` of a Bulk `sf__Error`) given the HTTP status it came with
/// (0 when there is none, as for per-record errors).
///
/// `REQUEST_LIMIT_EXCEEDED` is two different things (docs/salesforce-api.md §2.6): the daily
/// total (rate-limited) and the concurrent long-running request limit (retryable); the
/// message tells them apart.
pub fn classify(status: u16, code: &str, message: &str) -> FailureClass {
    match code {
        "REQUEST_LIMIT_EXCEEDED" if message.contains("ConcurrentRequests") => {
            FailureClass::Retryable
        }
        "REQUEST_LIMIT_EXCEEDED" | "TOTALREQUESTS" | "EXCEEDEDQUOTA" => FailureClass::RateLimited,
        "INVALID_SESSION_ID"
        | "INVALID_AUTH_HEADER"
        | "INVALIDSESSIONID"
        | "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"
        | "invalid_grant"
        | "invalid_client"
        | "invalid_client_id"
        | "unsupported_grant_type"
        | "inactive_user"
        | "inactive_org" => FailureClass::Auth,
        "UNABLE_TO_LOCK_ROW"
        | "SERVER_UNAVAILABLE"
        | "UNKNOWN_EXCEPTION"
        | "TOOMANYLOCKFAILURE"
        | "TIMEOUT"
        | "QUERY_TIMEOUT"
        | "ALL_OR_NONE_OPERATION_ROLLED_BACK" => FailureClass::Retryable,
        _ => match status {
            401 => FailureClass::Auth,
            408 | 420 | 429 | 500..=599 => FailureClass::Retryable,
            _ => FailureClass::Permanent,
        },
    }
}

/// One error as Salesforce reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `errorCode` / `statusCode` / Bulk code, e.g. `STRING_TOO_LONG`.
    pub code: String,
    /// Salesforce's message. It may quote record values, so it is never logged at info level.
    pub message: String,
    /// Fields the error is about.
    pub fields: Vec<String>,
}

/// A failed Salesforce call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SalesforceError {
    /// Salesforce answered with an error status.
    #[error("Salesforce answered {status} {code}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The first error's code (`HTML` for an HTML page, `UNKNOWN` for an unreadable body).
        code: String,
        /// All errors in the body.
        errors: Vec<ApiError>,
        /// The class of the failure.
        class: FailureClass,
    },
    /// No answer: connection refused or reset, or the timeout passed.
    #[error("Salesforce unreachable: {0}")]
    Transport(String),
    /// The token endpoint refused the credentials.
    #[error("Salesforce login failed: {error}")]
    Login {
        /// OAuth `error`, e.g. `invalid_client`.
        error: String,
        /// OAuth `error_description`.
        description: String,
        /// Auth for bad credentials, Retryable for 5xx and connection trouble.
        class: FailureClass,
    },
    /// The answer was not what the API documents (missing field, unparsable JSON).
    #[error("unexpected Salesforce response: {0}")]
    Unexpected(String),
    /// Redis, which holds the shared token, failed.
    #[error("token store: {0}")]
    TokenStore(String),
    /// The process is stopping: the call was not sent, or its wait was abandoned. Nothing
    /// is known about the records; leave the work for another attempt.
    #[error("interrupted by shutdown")]
    Interrupted,
}

impl SalesforceError {
    /// The failure's class.
    pub fn class(&self) -> FailureClass {
        match self {
            SalesforceError::Api { class, .. } | SalesforceError::Login { class, .. } => *class,
            SalesforceError::Transport(_)
            | SalesforceError::TokenStore(_)
            | SalesforceError::Interrupted => FailureClass::Retryable,
            SalesforceError::Unexpected(_) => FailureClass::Retryable,
        }
    }

    /// The Salesforce error code, if there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SalesforceError::Api { code, .. } => Some(code),
            SalesforceError::Login { error, .. } => Some(error),
            _ => None,
        }
    }

    /// True for `401 INVALID_SESSION_ID`: the token is dead and a fresh one may help.
    pub fn is_invalid_session(&self) -> bool {
        matches!(self, SalesforceError::Api { status: 401, code, .. } if code == "INVALID_SESSION_ID")
    }

    /// Builds the error for an error response from its status and body.
    pub fn from_response(status: u16, content_type: &str, body: &str) -> Self {
        let errors = parse_error_body(content_type, body);
        let (code, message) = errors
            .first()
            .map(|e| (e.code.clone(), e.message.clone()))
            .unwrap_or_else(|| {
                let code = if content_type.contains("html") {
                    "HTML"
                } else {
                    "UNKNOWN"
                };
                (code.to_owned(), String::new())
            });
        let class = classify(status, &code, &message);
        SalesforceError::Api {
            status,
            code,
            errors,
            class,
        }
    }
}

/// Reads Salesforce's error array (`[{"message","errorCode","fields"}]`); tolerates a single
/// object, as some documentation shows. HTML pages and other bodies give no errors.
fn parse_error_body(content_type: &str, body: &str) -> Vec<ApiError> {
    if content_type.contains("html") {
        return Vec::new();
    }
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(_) => return Vec::new(),
    };
    let items = match value {
        serde_json::Value::Array(items) => items,
        object @ serde_json::Value::Object(_) => vec![object],
        _ => return Vec::new(),
    };
    items.iter().map(api_error_from_json).collect()
}

/// One error object from a REST error array or a Collections result (`errorCode` or
/// `statusCode`).
pub fn api_error_from_json(item: &serde_json::Value) -> ApiError {
    let text = |key: &str| {
        item.get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let code = match text("errorCode") {
        code if code.is_empty() => text("statusCode"),
        code => code,
    };
    ApiError {
        code,
        message: text("message"),
        fields: item
            .get("fields")
            .and_then(|f| f.as_array())
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

impl From<crate::coordination::StoreError> for SalesforceError {
    fn from(error: crate::coordination::StoreError) -> Self {
        SalesforceError::TokenStore(error.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_classified() {
        assert_eq!(
            classify(400, "UNABLE_TO_LOCK_ROW", ""),
            FailureClass::Retryable
        );
        assert_eq!(
            classify(400, "STRING_TOO_LONG", ""),
            FailureClass::Permanent
        );
        assert_eq!(classify(400, "INVALID_FIELD", ""), FailureClass::Permanent);
        assert_eq!(
            classify(400, "REQUIRED_FIELD_MISSING", ""),
            FailureClass::Permanent
        );
        assert_eq!(
            classify(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded."
            ),
            FailureClass::RateLimited
        );
        assert_eq!(
            classify(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
            ),
            FailureClass::Retryable
        );
        assert_eq!(classify(401, "INVALID_SESSION_ID", ""), FailureClass::Auth);
        assert_eq!(classify(503, "HTML", ""), FailureClass::Retryable);
        assert_eq!(classify(502, "UNKNOWN", ""), FailureClass::Retryable);
        assert_eq!(
            classify(0, "ALL_OR_NONE_OPERATION_ROLLED_BACK", ""),
            FailureClass::Retryable
        );
    }

    #[test]
    fn error_bodies_are_read_in_every_documented_shape() {
        let error = SalesforceError::from_response(
            400,
            "application/json;charset=UTF-8",
            r#"[{"fields":["Name__c"],"message":"data value too large","errorCode":"STRING_TOO_LONG"}]"#,
        );
        assert_eq!(error.code(), Some("STRING_TOO_LONG"));
        assert_eq!(error.class(), FailureClass::Permanent);
        let html = SalesforceError::from_response(503, "text/html", "<html>Maintenance</html>");
        assert_eq!(html.code(), Some("HTML"));
        assert_eq!(html.class(), FailureClass::Retryable);
        let single = SalesforceError::from_response(
            404,
            "application/json",
            r#"{"errorCode":"NOT_FOUND","message":"x"}"#,
        );
        assert_eq!(single.code(), Some("NOT_FOUND"));
        let expired = SalesforceError::from_response(
            401,
            "application/json",
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
        assert!(expired.is_invalid_session());
    }
}
