//! Backpressure with hysteresis: stop receiving from SQS when a stream's backlog reaches
//! the high-water mark, resume when every stream is at or below the low-water mark.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::store::RedisConnection;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    store::{self, KeySpace, Priority},
    telemetry,
};

/// How often the watcher reads the stream lengths.
const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// Shared open/paused state of the receive loops.
#[derive(Clone)]
pub struct Backpressure {
    high_water: u64,
    low_water: u64,
    paused: Arc<watch::Sender<bool>>,
    /// The longest stream as last read, plus what the loops added since: between two
    /// readings the loops pause on this estimate, so the overshoot is at most one batch
    /// per loop rather than everything received in a check interval.
    estimate: Arc<AtomicU64>,
}

impl Backpressure {
    /// Open at first.
    pub fn new(high_water: u64, low_water: u64) -> Self {
        Self {
            high_water,
            low_water,
            paused: Arc::new(watch::Sender::new(false)),
            estimate: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Records that a loop added `count` entries; pauses at once if that reaches the mark.
    pub fn note_added(&self, count: u64) {
        let estimate = self.estimate.fetch_add(count, Ordering::Relaxed) + count;
        if estimate >= self.high_water {
            self.paused.send_if_modified(|paused| {
                let changed = !*paused;
                if changed {
                    tracing::warn!(
                        estimate,
                        high_water = self.high_water,
                        "Backlog reached the high-water mark: leaving events in SQS."
                    );
                    metrics::gauge!(telemetry::BRIDGE_PAUSED).set(1.0);
                }
                *paused = true;
                changed
            });
        }
    }

    /// Waits while paused. Returns false if shut down while waiting.
    pub async fn wait_until_open(&self, shutdown: &CancellationToken) -> bool {
        let mut state = self.paused.subscribe();
        tokio::select! {
            _ = shutdown.cancelled() => false,
            open = state.wait_for(|paused| !paused) => open.is_ok(),
        }
    }

    /// The next state given the current one and the longest stream.
    fn next_state(&self, paused: bool, longest: u64) -> bool {
        if paused {
            longest > self.low_water
        } else {
            longest >= self.high_water
        }
    }

    /// Reads the backlog periodically and flips the state; exports the gauges.
    pub async fn watch(
        self,
        mut conn: RedisConnection,
        keys: KeySpace,
        shutdown: CancellationToken,
    ) {
        loop {
            match store::stream_lengths(&mut conn, &keys).await {
                Ok(lengths) => {
                    for (priority, length) in Priority::ALL.iter().zip(lengths) {
                        metrics::gauge!(telemetry::STREAM_BACKLOG, "stream" => priority.name())
                            .set(length as f64);
                    }
                    let longest = lengths.into_iter().max().unwrap_or(0);
                    self.estimate.store(longest, Ordering::Relaxed);
                    self.paused.send_if_modified(|paused| {
                        let next = self.next_state(*paused, longest);
                        if next != *paused {
                            if next {
                                tracing::warn!(
                                    longest,
                                    high_water = self.high_water,
                                    "Backlog above the high-water mark: leaving events in SQS."
                                );
                            } else {
                                tracing::info!(
                                    longest,
                                    low_water = self.low_water,
                                    "Backlog below the low-water mark: receiving again."
                                );
                            }
                            *paused = next;
                            metrics::gauge!(telemetry::BRIDGE_PAUSED).set(if next {
                                1.0
                            } else {
                                0.0
                            });
                            true
                        } else {
                            false
                        }
                    });
                }
                Err(error) => {
                    tracing::debug!(%error, "Cannot read the backlog; keeping the current state.")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(CHECK_INTERVAL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_between_the_marks() {
        let pressure = Backpressure::new(100, 40);
        assert!(!pressure.next_state(false, 99));
        assert!(pressure.next_state(false, 100));
        assert!(pressure.next_state(true, 41));
        assert!(!pressure.next_state(true, 40));
    }
}
