//! `/__sim/`: control and inspection for tests, outside Stripe's API (no key needed):
//! `GET|PUT /__sim/webhooks` (`{"paused", "duplicate_rate", "hold"}`) pauses and resumes
//! webhook delivery, sends a share twice, holds deliveries back, and
//! `POST /__sim/webhooks/release` (`{"order": "reverse"}`) sends the held ones in an order;
//! `GET /__sim/deliveries` lists every delivery attempt and counts the deliveries not
//! finished yet (`in_progress`: waiting for an attempt or a retry), `GET|PUT|DELETE
//! /__sim/faults` (a [`FaultConfig`]: 429s, latency, errors per path, outage).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::FaultConfig;
use crate::release::{release, ReleaseOrder};
use crate::state::AppState;

/// Routes under `/__sim/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sim/webhooks", get(webhooks).put(set_webhooks))
        .route("/__sim/webhooks/release", post(release_held))
        .route("/__sim/deliveries", get(deliveries))
        .route(
            "/__sim/faults",
            get(faults).put(set_faults).delete(clear_faults),
        )
}

/// The body of `PUT /__sim/webhooks`: the fields given change, the others stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookControl {
    /// Hold every delivery attempt until resumed.
    pub paused: Option<bool>,
    /// Share (0..=1) of deliveries sent twice.
    pub duplicate_rate: Option<f64>,
    /// Hold new deliveries for a release in another order; `false` releases the held ones
    /// in their original order.
    pub hold: Option<bool>,
}

/// The body of `POST /__sim/webhooks/release`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseControl {
    /// `original`, `reverse` or `shuffled`.
    #[serde(default)]
    pub order: ReleaseOrder,
}

fn webhook_state(state: &AppState) -> Value {
    let holding = state.deliveries.holding();
    json!({
        "paused": state.deliveries.paused(),
        "duplicate_rate": state.deliveries.duplicate_rate(),
        "hold": holding.is_some(),
        "held": holding.unwrap_or(0),
    })
}

async fn webhooks(State(state): State<AppState>) -> Json<Value> {
    Json(webhook_state(&state))
}

async fn set_webhooks(
    State(state): State<AppState>,
    Json(control): Json<WebhookControl>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    if let Some(rate) = control.duplicate_rate {
        if !(0.0..=1.0).contains(&rate) {
            let error = format!("duplicate_rate {rate} is not within 0..=1");
            return Err((StatusCode::BAD_REQUEST, Json(json!({ "error": error }))));
        }
        state.deliveries.set_duplicate_rate(rate);
    }
    if let Some(paused) = control.paused {
        state.deliveries.set_paused(paused);
    }
    match control.hold {
        Some(true) => state.deliveries.hold(),
        Some(false) => {
            release(&state, ReleaseOrder::Original);
        }
        None => {}
    }
    Ok(Json(webhook_state(&state)))
}

/// `POST /__sim/webhooks/release` (body optional): stops holding and sends the held
/// deliveries in the order asked for.
async fn release_held(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let control: ReleaseControl = if body.is_empty() {
        ReleaseControl::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": error.to_string() })),
            )
        })?
    };
    let released = release(&state, control.order);
    Ok(Json(json!({ "released": released })))
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
