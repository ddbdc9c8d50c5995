//! Faults a test can switch on through `/__sim/faults`, like `sfsim`'s: answering the next
//! N API requests with 429, added latency, errors at a rate per path prefix, and an outage
//! (every API request a 5xx until cleared). They act at the edge, before the idempotency
//! layer, so a faulted request does nothing and saves nothing under its `Idempotency-Key`.
//!
//! 429s follow Stripe's rate limiter (https://docs.stripe.com/rate-limits): since API
//! version 2015-09-08 they carry no `rate_limit` error code
//! (https://docs.stripe.com/changelog/2015-09-08/rate-limited-requests-return-429-no-rate-limit);
//! Stripe's libraries recognise them by the status.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::StripeError;

/// Every fault knob, as `PUT /__sim/faults` takes it; `Default` is a healthy API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Answer the next this many API requests with 429 (counts down).
    pub rate_limit_next: u64,
    /// Milliseconds added to every API request.
    pub latency_ms: u64,
    /// Extra random milliseconds, uniform in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Errors at a rate for requests whose path starts with a prefix (first match wins).
    pub errors: Vec<ErrorRule>,
    /// When set, every API request fails with this outage's status.
    pub outage: Option<Outage>,
}

/// Random failures of the requests under one path prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRule {
    /// Path prefix, e.g. `/v1/customers` (`/v1` for every endpoint).
    pub path: String,
    /// Only this HTTP method (`POST`, `GET`, `DELETE`); any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// The status answered: a 5xx (`api_error`), 429 (the rate limiter's error) or another
    /// 4xx (`invalid_request_error`).
    #[serde(default = "default_error_status")]
    pub status: u16,
    /// Probability (0..=1) that a matching request fails.
    #[serde(default = "always")]
    pub rate: f64,
    /// Send `Stripe-Should-Retry` with this value (the official libraries obey it).
    #[serde(default)]
    pub should_retry: Option<bool>,
}

fn default_error_status() -> u16 {
    500
}

fn always() -> f64 {
    1.0
}

/// Stripe unavailable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// The status of every answer (5xx; 503 by default).
    #[serde(default = "default_outage_status")]
    pub status: u16,
}

fn default_outage_status() -> u16 {
    503
}

impl FaultConfig {
    /// Why this configuration cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        for rule in &self.errors {
            if !(400..=599).contains(&rule.status) {
                return Err(format!("error status {} is not 4xx or 5xx", rule.status));
            }
            if !(0.0..=1.0).contains(&rule.rate) {
                return Err(format!("error rate {} is not within 0..=1", rule.rate));
            }
        }
        match &self.outage {
            Some(outage) if !(500..=599).contains(&outage.status) => {
                Err(format!("outage status {} is not 5xx", outage.status))
            }
            _ => Ok(()),
        }
    }
}

/// The faults in force.
#[derive(Debug, Default)]
pub struct Faults {
    rate_limit_next: AtomicU64,
    config: RwLock<FaultConfig>,
}

impl Faults {
    /// Replaces every fault with `config` (validated by the caller).
    pub fn set(&self, config: FaultConfig) {
        self.rate_limit_next
            .store(config.rate_limit_next, Ordering::SeqCst);
        *self.config.write() = config;
    }

    /// The faults in force, with the 429s still to come.
    pub fn get(&self) -> FaultConfig {
        FaultConfig {
            rate_limit_next: self.rate_limited_left(),
            ..self.config.read().clone()
        }
    }

    /// Answers the next `count` API requests with 429 (0 switches it off).
    pub fn rate_limit_next(&self, count: u64) {
        self.rate_limit_next.store(count, Ordering::SeqCst);
    }

    /// How many API requests are still to be refused.
    pub fn rate_limited_left(&self) -> u64 {
        self.rate_limit_next.load(Ordering::SeqCst)
    }

    /// The 429 for this request, if one is due (counts it down).
    pub fn take_rate_limit(&self) -> Option<StripeError> {
        self.rate_limit_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .ok()
            .map(|_| rate_limited())
    }

    /// The outage answer, while an outage is on.
    pub fn outage(&self) -> Option<Response> {
        self.config.read().outage.as_ref().map(|outage| {
            server_error(
                outage.status,
                "Stripe is temporarily unavailable (stripesim outage).",
            )
            .into_response()
        })
    }

    /// Latency to add to this request, if any.
    pub fn latency(&self) -> Option<Duration> {
        let config = self.config.read();
        if config.latency_ms == 0 && config.latency_jitter_ms == 0 {
            return None;
        }
        let jitter = match config.latency_jitter_ms {
            0 => 0,
            most => rand::random_range(0..=most),
        };
        Some(Duration::from_millis(
            config.latency_ms.saturating_add(jitter),
        ))
    }

    /// An injected error for a request with `method` to `path`, drawn at the rule's rate.
    pub fn injected_error(&self, method: &str, path: &str) -> Option<Response> {
        let config = self.config.read();
        let rule = config.errors.iter().find(|rule| {
            path.starts_with(&rule.path)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|only| only.eq_ignore_ascii_case(method))
        })?;
        if rule.rate <= 0.0 || rand::random::<f64>() >= rule.rate {
            return None;
        }
        let error = match rule.status {
            429 => rate_limited(),
            status @ 500..=599 => {
                server_error(status, "An unknown error occurred (injected by stripesim).")
            }
            status => StripeError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                ..StripeError::invalid(None, "Request refused (injected by stripesim).", None)
            },
        };
        let mut response = error.into_response();
        if let Some(retry) = rule.should_retry {
            response.headers_mut().insert(
                "stripe-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        Some(response)
    }
}

/// The 429 of Stripe's rate limiter: `invalid_request_error`, no `code`, and no
/// `Stripe-Should-Retry` (see docs/stripesim.md, "Rate limits").
pub fn rate_limited() -> StripeError {
    StripeError {
        status: StatusCode::TOO_MANY_REQUESTS,
        ..StripeError::invalid(
            None,
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            None,
        )
    }
}

/// A 5xx `api_error`.
fn server_error(status: u16, message: &str) -> StripeError {
    StripeError {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ..StripeError::internal(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_to_zero() {
        let faults = Faults::default();
        assert!(faults.take_rate_limit().is_none());
        faults.rate_limit_next(2);
        assert_eq!(
            faults.take_rate_limit().map(|e| e.status),
            Some(StatusCode::TOO_MANY_REQUESTS)
        );
        assert!(faults.take_rate_limit().is_some());
        assert!(faults.take_rate_limit().is_none());
        assert_eq!(faults.rate_limited_left(), 0);
    }

    #[test]
    fn the_old_body_still_parses_and_validation_catches_nonsense() {
        let old: FaultConfig = serde_json::from_str(r#"{"rate_limit_next": 3}"#).expect("parses");
        assert_eq!(old.rate_limit_next, 3);
        assert_eq!(old.validate(), Ok(()));
        let rule: FaultConfig =
            serde_json::from_str(r#"{"errors": [{"path": "/v1/customers"}]}"#).expect("parses");
        assert_eq!((rule.errors[0].status, rule.errors[0].rate), (500, 1.0));
        let bad: FaultConfig =
            serde_json::from_str(r#"{"errors": [{"path": "/v1", "rate": 2}]}"#).expect("parses");
        assert!(bad.validate().is_err());
        let outage: FaultConfig =
            serde_json::from_str(r#"{"outage": {"status": 404}}"#).expect("parses");
        assert!(outage.validate().is_err());
    }

    #[test]
    fn rules_match_by_prefix_and_method() {
        let faults = Faults::default();
        faults.set(FaultConfig {
            errors: vec![ErrorRule {
                path: "/v1/customers".into(),
                method: Some("POST".into()),
                status: 503,
                rate: 1.0,
                should_retry: Some(false),
            }],
            ..FaultConfig::default()
        });
        let hit = faults
            .injected_error("post", "/v1/customers/cus_1")
            .expect("matches");
        assert_eq!(hit.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(hit.headers()["stripe-should-retry"], "false");
        assert!(faults.injected_error("GET", "/v1/customers").is_none());
        assert!(faults.injected_error("POST", "/v1/prices").is_none());
    }
}
