//! Metric names of the workers and the small HTTP server that serves `/metrics` and health.

use std::net::SocketAddr;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::ops::status_api::StatusApi;

/// SQS messages received by the bridge.
pub const BRIDGE_RECEIVED: &str = "bridge_received_total";
/// Events added to a stream, by `stream`.
pub const BRIDGE_ENQUEUED: &str = "bridge_enqueued_total";
/// Events already enqueued before (Stripe or SQS redelivery).
pub const BRIDGE_DUPLICATES: &str = "bridge_duplicates_total";
/// Messages that are not Stripe events, moved to the dead-letter stream.
pub const BRIDGE_DEAD_LETTERED: &str = "bridge_dead_lettered_total";
/// Failed SQS calls, by `call`.
pub const BRIDGE_SQS_ERRORS: &str = "bridge_sqs_errors_total";
/// Failed Redis operations.
pub const BRIDGE_REDIS_ERRORS: &str = "bridge_redis_errors_total";
/// Stream length, by `stream`.
pub const STREAM_BACKLOG: &str = "stream_backlog";
/// 1 while the bridge leaves events in SQS because a stream passed its high-water mark.
pub const BRIDGE_PAUSED: &str = "bridge_paused";

/// Events leaving a stream, by `stream` and `outcome` (applied, duplicate, stale,
/// superseded, retrying, dead).
pub const EVENTS: &str = "worker_events_total";
/// Salesforce calls, by `stream` and `outcome` (ok or a failure class).
pub const SALESFORCE_CALLS: &str = "salesforce_calls_total";
/// Salesforce call latency in seconds, by `stream`.
pub const SALESFORCE_LATENCY: &str = "salesforce_call_duration_seconds";
/// Entries per processed batch, by `stream`.
pub const BATCH_SIZE: &str = "worker_batch_size";
/// Seconds a call waited for the global limiter, by `stream`.
pub const LIMITER_WAIT: &str = "limiter_wait_seconds";
/// Seconds a Stripe request waited for the shared Stripe budget.
pub const STRIPE_BUDGET_WAIT: &str = "stripe_budget_wait_seconds";
/// 1 while the shared circuit breaker is open.
pub const BREAKER_OPEN: &str = "breaker_open";
/// Times this replica saw the breaker open.
pub const BREAKER_OPENED: &str = "breaker_opened_total";
/// Entries taken over from stopped replicas, by `stream`.
pub const RECLAIMED: &str = "worker_reclaimed_total";

/// Bulk API 2.0 jobs created.
pub const BULK_JOBS: &str = "bulk_jobs_total";

/// Installs the process-wide Prometheus recorder.
pub fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    metrics::describe_counter!(BRIDGE_RECEIVED, "SQS messages received by the bridge.");
    metrics::describe_counter!(BRIDGE_ENQUEUED, "Events added to a priority stream.");
    metrics::describe_counter!(BRIDGE_DUPLICATES, "Events enqueued before (redeliveries).");
    metrics::describe_counter!(
        BRIDGE_DEAD_LETTERED,
        "Messages dead-lettered by the bridge."
    );
    metrics::describe_counter!(BRIDGE_SQS_ERRORS, "Failed SQS calls.");
    metrics::describe_counter!(BRIDGE_REDIS_ERRORS, "Failed Redis operations.");
    metrics::describe_gauge!(STREAM_BACKLOG, "Entries in a priority stream.");
    metrics::describe_gauge!(BRIDGE_PAUSED, "1 while backpressure holds events in SQS.");
    metrics::describe_counter!(EVENTS, "Events leaving a stream, by outcome.");
    metrics::describe_counter!(SALESFORCE_CALLS, "Salesforce calls by outcome.");
    metrics::describe_histogram!(
        SALESFORCE_LATENCY,
        metrics::Unit::Seconds,
        "Salesforce call latency."
    );
    metrics::describe_histogram!(BATCH_SIZE, "Entries per processed batch.");
    metrics::describe_histogram!(
        LIMITER_WAIT,
        metrics::Unit::Seconds,
        "Time waited for the global limiter."
    );
    metrics::describe_histogram!(
        STRIPE_BUDGET_WAIT,
        metrics::Unit::Seconds,
        "Time a Stripe request waited for the shared Stripe budget."
    );
    metrics::describe_gauge!(BREAKER_OPEN, "1 while the circuit breaker is open.");
    metrics::describe_counter!(BREAKER_OPENED, "Times the circuit breaker opened.");
    metrics::describe_counter!(RECLAIMED, "Entries taken over from stopped replicas.");
    Ok(handle)
}

/// Serves `GET /metrics`, `GET /health`, `/health/live` and `/health/ready` on `addr`
/// until `shutdown`. Readiness is "the process runs"; dependency trouble shows in metrics
/// and logs, and a worker keeps retrying rather than being restarted.
///
/// With `status` (set when `STATUS_API_TOKEN` is), it also serves `GET /v1/events/{id}`,
/// an event's lifecycle behind a bearer token; without it that route does not exist (404).
pub async fn serve(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    status: Option<StatusApi>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut app = Router::new()
        .route("/metrics", get(render))
        .route("/health", get(health))
        .route("/health/live", get(health))
        .route("/health/ready", get(health))
        .with_state(metrics);
    if let Some(status) = status {
        app = app.merge(status.router());
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "Metrics and health listening.");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

async fn render(State(metrics): State<PrometheusHandle>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        metrics.render(),
    )
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}
