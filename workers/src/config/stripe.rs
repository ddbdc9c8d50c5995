//! The Stripe settings of the roles that call Stripe: the secret key, where Stripe is,
//! timeouts, retries, and the request budget all replicas share.

use std::time::Duration;

use clap::Args;
use common::config::{positive, positive_secs, secret};
use stripe_client::{ApiKey, StripeSettings, DEFAULT_API_BASE};

/// Requests per second the fleet allows itself by default with a test-mode key: under
/// Stripe's 25 per second in test mode (docs.stripe.com/rate-limits), with room for
/// someone else's dashboard and scripts on the same account.
pub const TEST_MODE_RATE: u64 = 20;
/// The same for a live-mode key, under Stripe's 100 per second.
pub const LIVE_MODE_RATE: u64 = 80;

/// Stripe endpoint, key and budget.
#[derive(Debug, Clone, Args)]
pub struct StripeConfig {
    /// The account's secret (`sk_…`) or restricted (`rk_…`) key. Never logged.
    #[arg(
        long = "stripe-api-key",
        env = "STRIPE_API_KEY",
        hide_env_values = true,
        value_parser = secret(|text: &str| ApiKey::new(text).map_err(|e| e.to_string()))
    )]
    pub api_key: ApiKey,
    /// Stripe's API base URL, or a simulator's.
    #[arg(long = "stripe-api-base", env = "STRIPE_API_BASE", default_value = DEFAULT_API_BASE)]
    pub api_base: String,
    /// Limit on one Stripe request, in seconds.
    #[arg(
        long = "stripe-timeout-secs",
        env = "STRIPE_TIMEOUT_SECS",
        default_value = "30",
        value_parser = positive_secs
    )]
    pub timeout: Duration,
    /// Extra attempts of a request after a retryable failure (same idempotency key).
    #[arg(
        long = "stripe-max-retries",
        env = "STRIPE_MAX_RETRIES",
        default_value_t = 2
    )]
    pub max_retries: u32,
    /// Requests per second all replicas together may send (default: 20 with a test-mode
    /// key, 80 with a live one).
    #[arg(
        long = "stripe-requests-per-second",
        env = "STRIPE_REQUESTS_PER_SECOND",
        value_parser = positive
    )]
    pub requests_per_second: Option<u64>,
}

impl StripeConfig {
    /// The client settings: these values with the pinned API version.
    pub fn settings(&self) -> StripeSettings {
        let mut settings = StripeSettings::new(self.api_key.clone()).with_api_base(&self.api_base);
        settings.timeout = self.timeout;
        settings.max_retries = self.max_retries;
        settings
    }

    /// The shared budget: as configured, or by the key's mode.
    pub fn requests_per_second(&self) -> u64 {
        self.requests_per_second
            .unwrap_or(if self.api_key.is_live() {
                LIVE_MODE_RATE
            } else {
                TEST_MODE_RATE
            })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        stripe: StripeConfig,
    }

    #[test]
    fn the_budget_follows_the_keys_mode_unless_configured() {
        let test = Probe::try_parse_from(["p", "--stripe-api-key", "sk_test_abcdef"]).unwrap();
        assert_eq!(test.stripe.requests_per_second(), TEST_MODE_RATE);
        let live = Probe::try_parse_from(["p", "--stripe-api-key", "rk_live_abcdef"]).unwrap();
        assert_eq!(live.stripe.requests_per_second(), LIVE_MODE_RATE);
        let set = Probe::try_parse_from([
            "p",
            "--stripe-api-key",
            "sk_live_abcdef",
            "--stripe-requests-per-second",
            "5",
        ])
        .unwrap();
        assert_eq!(set.stripe.requests_per_second(), 5);
        assert_eq!(set.stripe.settings().api_base, DEFAULT_API_BASE);
    }

    #[test]
    fn a_wrong_key_is_refused_without_repeating_it() {
        let error = Probe::try_parse_from(["p", "--stripe-api-key", "pk_test_secretvalue"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("sk_test_"), "{error}");
        assert!(!error.contains("secretvalue"), "{error}");
    }
}
