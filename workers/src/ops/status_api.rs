//! `GET /v1/events/{id}`: an event's lifecycle over HTTP, for support tools that may not
//! reach Redis. Mounted on the workers' metrics server only when `STATUS_API_TOKEN` is
//! set, and answered only to `Authorization: Bearer <token>`.
//!
//! Answers: 200 with the [`Lifecycle`] as JSON (no payload, and the error without its
//! message, see [`Lifecycle::without_error_text`]), 401 for a missing or wrong token, 404
//! for an unknown event, 503 if Redis cannot be asked.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use common::config::{ConfigError, Env};
use redis::aio::ConnectionManager;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::status::lookup;
use crate::keys::KeySpace;

/// What the status route needs: Redis, the key layout and the expected token.
#[derive(Clone)]
pub struct StatusApi {
    conn: ConnectionManager,
    keys: KeySpace,
    token: String,
}

impl StatusApi {
    /// The API with a fixed token.
    pub fn new(conn: ConnectionManager, keys: KeySpace, token: String) -> Self {
        Self { conn, keys, token }
    }

    /// The API if `STATUS_API_TOKEN` is set (and not blank), else `None`: the route is
    /// then not mounted at all.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        conn: ConnectionManager,
        keys: KeySpace,
    ) -> Result<Option<Self>, ConfigError> {
        match env.get("STATUS_API_TOKEN") {
            None => Ok(None),
            Some(token) if token.trim().len() < 16 => Err(ConfigError::new(
                "STATUS_API_TOKEN",
                "must be at least 16 characters (use a random secret)",
            )),
            Some(token) => Ok(Some(Self::new(conn, keys, token.trim().to_owned()))),
        }
    }

    /// The route, ready to merge into the metrics server's router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/v1/events/{id}", get(event_status))
            .with_state(self)
    }
}

async fn event_status(
    State(api): State<StatusApi>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !tokens_match(presented, &api.token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "missing or wrong bearer token" })),
        )
            .into_response();
    }
    let mut conn = api.conn.clone();
    match lookup(&mut conn, &api.keys, &event_id).await {
        Ok(Some(lifecycle)) => Json(lifecycle.without_error_text()).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "unknown event (never enqueued, or its record expired)" })),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, %event_id, "Status lookup failed.");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "Redis unavailable" })),
            )
                .into_response()
        }
    }
}

/// Compares in constant time (for equal lengths), so response timing does not reveal how
/// much of a guessed token was right. The length itself is not secret.
fn tokens_match(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::tokens_match;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(tokens_match("s3cret-token-value", "s3cret-token-value"));
        assert!(!tokens_match("s3cret-token-valuX", "s3cret-token-value"));
        assert!(!tokens_match("s3cret", "s3cret-token-value"));
        assert!(!tokens_match("", "s3cret-token-value"));
        assert!(!tokens_match("", ""));
    }
}
