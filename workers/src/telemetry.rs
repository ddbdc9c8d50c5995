//! Metric names of the workers and the small HTTP server that serves `/metrics` and health.

use std::net::SocketAddr;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tokio_util::sync::CancellationToken;

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
    Ok(handle)
}

/// Serves `GET /metrics`, `GET /health`, `/health/live` and `/health/ready` on `addr`
/// until `shutdown`. Readiness is "the process runs"; dependency trouble shows in metrics
/// and logs, and a worker keeps retrying rather than being restarted.
pub async fn serve(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .route("/health", get(health))
        .route("/health/live", get(health))
        .route("/health/ready", get(health))
        .with_state(metrics);
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
