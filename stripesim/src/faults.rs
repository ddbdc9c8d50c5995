//! Faults a test can switch on through `/__sim/faults`: for now, answering the next N API
//! requests with 429 as Stripe's rate limiter does (https://docs.stripe.com/rate-limits).
//! Since API version 2015-09-08 those are HTTP 429 without a `rate_limit` error code
//! (https://docs.stripe.com/changelog/2015-09-08/rate-limited-requests-return-429-no-rate-limit);
//! Stripe's libraries recognise them by the status.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;

use crate::error::StripeError;

/// The faults in force.
#[derive(Debug, Default)]
pub struct Faults {
    rate_limit_next: AtomicU64,
}

impl Faults {
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
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .ok()
            .map(|_| StripeError {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..StripeError::invalid(
                    None,
                    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                    None,
                )
            })
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
}
