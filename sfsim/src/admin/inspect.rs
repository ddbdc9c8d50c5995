//! Read-only views of the org for tests: records, write history, calls, tokens.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{json_response, ApiError};
use crate::ids;
use crate::rest::body::record_json;
use crate::state::AppState;

/// `GET /__sim/health`.
pub async fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// Path parameters of `/__sim/records/{object}`.
#[derive(Debug, Deserialize)]
pub struct ObjectPath {
    object: String,
}

/// Path parameters of `/__sim/records/{object}/{id}`.
#[derive(Debug, Deserialize)]
pub struct RecordPath {
    object: String,
    id: String,
}

/// Path parameters of `/__sim/history/{object}/{key}`.
#[derive(Debug, Deserialize)]
pub struct HistoryPath {
    object: String,
    key: String,
}

/// `?by=Field`: find the record by this match field instead of by id.
#[derive(Debug, Deserialize)]
pub struct HistoryParams {
    by: Option<String>,
}

/// The `?window_ms=N` parameter of `/__sim/calls/max-window`.
#[derive(Debug, Deserialize)]
pub struct WindowParams {
    #[serde(default = "default_window")]
    window_ms: i64,
    /// Only calls made at or after this time (epoch ms) count.
    #[serde(default)]
    since_ms: i64,
}

fn default_window() -> i64 {
    1000
}

/// `GET /__sim/records/{object}`: every record, in insertion order.
pub async fn records(
    State(state): State<AppState>,
    Path(path): Path<ObjectPath>,
) -> Result<Response, ApiError> {
    let object = state
        .schema
        .object(&path.object)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let version = state.config.latest_api_version;
    let db = state.db.lock();
    let records: Vec<Value> = db
        .records(&object.name)
        .iter()
        .map(|record| record_json(&object, record, version))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"object": object.name, "totalSize": records.len(), "records": records}),
    ))
}

/// `GET /__sim/records/{object}/{id}`: one record with its history.
pub async fn record(
    State(state): State<AppState>,
    Path(path): Path<RecordPath>,
) -> Result<Response, ApiError> {
    let object = state
        .schema
        .object(&path.object)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let id = ids::normalize(&path.id).ok_or_else(ApiError::not_found)?;
    let db = state.db.lock();
    let record = db.get(&object.name, &id).ok_or_else(ApiError::not_found)?;
    let mut body = record_json(&object, record, state.config.latest_api_version);
    body["history"] = json!(db.history(&id));
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /__sim/history/{object}/{key}[?by=Field]`: a record's writes, oldest first. Also
/// answers for deleted records when asked by id.
pub async fn history(
    State(state): State<AppState>,
    Path(path): Path<HistoryPath>,
    Query(params): Query<HistoryParams>,
) -> Result<Response, ApiError> {
    let object = state
        .schema
        .object(&path.object)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let db = state.db.lock();
    let id = match &params.by {
        Some(field_name) => {
            let field = object.field(field_name).ok_or_else(ApiError::not_found)?;
            match db.find_by(&object.name, field, &path.key).as_slice() {
                [id] => id.clone(),
                [] => return Err(ApiError::not_found()),
                _ => {
                    return Err(ApiError::new(
                        StatusCode::MULTIPLE_CHOICES,
                        "MULTIPLE_CHOICES",
                        "several records match",
                    ))
                }
            }
        }
        None => ids::normalize(&path.key).ok_or_else(ApiError::not_found)?,
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"object": object.name, "id": id, "writes": db.history(&id)}),
    ))
}

/// `GET /__sim/calls`.
pub async fn calls(State(state): State<AppState>) -> Response {
    let counts = state.calls.counts();
    json_response(
        StatusCode::OK,
        &json!({
            "total": counts.total,
            "by_endpoint": counts.by_endpoint,
            "by_status": counts.by_status,
            "in_flight": state.in_flight.count(),
            "long_running": state.in_flight.long_running(state.config.long_running_threshold),
        }),
    )
}

/// `GET /__sim/calls/timeline`: counted API calls per second.
pub async fn timeline(State(state): State<AppState>) -> Response {
    let seconds: Vec<Value> = state
        .calls
        .timeline()
        .into_iter()
        .map(|(second, calls)| json!({"second": second, "calls": calls}))
        .collect();
    json_response(StatusCode::OK, &json!({"seconds": seconds}))
}

/// `GET /__sim/calls/max-window?window_ms=N[&since_ms=T]`: the most counted calls in any
/// window (of those made at or after `T`).
pub async fn max_window(
    State(state): State<AppState>,
    Query(params): Query<WindowParams>,
) -> Result<Response, ApiError> {
    if params.window_ms <= 0 {
        return Err(ApiError::bad_request(
            "INVALID_INPUT",
            "window_ms must be positive",
        ));
    }
    let (max_calls, start) = state.calls.max_in_window(params.window_ms, params.since_ms);
    Ok(json_response(
        StatusCode::OK,
        &json!({"window_ms": params.window_ms, "max_calls": max_calls, "window_start_ms": start}),
    ))
}

/// `GET /__sim/tokens`.
pub async fn tokens(State(state): State<AppState>) -> Response {
    let tokens = state.sessions.list();
    let active = tokens.iter().filter(|token| token.active).count();
    json_response(
        StatusCode::OK,
        &json!({"issued": tokens.len(), "active": active, "tokens": tokens}),
    )
}
