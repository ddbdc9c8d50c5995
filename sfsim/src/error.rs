//! Errors as Salesforce puts them on the wire, and the simulator's own startup errors.
//!
//! REST errors are always a JSON **array** of `{message, errorCode[, fields]}`
//! (docs/salesforce-api.md §2.3 marks a conflict with the single-upsert page; the simulator
//! always sends arrays, as every captured response does). Per-record DML failures are a
//! [`RecordError`], which each API renders its own way: `errorCode` on single-record REST,
//! `statusCode` inside Collections results, `sf__Error` text in Bulk result files.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// The content type Salesforce answers JSON with (captured Workbench response, §2.2).
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Serialises `body` as a JSON response with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "Cannot serialise a response body.");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// One element of the REST error array.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorItem {
    /// Human-readable text, worded as the real org words it where known.
    pub message: String,
    /// The machine-readable code, e.g. `INVALID_FIELD`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// Fields the error is about; present on DML errors, absent on routing/auth errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

/// A failed REST call: HTTP status plus the error array.
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}: {items:?}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub items: Vec<ErrorItem>,
}

impl ApiError {
    /// An error with one item and no `fields`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            items: vec![ErrorItem {
                message: message.into(),
                error_code: code.to_string(),
                fields: None,
            }],
        }
    }

    /// 404 `NOT_FOUND` with the standard text.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    /// 400 with the given code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `JSON_PARSER_ERROR`, Salesforce's answer to a body it cannot deserialise (§7).
    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", message)
    }

    /// 400 `INVALID_FIELD` for a field the object does not have (§2.3 wording).
    pub fn no_such_column(field: &str, object: &str) -> Self {
        Self::bad_request(
            "INVALID_FIELD",
            format!("No such column '{field}' on sobject of type {object}"),
        )
    }

    /// 401 `INVALID_SESSION_ID` (§2.4).
    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }
}

impl From<RecordError> for ApiError {
    fn from(error: RecordError) -> Self {
        let status = error.http_status();
        Self {
            status,
            items: vec![ErrorItem {
                message: error.message,
                error_code: error.status_code,
                fields: Some(error.fields),
            }],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.items)
    }
}

/// Why one record could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    /// Salesforce's status code, e.g. `REQUIRED_FIELD_MISSING`.
    #[serde(rename = "statusCode")]
    pub status_code: String,
    /// Text as the org words it.
    pub message: String,
    /// Fields involved (may be empty).
    pub fields: Vec<String>,
}

impl RecordError {
    /// A record error with the given code, text and fields.
    pub fn new(code: &str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            status_code: code.to_string(),
            message: message.into(),
            fields,
        }
    }

    /// The HTTP status a single-record REST call answers with for this error.
    /// `UNABLE_TO_LOCK_ROW` is believed to be 400 (§2.7, unverified); `ENTITY_IS_DELETED`
    /// and missing records are 404.
    pub fn http_status(&self) -> StatusCode {
        match self.status_code.as_str() {
            "NOT_FOUND" | "ENTITY_IS_DELETED" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `sf__Error` cell of a Bulk failed-results row: `CODE:message:fields --` (§5.5;
    /// several fields are joined with commas, a guess since the rule is unverified).
    pub fn bulk_text(&self) -> String {
        format!(
            "{}:{}:{} --",
            self.status_code,
            self.message,
            self.fields.join(",")
        )
        .replace(": --", ":--")
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
    /// The schema (the SFDX project it is read from) is not valid.
    #[error("invalid schema: {0}")]
    Schema(String),
    /// Another configuration value is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
}
