//! The ingress configuration: one typed struct, read from the environment once at start-up.
//!
//! Every variable is listed in the README's configuration table and in `.env.example`.
//! Invalid values stop the process with a message naming the variable, rather than being
//! replaced by a default the operator did not ask for.

use std::{collections::HashSet, net::SocketAddr, num::NonZeroU32, time::Duration};

use axum::http::HeaderName;
use common::{
    config::{ConfigError, Env},
    stripe::Tolerance,
};
use governor::Quota;

/// Event types the default mapping turns into Salesforce records. Others are answered 200
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

/// Everything the ingress process needs to know, validated.
#[derive(Debug, Clone)]
pub struct IngressConfig {
    /// `LISTEN_ADDR`: where the HTTP server listens.
    pub listen_addr: SocketAddr,
    /// `STRIPE_WEBHOOK_SECRETS`: endpoint secrets, several while one is rolled.
    pub webhook_secrets: Vec<String>,
    /// `STRIPE_TOLERANCE_SECS`: maximum age of a signature.
    pub tolerance: Tolerance,
    /// `SQS_QUEUE_URL`: where verified events go.
    pub queue_url: String,
    /// `MAX_BODY_BYTES`: larger bodies are answered 413.
    pub max_body_bytes: usize,
    /// `MAX_IN_FLIGHT`: requests handled at once; beyond it the ingress answers 429 at once.
    pub max_in_flight: usize,
    /// `SQS_BATCH_LINGER_MS`: how long a request waits for others to share its SendMessageBatch.
    pub batch_linger: Duration,
    /// `SQS_MAX_CONCURRENT_BATCHES`: SendMessageBatch calls in flight at once.
    pub max_concurrent_batches: usize,
    /// `SQS_SEND_TIMEOUT_MS`: a batch not accepted by SQS within this time fails with 503.
    pub send_timeout: Duration,
    /// `HANDLED_EVENT_TYPES`: comma-separated types to enqueue, or `*`.
    pub handled_event_types: EventTypeFilter,
    /// `RETRY_AFTER_SECS`: the `Retry-After` value sent with 503 and with the 429 of
    /// `MAX_IN_FLIGHT`.
    pub retry_after_secs: u64,
    /// `INVALID_SIGNATURE_BURST` and `INVALID_SIGNATURE_PER_MINUTE`: failed verifications
    /// allowed per address before it is refused with 429; `None` (either set to 0) disables
    /// the limit.
    pub invalid_signature_quota: Option<Quota>,
    /// `TRUSTED_PROXY_HEADER`: header whose left-most address identifies the client behind a
    /// proxy; `None` means the TCP peer is the client.
    pub trusted_proxy_header: Option<HeaderName>,
}

impl IngressConfig {
    /// Reads and validates the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let tolerance = match env.parsed("STRIPE_TOLERANCE_SECS", 300u64)? {
            0 => {
                return Err(ConfigError::new(
                    "STRIPE_TOLERANCE_SECS",
                    "0 would disable replay protection; use a positive number of seconds",
                ))
            }
            secs => Tolerance::MaxAgeSecs(secs),
        };
        let handled_event_types = match env.get("HANDLED_EVENT_TYPES") {
            None => EventTypeFilter::Only(
                DEFAULT_HANDLED_EVENT_TYPES
                    .iter()
                    .map(|t| t.to_string())
                    .collect(),
            ),
            Some(v) if v.trim() == "*" => EventTypeFilter::All,
            Some(v) => EventTypeFilter::Only(
                v.split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            ),
        };
        Ok(Self {
            listen_addr: env.parsed("LISTEN_ADDR", SocketAddr::from(([0, 0, 0, 0], 8000)))?,
            webhook_secrets: parse_secrets(env.get("STRIPE_WEBHOOK_SECRETS"))?,
            tolerance,
            queue_url: env.required("SQS_QUEUE_URL", "the queue's URL")?,
            max_body_bytes: env.positive_usize("MAX_BODY_BYTES", 1024 * 1024)?,
            max_in_flight: env.positive_usize("MAX_IN_FLIGHT", 1024)?,
            batch_linger: env.millis("SQS_BATCH_LINGER_MS", 2)?,
            max_concurrent_batches: env.positive_usize("SQS_MAX_CONCURRENT_BATCHES", 64)?,
            send_timeout: Duration::from_millis(env.positive("SQS_SEND_TIMEOUT_MS", 5000)?),
            handled_event_types,
            retry_after_secs: env.positive("RETRY_AFTER_SECS", 5)?,
            invalid_signature_quota: invalid_signature_quota(&env)?,
            trusted_proxy_header: trusted_proxy_header(env.get("TRUSTED_PROXY_HEADER"))?,
        })
    }
}

/// The per-address allowance of failed verifications; 0 in either variable turns it off.
fn invalid_signature_quota<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<Quota>, ConfigError> {
    let burst = env.parsed("INVALID_SIGNATURE_BURST", 20u32)?;
    let per_minute = env.parsed("INVALID_SIGNATURE_PER_MINUTE", 60u32)?;
    Ok(NonZeroU32::new(burst)
        .zip(NonZeroU32::new(per_minute))
        .map(|(burst, per_minute)| Quota::per_minute(per_minute).allow_burst(burst)))
}

/// Parses `TRUSTED_PROXY_HEADER` as a header name (any case).
fn trusted_proxy_header(raw: Option<String>) -> Result<Option<HeaderName>, ConfigError> {
    raw.map(|name| {
        HeaderName::try_from(name.trim()).map_err(|e| {
            ConfigError::new(
                "TRUSTED_PROXY_HEADER",
                format!("invalid header name {name:?}: {e}"),
            )
        })
    })
    .transpose()
}

/// Splits `STRIPE_WEBHOOK_SECRETS` and refuses values that can never verify anything.
fn parse_secrets(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    const VAR: &str = "STRIPE_WEBHOOK_SECRETS";
    let raw = raw.ok_or_else(|| {
        ConfigError::new(
            VAR,
            "required (one or more whsec_... secrets, comma-separated)",
        )
    })?;
    let secrets: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty() {
        return Err(ConfigError::new(VAR, "no secret given"));
    }
    for (index, secret) in secrets.iter().enumerate() {
        if secret.chars().any(char::is_whitespace) {
            // Never echo the secret itself.
            return Err(ConfigError::new(
                VAR,
                format!("secret #{} contains whitespace", index + 1),
            ));
        }
        if !secret.starts_with("whsec_") {
            tracing::warn!(
                secret_index = index + 1,
                "A webhook secret does not start with whsec_; Stripe's endpoint secrets do."
            );
        }
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<IngressConfig, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        IngressConfig::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
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
        assert!(config.handled_event_types.accepts("invoice.payment_failed"));
        assert!(!config.handled_event_types.accepts("charge.refunded"));
        let quota = config.invalid_signature_quota.unwrap();
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
        let quota = configured.invalid_signature_quota.unwrap();
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
                config(&vars).unwrap().invalid_signature_quota.is_none(),
                "{var}"
            );
        }
    }

    #[test]
    fn invalid_limit_and_header_values_are_named() {
        for (var, value) in [
            ("INVALID_SIGNATURE_BURST", "-1"),
            ("INVALID_SIGNATURE_PER_MINUTE", "many"),
            ("TRUSTED_PROXY_HEADER", "X Forwarded For"),
        ] {
            let mut vars = BASE.to_vec();
            vars.push((var, value));
            let error = config(&vars).unwrap_err().to_string();
            assert!(error.starts_with(var), "{error}");
        }
    }

    #[test]
    fn zero_tolerance_is_refused() {
        let mut vars = BASE.to_vec();
        vars.push(("STRIPE_TOLERANCE_SECS", "0"));
        let error = config(&vars).unwrap_err().to_string();
        assert!(error.contains("STRIPE_TOLERANCE_SECS"), "{error}");
    }

    #[test]
    fn missing_secret_and_queue_are_named() {
        let error = config(&[("SQS_QUEUE_URL", "x")]).unwrap_err().to_string();
        assert!(error.starts_with("STRIPE_WEBHOOK_SECRETS"), "{error}");
        let error = config(&[("STRIPE_WEBHOOK_SECRETS", "whsec_a")])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("SQS_QUEUE_URL"), "{error}");
    }

    #[test]
    fn star_accepts_every_type() {
        let mut vars = BASE.to_vec();
        vars.push(("HANDLED_EVENT_TYPES", "*"));
        assert!(config(&vars)
            .unwrap()
            .handled_event_types
            .accepts("charge.refunded"));
    }
}
