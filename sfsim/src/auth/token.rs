//! `POST /services/oauth2/token` and `POST /services/oauth2/revoke` (docs/salesforce-api.md §1).
//!
//! Success bodies carry no `expires_in` (§1.1); errors are 400 with `error` and
//! `error_description` (§1.6; `invalid_client` is believed to be 400 as well).

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::auth::jwt::JwtError;
use crate::clock;
use crate::error::json_response;
use crate::ids;
use crate::state::AppState;

/// The JWT bearer grant type.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An OAuth error as the token endpoint words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct OAuthError {
    /// `invalid_grant`, `invalid_client_id`, ...
    pub error: &'static str,
    /// `authentication failure`, ...
    pub description: &'static str,
}

const fn oauth_error(error: &'static str, description: &'static str) -> OAuthError {
    OAuthError { error, description }
}

const AUTH_FAILURE: OAuthError = oauth_error("invalid_grant", "authentication failure");
const UNKNOWN_CLIENT: OAuthError = oauth_error("invalid_client_id", "client identifier invalid");
const BAD_SECRET: OAuthError = oauth_error("invalid_client", "invalid client credentials");
const UNSUPPORTED_GRANT: OAuthError =
    oauth_error("unsupported_grant_type", "grant type not supported");

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": self.error, "error_description": self.description}),
        )
    }
}

/// The token endpoint.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return UNSUPPORTED_GRANT.into_response();
    };
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    let result = match grant {
        "client_credentials" => client_credentials(&state, &headers, &form),
        "password" => password(&state, &headers, &form),
        JWT_BEARER_GRANT => jwt_bearer(&state, &form),
        _ => Err(UNSUPPORTED_GRANT),
    };
    match result {
        Ok((flow, username)) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            success(&state, flow, &username, host)
        }
        Err(error) => error.into_response(),
    }
}

/// `POST /services/oauth2/revoke` with form `token=...` (§1.7).
pub async fn revoke(
    State(state): State<AppState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let token = form.ok().and_then(|Form(form)| form.get("token").cloned());
    match token {
        Some(token) if state.sessions.revoke(&token) => StatusCode::OK.into_response(),
        Some(_) => oauth_error("invalid_token", "invalid token").into_response(),
        None => oauth_error("unsupported_token_type", "unsupported token type").into_response(),
    }
}

/// Client id and secret from HTTP Basic (simple-salesforce) or the form body (§1.2).
fn client_credentials_of(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

fn check_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), OAuthError> {
    let (id, secret) = client_credentials_of(headers, form);
    if id.as_deref() != Some(state.config.client_id.as_str()) {
        return Err(UNKNOWN_CLIENT);
    }
    if secret.as_deref() != Some(state.config.client_secret.as_str()) {
        return Err(BAD_SECRET);
    }
    Ok(())
}

fn client_credentials(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(&'static str, String), OAuthError> {
    // Only a My Domain host serves this flow (§1.2).
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if host.starts_with("login.salesforce.com") || host.starts_with("test.salesforce.com") {
        return Err(oauth_error(
            "invalid_grant",
            "request not supported on this domain",
        ));
    }
    check_client(state, headers, form)?;
    // Runs as the app's execution user: the first configured user.
    let user = state.config.users.first().ok_or(AUTH_FAILURE)?;
    Ok(("client_credentials", user.username.clone()))
}

fn password(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(&'static str, String), OAuthError> {
    check_client(state, headers, form)?;
    if !state.config.password_flow_enabled {
        // Blocked flows fail with the generic text (§1.3).
        return Err(AUTH_FAILURE);
    }
    let username = form.get("username").map(String::as_str).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    state
        .config
        .users
        .iter()
        .find(|user| user.username.eq_ignore_ascii_case(username) && user.password == password)
        .map(|user| ("password", user.username.clone()))
        .ok_or(AUTH_FAILURE)
}

fn jwt_bearer(
    state: &AppState,
    form: &HashMap<String, String>,
) -> Result<(&'static str, String), OAuthError> {
    let invalid_assertion = oauth_error("invalid_grant", "invalid assertion");
    let verifier = state.jwt.as_ref().ok_or(invalid_assertion.clone())?;
    let assertion = form.get("assertion").ok_or(invalid_assertion.clone())?;
    let mut audiences = state.config.jwt_audiences.clone();
    audiences.push(state.local_url.clone());
    if let Some(public) = &state.config.public_url {
        audiences.push(public.clone());
    }
    let verified = verifier
        .verify(
            assertion,
            &state.config.client_id,
            &audiences,
            clock::now_ms() / 1000,
        )
        .map_err(|error| match error {
            JwtError::InvalidAssertion => invalid_assertion.clone(),
            JwtError::BadAudience => oauth_error("invalid_grant", "audience is invalid"),
            JwtError::UnknownClient => UNKNOWN_CLIENT,
        })?;
    state
        .config
        .users
        .iter()
        .find(|user| user.username.eq_ignore_ascii_case(&verified.username))
        .map(|user| ("jwt_bearer", user.username.clone()))
        .ok_or(oauth_error(
            "invalid_grant",
            "user hasn't approved this consumer",
        ))
}

fn success(state: &AppState, flow: &'static str, username: &str, host: Option<&str>) -> Response {
    let (access_token, issued_ms) = state.sessions.issue(flow, username);
    let instance_url = state.instance_url(host);
    let org_id = ids::normalize(&state.org_id).unwrap_or_else(|| state.org_id.clone());
    let identity = format!("{instance_url}/id/{org_id}/{}", state.user_id_of(username));
    let issued_at = issued_ms.to_string();
    // HMAC-SHA256 over id + issued_at keyed with the consumer secret (§1.1, unverified).
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        state.config.client_secret.as_bytes(),
    );
    let signature = STANDARD.encode(ring::hmac::sign(
        &key,
        format!("{identity}{issued_at}").as_bytes(),
    ));
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "signature": signature,
            "scope": "api",
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }),
    )
}
