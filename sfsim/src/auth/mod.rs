//! OAuth 2.0: the token and revoke endpoints, issued sessions, JWT bearer verification.

pub mod jwt;
pub mod sessions;
pub mod token;

use axum::routing::post;
use axum::Router;

use crate::state::AppState;

/// Routes under `/services/oauth2/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/oauth2/token", post(token::token))
        .route("/services/oauth2/revoke", post(token::revoke))
}
