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
    /// Stripe's rate limits ([`RateLimits::STRIPE_TEST_MODE`] by default,
    /// [`RateLimits::OFF`] for [`SimConfig::on_free_port`]).
    pub rate_limits: RateLimits,
    /// How long a customer change takes to show in search results (Stripe's search is
    /// eventually consistent, usually under a minute).
    pub search_delay: Duration,
}

/// Requests per second the API admits (https://docs.stripe.com/rate-limits); 0 turns a
/// budget off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// All API requests of the account.
    pub global: u32,
    /// Each endpoint (named operation, e.g. `GET /v1/customers/{id}`).
    pub endpoint: u32,
    /// All search requests together.
    pub search: u32,
}

impl RateLimits {
    /// Stripe's sandbox budgets: 25/s overall, 25/s per endpoint, 20/s for search.
    pub const STRIPE_TEST_MODE: Self = Self {
        global: 25,
        endpoint: 25,
        search: 20,
    };

    /// No rate limiting (only the 429s `/__sim/faults` asks for).
    pub const OFF: Self = Self {
        global: 0,
        endpoint: 0,
        search: 0,
    };
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
            rate_limits: RateLimits::STRIPE_TEST_MODE,
            search_delay: Duration::from_secs(1),
        }
    }
}

impl SimConfig {
    /// The defaults for tests: listening on a free port of 127.0.0.1, without rate limits
    /// (tests fire requests faster than a sandbox admits; one that tests limiting sets
    /// `rate_limits`) and with search up to date at once (`search_delay` zero).
    pub fn on_free_port() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limits: RateLimits::OFF,
            search_delay: Duration::ZERO,
            ..Self::default()
        }
    }
}
