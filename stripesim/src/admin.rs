//! `/__sim/`: control and inspection for tests, outside Stripe's API (no key needed):
//! `GET|PUT /__sim/webhooks` (`{"paused": bool}`) pauses and resumes webhook delivery,
//! `GET /__sim/deliveries` lists every delivery attempt and counts the deliveries not
//! finished yet (`in_progress`: waiting for an attempt or a retry), `GET|PUT /__sim/faults`
//! (`{"rate_limit_next": n}`) answers the next n API requests with 429.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::AppState;

/// Routes under `/__sim/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sim/webhooks", get(webhooks).put(set_webhooks))
        .route("/__sim/deliveries", get(deliveries))
        .route("/__sim/faults", get(faults).put(set_faults))
}

/// The body of `PUT /__sim/webhooks`.
#[derive(Debug, Deserialize)]
pub struct WebhookControl {
    /// Hold every delivery attempt until resumed.
    pub paused: bool,
}

async fn webhooks(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "paused": state.deliveries.paused() }))
}

async fn set_webhooks(
    State(state): State<AppState>,
    Json(control): Json<WebhookControl>,
) -> Json<Value> {
    state.deliveries.set_paused(control.paused);
    Json(json!({ "paused": state.deliveries.paused() }))
}

async fn deliveries(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "data": state.deliveries.attempts(),
        "in_progress": state.deliveries.in_progress(),
    }))
}

/// The body of `PUT /__sim/faults`.
#[derive(Debug, Deserialize)]
pub struct FaultControl {
    /// Answer the next this many API requests with 429 (0: none).
    pub rate_limit_next: u64,
}

async fn faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "rate_limit_next": state.faults.rate_limited_left() }))
}

async fn set_faults(
    State(state): State<AppState>,
    Json(control): Json<FaultControl>,
) -> Json<Value> {
    state.faults.rate_limit_next(control.rate_limit_next);
    Json(json!({ "rate_limit_next": state.faults.rate_limited_left() }))
}
