//! Billing: Checkout sessions, and what paying for one creates — PaymentIntents, invoices
//! and subscriptions — with the `/__sim/` calls that stand in for the customer and the
//! calendar: `POST /__sim/checkout/sessions/{id}/complete` (the customer pays) and
//! `POST /__sim/subscriptions/{id}/renew` (the period ends and the next one is billed), each
//! taking an optional `{"fail_payment": true}` to decline the card.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use crate::error::StripeError;
use crate::state::AppState;

pub mod amounts;
pub mod checkout;
pub mod flows;
pub mod objects;
pub mod read;
pub mod session;

pub use flows::PaymentControl;

/// The billing API routes under `/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(checkout::router())
        .merge(read::router())
}

/// The billing control routes under `/__sim/`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/__sim/checkout/sessions/{id}/complete", post(complete))
        .route("/__sim/subscriptions/{id}/renew", post(renew))
}

/// The body is optional: none means the payment succeeds.
fn control(body: Option<Json<PaymentControl>>) -> PaymentControl {
    body.map(|Json(control)| control).unwrap_or_default()
}

async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Option<Json<PaymentControl>>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    flows::complete_session(&state, &mut store, &id, &control(body)).map(Json)
}

async fn renew(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Option<Json<PaymentControl>>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    flows::renew_subscription(&state, &mut store, &id, &control(body)).map(Json)
}
