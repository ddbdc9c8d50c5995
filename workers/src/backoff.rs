//! Waiting out outages of Redis, SQS or anything else a loop depends on: capped
//! exponential backoff with jitter, interrupted by shutdown. Every role's loop uses this one.

use std::time::Duration;

use backon::BackoffBuilder;
use tokio_util::sync::CancellationToken;

/// Exponential backoff with jitter, 100 ms to 5 s, without end: Redis and SQS outages
/// are waited out, never turned into lost events.
pub fn outage_backoff() -> impl Iterator<Item = Duration> {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
        .build()
}

/// Sleeps `delay` unless shut down first; returns false on shutdown.
pub async fn pause(delay: Option<Duration>, shutdown: &CancellationToken) -> bool {
    let delay = delay.unwrap_or(Duration::from_secs(5));
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}
