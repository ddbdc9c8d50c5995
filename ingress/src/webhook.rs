//! `POST /webhook/stripe`: verify, check the envelope, hand to SQS, answer.
//!
//! The answer is 200 only once SQS holds the event. Every refusal has a JSON body
//! `{"error": "<code>", "message": "..."}`: 400 for anything the sender got wrong (signature,
//! timestamp, JSON, envelope), 413 for a body over the limit, 429 when too many requests are
//! in flight or (from [`crate::signature_limit`]) when the sender's address has failed
//! verification too often, 503 with `Retry-After` when SQS did not take the event (Stripe
//! retries).

use std::time::Instant;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use common::stripe::{EnvelopeError, EventEnvelope, SignatureError};
use serde_json::json;
use tracing::Instrument;

use crate::{publisher::OutboundEvent, publisher::PublishError, telemetry, AppState};

/// Header carrying the id the ingress gives every request, echoed in responses and logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Response extension set on every answer to a failed signature verification, so that the
/// per-address limit ([`crate::signature_limit::guard`]) charges exactly those requests
/// without knowing the handler's internals.
#[derive(Debug, Clone, Copy)]
pub struct SignatureFailed;

/// Why a webhook request was not accepted. Each maps to one status code and error code.
#[derive(Debug, thiserror::Error)]
pub enum WebhookRejection {
    /// Signature or timestamp check failed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not a usable snapshot event.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The body is larger than `MAX_BODY_BYTES`.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body could not be read (client went away mid-upload, bad chunking).
    #[error("the body could not be read")]
    UnreadableBody,
    /// SQS did not take the event; the sender should retry.
    #[error("the event could not be stored, retry later")]
    NotStored(#[source] PublishError, u64),
}

impl WebhookRejection {
    fn status(&self) -> StatusCode {
        match self {
            WebhookRejection::Signature(_)
            | WebhookRejection::Envelope(_)
            | WebhookRejection::UnreadableBody => StatusCode::BAD_REQUEST,
            WebhookRejection::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookRejection::NotStored(..) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Stable code for the body and the `outcome` metric label.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookRejection::Signature(e) => e.code(),
            WebhookRejection::Envelope(e) => e.code(),
            WebhookRejection::TooLarge(_) => "body_too_large",
            WebhookRejection::UnreadableBody => "unreadable_body",
            WebhookRejection::NotStored(..) => "not_stored",
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.code(), "message": self.to_string() }));
        let mut response = (self.status(), body).into_response();
        match self {
            WebhookRejection::NotStored(_, retry_after) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            WebhookRejection::Signature(_) => {
                response.extensions_mut().insert(SignatureFailed);
            }
            _ => {}
        }
        response
    }
}

/// The handler. The body arrives already limited to `MAX_BODY_BYTES` by the router.
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let span =
        tracing::info_span!("webhook", request_id = %request_id, event_id = tracing::field::Empty);
    let outcome = handle(&state, &headers, body)
        .instrument(span.clone())
        .await;
    let (outcome_label, mut response) = match outcome {
        Ok(accepted) => {
            let label = if accepted.enqueued {
                "accepted"
            } else {
                "ignored"
            };
            let body = json!({ "received": true, "id": accepted.event_id });
            (label, (StatusCode::OK, Json(body)).into_response())
        }
        Err(rejection) => {
            let _entered = span.enter();
            match &rejection {
                WebhookRejection::NotStored(error, _) => {
                    tracing::error!(%error, "Event not stored in SQS; answered 503.")
                }
                other => tracing::info!(error = other.code(), reason = %other, "Webhook refused."),
            }
            (rejection.code(), rejection.into_response())
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    metrics::counter!(telemetry::REQUESTS, "outcome" => outcome_label).increment(1);
    metrics::histogram!(telemetry::REQUEST_DURATION, "outcome" => outcome_label)
        .record(started.elapsed().as_secs_f64());
    response
}

struct Accepted {
    event_id: String,
    enqueued: bool,
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Accepted, WebhookRejection> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebhookRejection::TooLarge(state.config.max_body_bytes)
        } else {
            WebhookRejection::UnreadableBody
        }
    })?;
    let signature = headers
        .get("stripe-signature")
        .map(|value| value.to_str().map_err(|_| SignatureError::MalformedHeader))
        .transpose()?
        .unwrap_or_default();
    let now = common::time::unix_seconds();
    state.verifier.verify(&body, signature, now)?;

    let envelope = EventEnvelope::parse(&body)?;
    tracing::Span::current().record("event_id", envelope.id.as_str());
    let event_id = envelope.id.clone();
    if !state.config.handles(&envelope.event_type) {
        metrics::counter!(telemetry::IGNORED_EVENTS, "type" => envelope.event_type.clone())
            .increment(1);
        tracing::info!(event_type = %envelope.event_type, "Event type not handled; acknowledged without enqueueing.");
        return Ok(Accepted {
            event_id,
            enqueued: false,
        });
    }
    // Parsing succeeded, so the body is valid UTF-8 JSON; the check cannot fail in practice.
    let body =
        String::from_utf8(body.to_vec()).map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
    let event_type = envelope.event_type.clone();
    let message_id = state
        .publisher
        .publish(OutboundEvent {
            envelope,
            body,
            received_at_ms: common::time::unix_millis(),
        })
        .await
        .map_err(|e| WebhookRejection::NotStored(e, state.config.retry_after_secs))?;
    tracing::info!(%event_type, %message_id, "Event stored in SQS.");
    Ok(Accepted {
        event_id,
        enqueued: true,
    })
}
