//! `/__sim/`: control and inspection for tests, outside Stripe's API (no key needed):
//! `GET|PUT /__sim/webhooks` (`{"paused": bool}`) pauses and resumes webhook delivery,
//! `GET /__sim/deliveries` lists every delivery attempt and counts the deliveries not
//! finished yet (`in_progress`: waiting for an attempt or a retry), `GET|PUT|DELETE
//! /__sim/faults` (a [`FaultConfig`]: 429s, latency, errors per path, outage).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::FaultConfig;
use crate::state::AppState;

/// Routes under `/__sim/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sim/webhooks", get(webhooks).put(set_webhooks))
        .route("/__sim/deliveries", get(deliveries))
        .route(
            "/__sim/faults",
            get(faults).put(set_faults).delete(clear_faults),
        )
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

async fn faults(State(state): State<AppState>) -> Json<FaultConfig> {
    Json(state.faults.get())
}

/// `PUT /__sim/faults`: replaces every fault (absent fields are off).
async fn set_faults(
    State(state): State<AppState>,
    Json(config): Json<FaultConfig>,
) -> Result<Json<FaultConfig>, (StatusCode, Json<Value>)> {
    config
        .validate()
        .map_err(|error| (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))))?;
    state.faults.set(config);
    Ok(Json(state.faults.get()))
}

/// `DELETE /__sim/faults`: back to a healthy API.
async fn clear_faults(State(state): State<AppState>) -> Json<FaultConfig> {
    state.faults.set(FaultConfig::default());
    Json(state.faults.get())
}
