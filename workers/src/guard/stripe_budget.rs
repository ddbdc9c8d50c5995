//! The Stripe request budget shared by every replica: the same sliding window as the
//! Salesforce limiter, on its own key and rate, so that the fleet as a whole stays under
//! the account's rate limit however many replicas call Stripe.

use std::{sync::Arc, time::Duration};

use crate::store::RedisConnection;
use stripe_client::{gate::GateFuture, FailureClass, Interrupted, RequestGate};
use tokio_util::sync::CancellationToken;

use super::window::{wait_for_slot, SlidingWindow};
use crate::{keys::KeySpace, telemetry};

/// A [`RequestGate`] for the Stripe client, backed by Redis.
pub struct StripeBudget {
    window: SlidingWindow,
    per_second: u64,
    shutdown: CancellationToken,
}

impl StripeBudget {
    /// `per_second` requests for all replicas together; waits end when `shutdown` is
    /// cancelled.
    pub fn new(
        conn: RedisConnection,
        keys: &KeySpace,
        per_second: u64,
        replica: &str,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            window: SlidingWindow::new(
                conn,
                keys.stripe_limiter(),
                Duration::from_secs(1),
                replica,
            ),
            per_second: per_second.max(1),
            shutdown,
        })
    }

    /// Asks for one request slot without waiting: `Ok(None)` when granted.
    pub async fn try_acquire(&self) -> redis::RedisResult<Option<Duration>> {
        self.window.try_acquire(self.per_second).await
    }
}

impl RequestGate for StripeBudget {
    fn admit(&self) -> GateFuture<'_> {
        Box::pin(async move {
            let waited = wait_for_slot(|| self.try_acquire(), &self.shutdown, "stripe")
                .await
                .ok_or(Interrupted)?;
            if !waited.is_zero() {
                metrics::histogram!(telemetry::STRIPE_BUDGET_WAIT).record(waited.as_secs_f64());
            }
            Ok(())
        })
    }

    fn attempted(&self, failure: Option<FailureClass>) {
        let outcome = failure.map_or("ok", FailureClass::label);
        metrics::counter!(telemetry::STRIPE_REQUESTS, "outcome" => outcome).increment(1);
    }
}
