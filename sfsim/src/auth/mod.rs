//! OAuth 2.0: the token, revoke and userinfo endpoints, issued sessions, JWT bearer verification.

pub mod jwt;
pub mod sessions;
pub mod token;
pub mod userinfo;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Routes under `/services/oauth2/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/oauth2/token", post(token::token))
        .route("/services/oauth2/revoke", post(token::revoke))
        .route("/services/oauth2/userinfo", get(userinfo::userinfo))
}
