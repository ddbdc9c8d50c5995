//! `GET /v1/events/{id}`: an event's lifecycle over HTTP, for support tools that may not
//! reach Redis. Mounted on the workers' metrics server only when `STATUS_API_TOKEN`
//! ([`StatusApiConfig`]) is set, and answered only to `Authorization: Bearer <token>`.
//!
//! Answers: 200 with the [`Lifecycle`](super::status::Lifecycle) as JSON (no payload, and the error without its
//! message, see [`Lifecycle::without_error_text`](super::status::Lifecycle::without_error_text)), 401 for a missing or wrong token, 404
//! for an unknown event, 503 if Redis cannot be asked.

use crate::store::RedisConnection;
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use clap::Args;
use common::config::secret;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::status::lookup;
use crate::keys::KeySpace;

/// Settings of the status API, shared by every worker role.
#[derive(Clone, Args)]
pub struct StatusApiConfig {
    /// Bearer token (at least 16 characters, a random secret) that enables
    /// `GET /v1/events/{id}` on the metrics server; unset, the route is not mounted.
    #[arg(
        long = "status-api-token",
        env = "STATUS_API_TOKEN",
        hide_env_values = true,
        value_parser = secret(status_token)
    )]
    pub token: Option<String>,
}

impl std::fmt::Debug for StatusApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusApiConfig")
            .field("enabled", &self.token.is_some())
            .finish()
    }
}

/// `STATUS_API_TOKEN`: trimmed, at least 16 characters.
fn status_token(text: &str) -> Result<String, String> {
    let token = text.trim();
    if token.len() < 16 {
        return Err("must be at least 16 characters (use a random secret)".into());
    }
    Ok(token.to_owned())
}

/// What the status route needs: Redis, the key layout and the expected token.
#[derive(Clone)]
pub struct StatusApi {
    conn: RedisConnection,
    keys: KeySpace,
    token: String,
}

impl StatusApi {
    /// The API with a fixed token.
    pub fn new(conn: RedisConnection, keys: KeySpace, token: String) -> Self {
        Self { conn, keys, token }
    }

    /// The API if `STATUS_API_TOKEN` is set, else `None`: the route is then not mounted
    /// at all.
    pub fn from_config(
        config: &StatusApiConfig,
        conn: RedisConnection,
        keys: KeySpace,
    ) -> Option<Self> {
        config
            .token
            .clone()
            .map(|token| Self::new(conn, keys, token))
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
