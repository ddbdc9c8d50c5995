//! The ingress configuration: one clap struct, [`IngressConfig`], read from the environment
//! (or flags) once at start-up; each default is written once, in its attribute.
//!
//! Every variable is listed in the README's configuration table and in `.env.example`
//! (`workers/tests/config_docs.rs` checks both against this struct). Invalid values stop the
//! process with a message naming the variable, rather than being replaced by a default the
//! operator did not ask for.

use std::{collections::HashSet, net::SocketAddr, num::NonZeroU32, time::Duration};

use axum::http::HeaderName;
use clap::Parser;
use common::{
    config::{millis, positive, positive_count, positive_millis, secret},
    stripe::Tolerance,
    telemetry::LogConfig,
};
use governor::Quota;

/// Event types the default mapping turns into Salesforce records (the workers' test
/// `default_mapping_and_ingress_agree` keeps the two lists equal). Others are answered 200
/// and not enqueued unless `HANDLED_EVENT_TYPES` says otherwise.
pub const DEFAULT_HANDLED_EVENT_TYPES: &[&str] = &[
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "price.created",
    "price.updated",
    "product.updated",
];

/// Which event types are enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypeFilter {
    /// Every type (`HANDLED_EVENT_TYPES=*`).
    All,
    /// Only these types.
    Only(HashSet<String>),
}

impl EventTypeFilter {
    /// True if events of this type go to the queue.
    pub fn accepts(&self, event_type: &str) -> bool {
        match self {
            EventTypeFilter::All => true,
            EventTypeFilter::Only(types) => types.contains(event_type),
        }
    }
}

/// Everything the ingress process needs to know, validated: the `ingress` binary's command
/// line. Every setting is an environment variable (or its flag); `ingress --help` lists them
/// with their defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "ingress",
    about = "Stripe webhook receiver: verify, store in SQS, answer",
    version
)]
pub struct IngressConfig {
    /// Where the HTTP server listens.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8000")]
    pub listen_addr: SocketAddr,
    /// Endpoint secrets (`whsec_...`), comma-separated: two while one is rolled.
    #[arg(
        long = "stripe-webhook-secrets",
        env = "STRIPE_WEBHOOK_SECRETS",
        hide_env_values = true,
        value_parser = secret(parse_secrets)
    )]
    pub webhook_secrets: ::std::vec::Vec<String>,
    /// Maximum age of a signature in seconds; 0 is refused (it would disable replay
    /// protection).
    #[arg(
        long = "stripe-tolerance-secs",
        env = "STRIPE_TOLERANCE_SECS",
        default_value = "300",
        value_parser = tolerance
    )]
    pub tolerance: Tolerance,
    /// The SQS queue verified events go to.
    #[arg(long = "sqs-queue-url", env = "SQS_QUEUE_URL")]
    pub queue_url: String,
    /// Larger bodies are answered 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value = "1048576", value_parser = positive_count)]
    pub max_body_bytes: usize,
    /// Webhook requests handled at once; beyond it the ingress answers 429 at once.
    #[arg(long, env = "MAX_IN_FLIGHT", default_value = "1024", value_parser = positive_count)]
    pub max_in_flight: usize,
    /// Milliseconds a request waits for others to share its SendMessageBatch.
    #[arg(
        long = "sqs-batch-linger-ms",
        env = "SQS_BATCH_LINGER_MS",
        default_value = "2",
        value_parser = millis
    )]
    pub batch_linger: Duration,
    /// SendMessageBatch calls in flight at once.
    #[arg(
        long = "sqs-max-concurrent-batches",
        env = "SQS_MAX_CONCURRENT_BATCHES",
        default_value = "64",
        value_parser = positive_count
    )]
    pub max_concurrent_batches: usize,
    /// Milliseconds SQS has to accept a batch; then the requests are answered 503.
    #[arg(
        long = "sqs-send-timeout-ms",
        env = "SQS_SEND_TIMEOUT_MS",
        default_value = "5000",
        value_parser = positive_millis
    )]
    pub send_timeout: Duration,
    /// Comma-separated event types to enqueue, or `*` for all (default: the 11 types the
    /// mapping handles, [`DEFAULT_HANDLED_EVENT_TYPES`]); others are answered 200 and dropped.
    #[arg(long, env = "HANDLED_EVENT_TYPES", value_parser = event_type_filter)]
    pub handled_event_types: Option<EventTypeFilter>,
    /// Seconds in the `Retry-After` of 503 answers and of the `overloaded` 429.
    #[arg(long, env = "RETRY_AFTER_SECS", default_value = "5", value_parser = positive)]
    pub retry_after_secs: u64,
    /// Failed signature checks one address may make before it is answered 429; 0 disables
    /// the limit.
    #[arg(long, env = "INVALID_SIGNATURE_BURST", default_value = "20")]
    pub invalid_signature_burst: u32,
    /// How many of those failed checks are allowed again per minute; 0 disables the limit.
    #[arg(long, env = "INVALID_SIGNATURE_PER_MINUTE", default_value = "60")]
    pub invalid_signature_per_minute: u32,
    /// Header whose left-most address is the client behind a proxy (e.g. `X-Forwarded-For`);
    /// unset, the TCP peer is the client. Only behind a proxy that overwrites it.
    #[arg(long, env = "TRUSTED_PROXY_HEADER", value_parser = header_name)]
    pub trusted_proxy_header: Option<HeaderName>,
    /// Logging.
    #[command(flatten)]
    pub log: LogConfig,
}

impl IngressConfig {
    /// Whether events of this type go to the queue (`HANDLED_EVENT_TYPES`).
    pub fn handles(&self, event_type: &str) -> bool {
        match &self.handled_event_types {
            Some(filter) => filter.accepts(event_type),
            None => DEFAULT_HANDLED_EVENT_TYPES.contains(&event_type),
        }
    }

    /// The per-address allowance of failed verifications (`INVALID_SIGNATURE_BURST` cells,
    /// refilled at `INVALID_SIGNATURE_PER_MINUTE`); `None` when either is 0.
    pub fn invalid_signature_quota(&self) -> Option<Quota> {
        NonZeroU32::new(self.invalid_signature_burst)
            .zip(NonZeroU32::new(self.invalid_signature_per_minute))
            .map(|(burst, per_minute)| Quota::per_minute(per_minute).allow_burst(burst))
    }

    /// Logs a warning for each secret that does not look like a Stripe endpoint secret.
    /// Call once logging is set up.
    pub fn warn_about_unusual_secrets(&self) {
        for (index, secret) in self.webhook_secrets.iter().enumerate() {
            if !secret.starts_with("whsec_") {
                tracing::warn!(
                    secret_index = index + 1,
                    "A webhook secret does not start with whsec_; Stripe's endpoint secrets do."
                );
            }
        }
    }
}

/// `STRIPE_TOLERANCE_SECS`: a positive number of seconds.
fn tolerance(text: &str) -> Result<Tolerance, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("0 would disable replay protection; use a positive number of seconds".into()),
        Ok(secs) => Ok(Tolerance::MaxAgeSecs(secs)),
        Err(e) => Err(format!("not a number of seconds: {e}")),
    }
}

/// `HANDLED_EVENT_TYPES`: `*`, or comma-separated types.
fn event_type_filter(text: &str) -> Result<EventTypeFilter, String> {
    if text.trim() == "*" {
        return Ok(EventTypeFilter::All);
    }
    Ok(EventTypeFilter::Only(
        text.split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
    ))
}

/// `TRUSTED_PROXY_HEADER`: a header name (any case).
fn header_name(text: &str) -> Result<HeaderName, String> {
    HeaderName::try_from(text.trim()).map_err(|e| format!("invalid header name: {e}"))
}

/// Splits `STRIPE_WEBHOOK_SECRETS` and refuses values that can never verify anything. The
/// errors never quote a secret.
pub fn parse_secrets(raw: &str) -> Result<Vec<String>, String> {
    let secrets: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty() {
        return Err("no secret given".into());
    }
    if let Some(index) = secrets
        .iter()
        .position(|secret| secret.chars().any(char::is_whitespace))
    {
        return Err(format!("secret #{} contains whitespace", index + 1));
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<IngressConfig, clap::Error> {
        common::config::parse_vars(vars)
    }

    const BASE: &[(&str, &str)] = &[
        ("STRIPE_WEBHOOK_SECRETS", "whsec_a, whsec_b"),
        ("SQS_QUEUE_URL", "http://localhost:9324/000000000000/events"),
    ];

    #[test]
    fn defaults_follow_the_documentation() {
        let config = config(BASE).unwrap();
        assert_eq!(config.webhook_secrets, vec!["whsec_a", "whsec_b"]);
        assert_eq!(config.tolerance, Tolerance::MaxAgeSecs(300));
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.listen_addr.port(), 8000);
        assert!(config.handles("invoice.payment_failed"));
        assert!(!config.handles("charge.refunded"));
        let quota = config.invalid_signature_quota().unwrap();
        assert_eq!(quota.burst_size().get(), 20);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(1));
        assert_eq!(config.trusted_proxy_header, None);
    }

    #[test]
    fn invalid_signature_limit_is_configurable_and_zero_disables_it() {
        let mut vars = BASE.to_vec();
        vars.push(("INVALID_SIGNATURE_BURST", "3"));
        vars.push(("INVALID_SIGNATURE_PER_MINUTE", "1"));
        vars.push(("TRUSTED_PROXY_HEADER", "X-Forwarded-For"));
        let configured = config(&vars).unwrap();
        let quota = configured.invalid_signature_quota().unwrap();
        assert_eq!(quota.burst_size().get(), 3);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(60));
        assert_eq!(
            configured.trusted_proxy_header.unwrap().as_str(),
            "x-forwarded-for"
        );
        for var in ["INVALID_SIGNATURE_BURST", "INVALID_SIGNATURE_PER_MINUTE"] {
            let mut vars = BASE.to_vec();
            vars.push((var, "0"));
            assert!(
                config(&vars).unwrap().invalid_signature_quota().is_none(),
                "{var}"
            );
        }
    }

    #[test]
    fn invalid_values_are_named() {
        for (var, value) in [
            ("INVALID_SIGNATURE_BURST", "-1"),
            ("INVALID_SIGNATURE_PER_MINUTE", "many"),
            ("TRUSTED_PROXY_HEADER", "X Forwarded For"),
            ("MAX_IN_FLIGHT", "0"),
            ("SQS_SEND_TIMEOUT_MS", "0"),
            ("LISTEN_ADDR", "nowhere"),
            ("LOG_FORMAT", "xml"),
        ] {
            let mut vars = BASE.to_vec();
            vars.push((var, value));
            let error = config(&vars).unwrap_err().to_string();
            assert!(error.contains(var), "{error}");
        }
    }

    #[test]
    fn zero_tolerance_is_refused() {
        let mut vars = BASE.to_vec();
        vars.push(("STRIPE_TOLERANCE_SECS", "0"));
        let error = config(&vars).unwrap_err().to_string();
        assert!(error.contains("STRIPE_TOLERANCE_SECS"), "{error}");
        assert!(error.contains("replay protection"), "{error}");
    }

    #[test]
    fn missing_secret_and_queue_are_named() {
        let error = config(&[("SQS_QUEUE_URL", "x")]).unwrap_err().to_string();
        assert!(error.contains("STRIPE_WEBHOOK_SECRETS"), "{error}");
        let error = config(&[("STRIPE_WEBHOOK_SECRETS", "whsec_a")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("SQS_QUEUE_URL"), "{error}");
    }

    #[test]
    fn secrets_are_never_quoted_in_errors() {
        let error = config(&[
            ("SQS_QUEUE_URL", "x"),
            ("STRIPE_WEBHOOK_SECRETS", "whsec_a,whsec_b c"),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("STRIPE_WEBHOOK_SECRETS"), "{error}");
        assert!(error.contains("secret #2 contains whitespace"), "{error}");
        assert!(!error.contains("whsec_"), "{error}");
    }

    #[test]
    fn star_accepts_every_type() {
        let mut vars = BASE.to_vec();
        vars.push(("HANDLED_EVENT_TYPES", "*"));
        assert!(config(&vars).unwrap().handles("charge.refunded"));
        let mut vars = BASE.to_vec();
        vars.push(("HANDLED_EVENT_TYPES", "charge.refunded, invoice.paid"));
        let config = config(&vars).unwrap();
        assert!(config.handles("invoice.paid"));
        assert!(!config.handles("customer.created"));
    }
}
