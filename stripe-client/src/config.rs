//! What a client is built from: the secret key, where Stripe is, the API version it speaks,
//! and how long it waits.

use std::{fmt, time::Duration};

/// The Stripe API version every request pins with `Stripe-Version`, so that an account
/// upgraded in Stripe's dashboard cannot change the shapes the fleet reads. It is the
/// version whose objects `docs/stripe-webhooks.md` and the simulator describe.
pub const API_VERSION: &str = "2025-03-31.basil";

/// Stripe's API base when none is configured.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// A Stripe secret or restricted key. It is a credential: `Debug` and `Display` show only
/// its mode prefix and last four characters, as Stripe's dashboard does, so it can be logged
/// by accident without leaking.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key; refuses one that is not a Stripe secret (`sk_`) or restricted (`rk_`)
    /// key, because a publishable key (`pk_`) or a webhook secret (`whsec_`) put in the wrong
    /// variable would otherwise fail only at the first call.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidApiKey> {
        let key = key.into();
        let key = key.trim().to_owned();
        let known = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];
        if known.iter().any(|p| key.starts_with(p)) && key.len() > 8 {
            Ok(Self(key))
        } else {
            Err(InvalidApiKey)
        }
    }

    /// True for a live-mode key: the account's real money, and Stripe's higher rate limits.
    pub fn is_live(&self) -> bool {
        self.0.starts_with("sk_live_") || self.0.starts_with("rk_live_")
    }

    /// The key itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = &self.0[..8];
        let tail = &self.0[self.0.len().saturating_sub(4)..];
        write!(f, "{prefix}****{tail}")
    }
}

/// A value given as a Stripe key that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a Stripe secret or restricted key: it must start with sk_test_, sk_live_, rk_test_ or rk_live_")]
pub struct InvalidApiKey;

/// Everything a [`crate::StripeClient`] needs besides its gate.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// The secret key.
    pub api_key: ApiKey,
    /// `https://api.stripe.com`, or a simulator's base URL; no trailing slash needed.
    pub api_base: String,
    /// The pinned `Stripe-Version`.
    pub api_version: String,
    /// Limit on one request, connection included.
    pub timeout: Duration,
    /// Extra attempts after a retryable failure (Stripe's libraries default to 2 when
    /// retries are on); each attempt passes the gate again.
    pub max_retries: u32,
}

impl StripeSettings {
    /// Settings for `api_key` against Stripe itself, with the pinned version, an 80 s timeout
    /// (Stripe's libraries use 80 s) and two retries.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            api_base: DEFAULT_API_BASE.to_owned(),
            api_version: API_VERSION.to_owned(),
            timeout: Duration::from_secs(80),
            max_retries: 2,
        }
    }

    /// The same settings against another base URL (a simulator).
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into().trim_end_matches('/').to_owned();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_in_debug_and_display() {
        let key = ApiKey::new("sk_test_51Habcdefghijklmnop1234").unwrap();
        assert_eq!(format!("{key}"), "sk_test_****1234");
        assert_eq!(format!("{key:?}"), "sk_test_****1234");
        assert!(!format!("{:?}", StripeSettings::new(key)).contains("abcdef"));
    }

    #[test]
    fn other_kinds_of_keys_are_refused() {
        for wrong in ["pk_test_abc123", "whsec_abc123", "", "sk_test_"] {
            assert_eq!(ApiKey::new(wrong), Err(InvalidApiKey), "{wrong}");
        }
        assert!(ApiKey::new("rk_live_abcdef").unwrap().is_live());
        assert!(!ApiKey::new(" sk_test_abcdef\n").unwrap().is_live());
    }
}
