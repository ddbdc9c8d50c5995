//! The Stripe webhook ingress: verify each delivery and make it durable in SQS before
//! answering.
//!
//! `main.rs` only reads the configuration and calls [`run`]; tests start the real binary.
//! The pieces:
//! - [`config`]: the typed configuration, read once.
//! - [`webhook`]: the `POST /webhook/stripe` handler and its error answers.
//! - [`signature_limit`]: the per-address limit on failed signature verifications.
//! - [`source`]: which address a request is charged to.
//! - [`publisher`]: coalescing concurrent requests into SQS batches.
//! - [`health`]: liveness, readiness and metrics endpoints.
//! - [`telemetry`]: metric names.
#![forbid(unsafe_code)]

pub mod config;
pub mod health;
pub mod publisher;
pub mod rotation;
pub mod signature_limit;
pub mod source;
pub mod telemetry;
pub mod webhook;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use common::secrets::SecretWatcher;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    config::IngressConfig,
    health::ReadinessProbe,
    publisher::{PublisherSettings, QueuePublisher},
    rotation::WebhookSecrets,
    signature_limit::InvalidSignatureLimiter,
};

/// Shared state of the HTTP handlers: small, cloned per request, all `Arc`s inside.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<IngressConfig>,
    /// Checks `Stripe-Signature` against the secrets in force.
    pub verifier: Arc<WebhookSecrets>,
    /// Hands events to SQS.
    pub publisher: QueuePublisher,
    /// For the readiness check.
    pub sqs: aws_sdk_sqs::Client,
    /// Cached readiness result.
    pub readiness: ReadinessProbe,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Permits for webhook requests in flight; none left means 429.
    pub in_flight: Arc<Semaphore>,
    /// Failed verifications per address; `None` when the limit is disabled.
    pub invalid_signatures: Option<Arc<InvalidSignatureLimiter>>,
}

/// Builds the router for the given state. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the per-address limit needs the peer.
pub fn router(state: AppState) -> Router {
    // The last layer runs first: a blocked address is refused before it takes an in-flight
    // permit or has its body read.
    let webhook = Router::new()
        .route("/webhook/stripe", post(webhook::receive))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), shed_overload))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            signature_limit::guard,
        ));
    Router::new()
        .merge(webhook)
        .route("/health", get(health::ready))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Refuses a webhook at once with 429 when `MAX_IN_FLIGHT` requests are already being
/// handled, instead of queueing without bound while SQS is slow.
async fn shed_overload(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
        metrics::counter!(telemetry::REQUESTS, "outcome" => "overloaded").increment(1);
        let body = Json(json!({
            "error": "overloaded",
            "message": "too many requests in flight, retry later"
        }));
        let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(state.config.retry_after_secs),
        );
        return response;
    };
    metrics::gauge!(telemetry::IN_FLIGHT).increment(1.0);
    let response = next.run(request).await;
    metrics::gauge!(telemetry::IN_FLIGHT).decrement(1.0);
    drop(permit);
    response
}

/// Serves until `shutdown` is cancelled, then finishes in-flight requests and batches.
pub async fn run(
    config: IngressConfig,
    listener: TcpListener,
    metrics: PrometheusHandle,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_secrets(config, listener, metrics, shutdown, None).await
}

/// [`run`], re-reading the webhook secrets from AWS Secrets Manager with `secrets` (see
/// `common::secrets`): a rotated `STRIPE_WEBHOOK_SECRETS` applies without a restart.
pub async fn run_with_secrets(
    config: IngressConfig,
    listener: TcpListener,
    metrics: PrometheusHandle,
    shutdown: CancellationToken,
    secrets: Option<SecretWatcher>,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let verifier = Arc::new(WebhookSecrets::new(
        &config.webhook_secrets,
        config.tolerance,
    ));
    if let Some(watcher) = secrets {
        watcher.spawn(shutdown.clone());
        let verifier = verifier.clone();
        common::secrets::follow("STRIPE_WEBHOOK_SECRETS", shutdown.clone(), move |raw| {
            match verifier.replace(raw) {
                Ok(()) => tracing::info!("Webhook secrets rotated."),
                Err(problem) => {
                    tracing::error!(%problem, "The rotated STRIPE_WEBHOOK_SECRETS is unusable; keeping the secrets in force.")
                }
            }
        });
    }
    let sqs = common::sqs::client_from_env(common::sqs::SqsClientSettings {
        operation_timeout: config.send_timeout,
        ..Default::default()
    })
    .await;
    let (publisher, publisher_task) = QueuePublisher::spawn(
        sqs.clone(),
        PublisherSettings {
            queue_url: config.queue_url.clone(),
            linger: config.batch_linger,
            max_concurrent_batches: config.max_concurrent_batches,
            send_timeout: config.send_timeout,
        },
        config.max_in_flight,
    );
    let invalid_signatures = config
        .invalid_signature_quota()
        .map(|quota| Arc::new(InvalidSignatureLimiter::new(quota)));
    let housekeeping = invalid_signatures
        .clone()
        .map(|limiter| signature_limit::spawn_housekeeping(limiter, shutdown.clone()));
    let state = AppState {
        verifier: verifier.clone(),
        in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
        config,
        publisher,
        sqs,
        readiness: ReadinessProbe::default(),
        metrics,
        invalid_signatures,
    };
    tracing::info!(addr = %listener.local_addr()?, "Ingress listening.");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    // The housekeeping ends with the token; cancelling again is harmless and makes sure of it.
    if let Some(housekeeping) = housekeeping {
        shutdown.cancel();
        if let Err(error) = housekeeping.await {
            tracing::warn!(%error, "The invalid-signature housekeeping task failed.");
        }
    }
    // The router (and with it every publisher handle) is gone: drain what was accepted.
    publisher_task.finished().await;
    tracing::info!("Ingress stopped.");
    Ok(())
}
