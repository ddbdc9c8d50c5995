//! Liveness, readiness and metrics endpoints.
//!
//! `/health/live` says the process serves HTTP. `/health/ready` (and `/health`) say whether
//! the ingress can do its job, which means SQS answers for the configured queue. The SQS
//! check is cached briefly so that a load balancer polling every second does not turn into
//! a stream of SQS calls.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;
use tokio::sync::Mutex;

use crate::AppState;

/// How long one SQS reachability result is reused.
const READINESS_CACHE: Duration = Duration::from_secs(2);

/// One SQS reachability check: when it ran and what it found.
type CheckedAt = (Instant, Result<(), String>);

/// Cached result of the last SQS reachability check.
#[derive(Clone, Default)]
pub struct ReadinessProbe {
    last: Arc<Mutex<Option<CheckedAt>>>,
}

impl ReadinessProbe {
    /// Returns whether SQS answered for the queue, checking at most every [`READINESS_CACHE`].
    async fn sqs_reachable(
        &self,
        client: &aws_sdk_sqs::Client,
        queue_url: &str,
    ) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref() {
            if at.elapsed() < READINESS_CACHE {
                return result.clone();
            }
        }
        let call = client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send();
        let result = match tokio::time::timeout(Duration::from_secs(2), call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(aws_sdk_sqs::error::DisplayErrorContext(&error).to_string()),
            Err(_) => Err("timed out".to_owned()),
        };
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

/// `GET /health/live`: the process is up.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /health/ready` and `GET /health`: 200 when SQS is reachable, else 503.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state
        .readiness
        .sqs_reachable(&state.sqs, &state.config.queue_url)
        .await
    {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok", "sqs": "ok" }))),
        Err(error) => {
            tracing::warn!(%error, "Readiness check: SQS unreachable.");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "sqs": "unreachable" })),
            )
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
