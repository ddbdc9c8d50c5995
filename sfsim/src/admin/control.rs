//! Admin controls: reset, sessions, faults and limits.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::clock;
use crate::error::{json_response, ApiError};
use crate::faults::FaultConfig;
use crate::state::AppState;

/// `?keep_sessions=true` on reset.
#[derive(Debug, Deserialize)]
pub struct ResetParams {
    #[serde(default)]
    keep_sessions: bool,
}

/// Body of `PUT /__sim/limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsUpdate {
    daily_api_used: Option<u64>,
    daily_api_max: Option<u64>,
}

/// `POST /__sim/reset`.
pub async fn reset(State(state): State<AppState>, Query(params): Query<ResetParams>) -> Response {
    state.reset(params.keep_sessions);
    json_response(StatusCode::OK, &json!({"reset": true}))
}

/// `POST /__sim/sessions/expire`: every live token answers 401 `INVALID_SESSION_ID` now.
pub async fn expire_sessions(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"expired": state.sessions.expire_all()}),
    )
}

/// `GET /__sim/faults`.
pub async fn get_faults(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &state.faults.get())
}

/// `PUT /__sim/faults` with a whole [`FaultConfig`]; outage windows count from now.
pub async fn set_faults(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let config: FaultConfig = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(
            "INVALID_INPUT",
            format!("not a fault configuration: {error}"),
        )
    })?;
    state.faults.set(config);
    Ok(json_response(StatusCode::OK, &state.faults.get()))
}

/// `DELETE /__sim/faults`: back to a healthy org.
pub async fn clear_faults(State(state): State<AppState>) -> Response {
    state.faults.set(FaultConfig::default());
    json_response(StatusCode::OK, &state.faults.get())
}

fn limits_body(state: &AppState) -> serde_json::Value {
    let (used, max) = state.daily.snapshot(clock::now_ms());
    json!({
        "daily_api_used": used,
        "daily_api_max": max,
        "bulk_batches_used": state.bulk_jobs.batches_used(),
        "bulk_batches_max": state.config.bulk.daily_batch_limit,
        "in_flight": state.in_flight.count(),
        "long_running": state.in_flight.long_running(state.config.long_running_threshold),
        "long_running_max": state.config.long_running_limit,
    })
}

/// `GET /__sim/limits`.
pub async fn get_limits(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &limits_body(&state))
}

/// `PUT /__sim/limits` with `{"daily_api_used"?, "daily_api_max"?}`; e.g. used = max makes
/// every further call fail with `REQUEST_LIMIT_EXCEEDED`.
pub async fn set_limits(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let update: LimitsUpdate = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request("INVALID_INPUT", format!("not a limits update: {error}"))
    })?;
    state
        .daily
        .set(clock::now_ms(), update.daily_api_used, update.daily_api_max);
    Ok(json_response(StatusCode::OK, &limits_body(&state)))
}
