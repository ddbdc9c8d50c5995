//! Admin calls for the Pub/Sub API: emit gap and overflow events so clients can be tested
//! on them, and hand out the server's certificate so clients can trust it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::error::{json_response, ApiError};
use crate::pubsub::event::ChangeType;
use crate::pubsub::topic::Topic;
use crate::state::AppState;

/// Body of `POST /__sim/pubsub/gap`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GapRequest {
    /// A change event channel, e.g. `/data/ContactChangeEvent`.
    channel: String,
    /// `GAP_CREATE`, `GAP_UPDATE`, `GAP_DELETE`, `GAP_UNDELETE` or `GAP_OVERFLOW`.
    change_type: ChangeType,
    /// The records concerned (none for an overflow).
    #[serde(default)]
    record_ids: Vec<String>,
    /// The object, required on `/data/ChangeEvents`.
    entity: Option<String>,
}

/// `POST /__sim/pubsub/gap`: appends one gap event; `{"published":true,"entity":...}`.
pub async fn gap(State(state): State<AppState>, body: Bytes) -> Response {
    let request: GapRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return ApiError::bad_request("JSON_PARSER_ERROR", format!("bad gap request: {error}"))
                .into_response()
        }
    };
    if !request.change_type.is_gap() {
        return ApiError::bad_request("INVALID_FIELD", "changeType must be a GAP_ type")
            .into_response();
    }
    let selected = &state.config.pubsub.cdc_objects;
    let entity = match (Topic::parse(&request.channel, selected), request.entity) {
        (Some(Topic::Entity(entity)), _) => entity,
        (Some(Topic::All), Some(entity)) if selected.contains(&entity) => entity,
        _ => {
            return ApiError::bad_request(
                "INVALID_FIELD",
                "unknown channel, or /data/ChangeEvents without a selected entity",
            )
            .into_response()
        }
    };
    state
        .events
        .publish_gap(&entity, request.change_type, request.record_ids);
    json_response(
        StatusCode::OK,
        &json!({"published": true, "entity": entity}),
    )
}

/// `GET /__sim/pubsub/cert`: the Pub/Sub server's certificate (PEM); 404 when not served.
pub async fn cert(State(state): State<AppState>) -> Response {
    match &state.pubsub_tls {
        Some(tls) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            tls.cert_pem.clone(),
        )
            .into_response(),
        None => ApiError::not_found().into_response(),
    }
}
