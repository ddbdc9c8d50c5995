//! The global call budget: a sliding-window limiter in Redis (`lua/sliding_window_limiter.lua`)
//! that every replica of every role asks before each Salesforce call, plus a throttle on
//! the org's daily allocation read from `Sforce-Limit-Info`.
//!
//! Daily budget: when the usage any replica last saw passes `low_reserve`, low-priority
//! (bulk) calls wait until it drops; past `high_reserve`, high-priority calls get a quarter
//! of the window's rate. Bulk work slows first so realtime keeps its budget.

use std::{sync::Arc, time::Duration};

use crate::store::RedisConnection;
use salesforce_client::{CallGate, Interrupted, StoreFuture};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::window::{wait_for_slot, SlidingWindow};
use crate::{
    keys::KeySpace,
    store::{Priority, RedisUsageStore},
    telemetry,
};

/// How long a read of the shared daily usage is reused.
const USAGE_REFRESH: Duration = Duration::from_secs(2);

/// Thresholds on the org's daily usage (fractions of the allocation), part of the
/// consumers' configuration.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct DailyBudget {
    /// Share of the org's daily API allocation used (0 to 1) at which bulk calls wait.
    #[arg(
        long = "sf-daily-reserve-low",
        env = "SF_DAILY_RESERVE_LOW",
        default_value = "0.8",
        value_parser = fraction
    )]
    pub low_reserve: f64,
    /// Share of the daily allocation used at which realtime slows to a quarter of the rate.
    #[arg(
        long = "sf-daily-reserve-high",
        env = "SF_DAILY_RESERVE_HIGH",
        default_value = "0.95",
        value_parser = fraction
    )]
    pub high_reserve: f64,
}

/// How many calls all replicas together may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRate {
    /// Calls per window.
    pub calls: u64,
    /// The window.
    pub window: Duration,
}

/// A share between 0 and 1.
fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|e| format!("not a number: {e}"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err("must be between 0 and 1".into())
    }
}

/// A [`CallGate`] backed by the shared sliding window.
pub struct SlidingWindowLimiter {
    window: SlidingWindow,
    limit: u64,
    priority: Priority,
    budget: DailyBudget,
    shutdown: CancellationToken,
    usage: Mutex<Option<(tokio::time::Instant, f64)>>,
    usage_store: RedisUsageStore,
}

impl SlidingWindowLimiter {
    /// `rate` for all replicas together; waits end when `shutdown` is cancelled.
    pub fn new(
        conn: RedisConnection,
        keys: KeySpace,
        rate: CallRate,
        priority: Priority,
        budget: DailyBudget,
        replica: &str,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            usage_store: RedisUsageStore::new(conn.clone(), &keys),
            window: SlidingWindow::new(conn, keys.limiter(), rate.window, replica),
            limit: rate.calls,
            priority,
            budget,
            shutdown,
            usage: Mutex::new(None),
        })
    }

    /// Asks for one call slot; `Ok(None)` when granted, `Ok(Some(wait))` when not.
    pub async fn try_acquire(&self) -> redis::RedisResult<Option<Duration>> {
        let used = self.daily_usage().await;
        let limit = if used >= self.budget.high_reserve {
            (self.limit / 4).max(1)
        } else {
            self.limit
        };
        if self.priority == Priority::Low && used >= self.budget.low_reserve {
            return Ok(Some(USAGE_REFRESH));
        }
        self.window.try_acquire(limit).await
    }

    /// The daily usage fraction, re-read from Redis at most every [`USAGE_REFRESH`].
    async fn daily_usage(&self) -> f64 {
        let mut cached = self.usage.lock().await;
        if let Some((at, fraction)) = *cached {
            if at.elapsed() < USAGE_REFRESH {
                return fraction;
            }
        }
        let fraction = self
            .usage_store
            .read()
            .await
            .ok()
            .flatten()
            .map_or(0.0, |u| u.fraction());
        *cached = Some((tokio::time::Instant::now(), fraction));
        fraction
    }
}

impl CallGate for SlidingWindowLimiter {
    fn admit(&self) -> StoreFuture<'_, Result<(), Interrupted>> {
        Box::pin(async move {
            let waited = wait_for_slot(|| self.try_acquire(), &self.shutdown, "salesforce")
                .await
                .ok_or(Interrupted)?;
            if !waited.is_zero() {
                metrics::histogram!(telemetry::LIMITER_WAIT, "stream" => self.priority.name())
                    .record(waited.as_secs_f64());
            }
            Ok(())
        })
    }
}
