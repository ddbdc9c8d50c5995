//! Metric names of the workers and the small HTTP server that serves `/metrics` and health.

use std::net::SocketAddr;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
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

/// Seconds from Stripe's `created` to the moment Salesforce had accepted the event's
/// writes and the worker acknowledged it, by `stream` and `type`: the sync lag the seed's
/// five-minute objective is about. A histogram with [`SYNC_LAG_BUCKETS`].
pub const SYNC_LAG: &str = "sync_lag_seconds";
/// Entries written to the dead-letter stream, by `source` (`bridge`, `high`, `low`).
pub const DEAD_LETTERS: &str = "dead_letters_total";
/// Stripe API requests (every attempt), by `outcome` (`ok` or a failure class).
pub const STRIPE_REQUESTS: &str = "stripe_requests_total";
/// Salesforce logins whose session this replica stored for all replicas.
pub const TOKEN_REFRESHES: &str = "salesforce_token_refreshes_total";

/// SQS `ApproximateNumberOfMessages`: messages waiting to be received (bridge).
pub const SQS_VISIBLE: &str = "sqs_messages_visible";
/// SQS `ApproximateNumberOfMessagesNotVisible`: received, not yet deleted (bridge).
pub const SQS_NOT_VISIBLE: &str = "sqs_messages_not_visible";
/// SQS `ApproximateNumberOfMessagesDelayed` (bridge).
pub const SQS_DELAYED: &str = "sqs_messages_delayed";
/// Entries delivered to a consumer and not yet acknowledged, by `stream` (bridge).
pub const STREAM_PENDING: &str = "stream_pending";
/// Seconds since the oldest pending entry was last delivered, by `stream`; 0 when none
/// is pending (bridge).
pub const STREAM_OLDEST_PENDING: &str = "stream_oldest_pending_seconds";
/// Consumers of a stream's group that read within the last five minutes, by `stream`
/// (bridge).
pub const STREAM_LIVE_CONSUMERS: &str = "stream_live_consumers";
/// Entries in the dead-letter stream (bridge).
pub const DEAD_LETTER_BACKLOG: &str = "dead_letter_backlog";
/// Events waiting in the retry schedule (bridge).
pub const RETRY_SCHEDULED: &str = "retry_scheduled";
/// Salesforce daily API requests used, from the last `Sforce-Limit-Info` any replica saw
/// (bridge, read from `{prefix}:sf:api-usage`).
pub const SALESFORCE_API_USED: &str = "salesforce_api_usage_used";
/// The org's daily API request allocation, from the same header (bridge).
pub const SALESFORCE_API_MAX: &str = "salesforce_api_usage_max";

/// Bucket bounds of [`SYNC_LAG`], in seconds: fine below the five-minute objective and
/// coarse up to a day, so `histogram_quantile` answers around 300 s and a backlog of
/// hours is still visible.
pub const SYNC_LAG_BUCKETS: &[f64] = &[
    0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 450.0, 600.0,
    900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0,
];

/// Bucket bounds of the Salesforce call and limiter wait histograms, in seconds.
const CALL_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process-wide Prometheus recorder.
pub fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(SYNC_LAG.to_owned()), SYNC_LAG_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(SALESFORCE_LATENCY.to_owned()), CALL_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(LIMITER_WAIT.to_owned()), CALL_BUCKETS)?
        .install_recorder()?;
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
    describe_signals();
    Ok(handle)
}

/// Descriptions of the monitoring signals (sync lag, queue depths, budgets).
fn describe_signals() {
    metrics::describe_histogram!(
        SYNC_LAG,
        metrics::Unit::Seconds,
        "Stripe event created -> applied in Salesforce and acknowledged."
    );
    metrics::describe_counter!(DEAD_LETTERS, "Entries written to the dead-letter stream.");
    metrics::describe_counter!(STRIPE_REQUESTS, "Stripe API requests by outcome.");
    metrics::describe_counter!(TOKEN_REFRESHES, "Salesforce sessions obtained and shared.");
    metrics::describe_gauge!(SQS_VISIBLE, "SQS ApproximateNumberOfMessages.");
    metrics::describe_gauge!(
        SQS_NOT_VISIBLE,
        "SQS ApproximateNumberOfMessagesNotVisible."
    );
    metrics::describe_gauge!(SQS_DELAYED, "SQS ApproximateNumberOfMessagesDelayed.");
    metrics::describe_gauge!(STREAM_PENDING, "Delivered, unacknowledged stream entries.");
    metrics::describe_gauge!(
        STREAM_OLDEST_PENDING,
        metrics::Unit::Seconds,
        "Idle time of the oldest pending entry."
    );
    metrics::describe_gauge!(STREAM_LIVE_CONSUMERS, "Consumers that read recently.");
    metrics::describe_gauge!(DEAD_LETTER_BACKLOG, "Entries in the dead-letter stream.");
    metrics::describe_gauge!(RETRY_SCHEDULED, "Events waiting in the retry schedule.");
    metrics::describe_gauge!(SALESFORCE_API_USED, "Salesforce daily API requests used.");
    metrics::describe_gauge!(
        SALESFORCE_API_MAX,
        "Salesforce daily API request allocation."
    );
}

/// Exports the bridge's counters and its backpressure gauge before anything happened, so
/// that rules computing `rate` or `increase` and the dashboard see a series from the start.
pub fn register_bridge() {
    for counter in [
        BRIDGE_RECEIVED,
        BRIDGE_DUPLICATES,
        BRIDGE_DEAD_LETTERED,
        BRIDGE_REDIS_ERRORS,
    ] {
        metrics::counter!(counter).increment(0);
    }
    for call in ["receive", "delete", "attributes"] {
        metrics::counter!(BRIDGE_SQS_ERRORS, "call" => call).increment(0);
    }
    metrics::counter!(DEAD_LETTERS, "source" => "bridge").increment(0);
    metrics::gauge!(BRIDGE_PAUSED).set(0.0);
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
