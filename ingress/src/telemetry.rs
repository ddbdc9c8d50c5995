//! Metric names of the ingress and the Prometheus recorder that serves them at `/metrics`.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests by `outcome` (`accepted`, `ignored`, an error code such as `signature_mismatch`,
/// `overloaded` or `too_many_invalid_signatures`).
pub const REQUESTS: &str = "ingress_requests_total";
/// Seconds from request start to response, by `outcome`.
pub const REQUEST_DURATION: &str = "ingress_request_duration_seconds";
/// Entries per SendMessageBatch call.
pub const SQS_BATCH_SIZE: &str = "ingress_sqs_batch_size";
/// Events SQS did not accept, by `kind` (`timeout`, `call_failed`, `entry_failed`).
pub const SQS_ERRORS: &str = "ingress_sqs_errors_total";
/// Requests being handled right now.
pub const IN_FLIGHT: &str = "ingress_requests_in_flight";
/// Events answered 200 but not enqueued because the fleet does not handle their `type`.
pub const IGNORED_EVENTS: &str = "ingress_ignored_events_total";
/// Addresses the invalid-signature limiter tracks (failed recently, allowance not yet full),
/// to see a flood of varied addresses and the memory it holds.
pub const INVALID_SIGNATURE_SOURCES: &str = "ingress_invalid_signature_sources";

/// Installs the process-wide Prometheus recorder. Call once at start-up.
pub fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION.to_owned()),
            &[
                0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(SQS_BATCH_SIZE.to_owned()),
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        )?
        .install_recorder()?;
    metrics::describe_counter!(REQUESTS, "Webhook requests by outcome.");
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Webhook request latency."
    );
    metrics::describe_histogram!(SQS_BATCH_SIZE, "Entries per SendMessageBatch call.");
    metrics::describe_counter!(SQS_ERRORS, "Events SQS did not accept, by kind.");
    metrics::describe_gauge!(IN_FLIGHT, "Webhook requests being handled.");
    metrics::describe_counter!(
        IGNORED_EVENTS,
        "Verified events of types the fleet does not handle."
    );
    metrics::describe_gauge!(
        INVALID_SIGNATURE_SOURCES,
        "Addresses tracked by the invalid-signature limiter."
    );
    // Exported at zero from the start, so that rates and alerts see a series at once.
    for kind in ["timeout", "call_failed", "entry_failed"] {
        metrics::counter!(SQS_ERRORS, "kind" => kind).increment(0);
    }
    metrics::gauge!(INVALID_SIGNATURE_SOURCES).set(0.0);
    Ok(handle)
}
