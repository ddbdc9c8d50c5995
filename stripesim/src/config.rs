//! The simulator's configuration: one typed struct; the `stripesim` binary fills it from
//! flags and environment variables, tests build it in code.

use std::net::SocketAddr;
use std::time::Duration;

/// API version the simulated account is pinned to: events carry it as `api_version`, and
/// responses echo it as `Stripe-Version` when the request names none.
pub const DEFAULT_API_VERSION: &str = "2025-03-31.basil";

/// Everything the simulator can be told.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port (tests).
    pub listen_addr: SocketAddr,
    /// When set, the only secret key accepted; when unset any `sk_test_…` key is.
    pub api_key: Option<String>,
    /// The account's API version (see [`DEFAULT_API_VERSION`]).
    pub api_version: String,
    /// Factor applied to the webhook retry schedule (1.0 = Stripe's three days).
    pub retry_scale: f64,
    /// How long idempotency keys are kept (Stripe: at least 24 hours).
    pub idempotency_retention: Duration,
    /// Extra latency before every mutating request is handled, so tests can observe a
    /// request in flight (e.g. the 409 for a concurrent idempotency key). Zero by default.
    pub mutation_delay: Duration,
    /// Timeout of one webhook delivery attempt.
    pub delivery_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 12111)),
            api_key: None,
            api_version: DEFAULT_API_VERSION.to_string(),
            retry_scale: 0.001,
            idempotency_retention: Duration::from_secs(24 * 3600),
            mutation_delay: Duration::ZERO,
            delivery_timeout: Duration::from_secs(10),
        }
    }
}

impl SimConfig {
    /// The defaults, listening on a free port of 127.0.0.1 (for tests).
    pub fn on_free_port() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        }
    }
}
