//! `GET /services/oauth2/userinfo`: who a token belongs to. Pub/Sub API clients read
//! `organization_id` from it for the `tenantid` metadata (help.salesforce.com,
//! "UserInfo Endpoint", remoteaccess_using_userinfo_endpoint).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::json_response;
use crate::state::AppState;

/// The user of the bearer token; 403 `Bad_OAuth_Token` when it is not live (the body
/// Salesforce sends is unverified).
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("OAuth "))
        })
        .map(str::trim);
    let Some(username) = token.and_then(|token| state.sessions.touch(token)) else {
        return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
    };
    let org_id = crate::ids::normalize(&state.org_id).unwrap_or_else(|| state.org_id.clone());
    let instance = state.instance_url(headers.get(header::HOST).and_then(|h| h.to_str().ok()));
    json_response(
        StatusCode::OK,
        &json!({
            "sub": format!("{instance}/id/{org_id}/{}", state.user_id_of(&username)),
            "user_id": state.user_id_of(&username),
            "organization_id": org_id,
            "preferred_username": username,
            "email_verified": true,
            "active": true,
            "user_type": "STANDARD",
            "urls": {"custom_domain": instance},
        }),
    )
}
