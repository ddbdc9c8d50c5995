//! How a consumer assembles its next batch: entries stopped replicas left pending (taken
//! over with XAUTOCLAIM), then its own pending ones, then new entries, waiting a little
//! after the first new one so that a burst fills one batch (fewer Salesforce calls).

use std::time::{Duration, Instant};

use super::{Batch, ConsumerRuntime};
use crate::telemetry;

/// How often a replica re-reads entries it left pending.
const OWN_PENDING_INTERVAL: Duration = Duration::from_secs(1);
/// How often a replica looks for entries stopped replicas left pending.
const RECLAIM_INTERVAL: Duration = Duration::from_secs(5);

/// Size and timing of batches.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Most entries per batch.
    pub size: usize,
    /// How long a read waits for the first entry.
    pub block: Duration,
    /// After the first entry, how long to keep reading to fill the batch.
    pub linger: Duration,
    /// Entries pending this long in another consumer are taken over.
    pub reclaim_idle: Duration,
}

/// Remembers when the slower sources were last looked at.
pub struct BatchSource {
    policy: BatchPolicy,
    stream: &'static str,
    last_own_pending: Instant,
    last_reclaim: Instant,
}

impl BatchSource {
    /// A source for `stream` (a metrics label) with `policy`.
    pub fn new(policy: BatchPolicy, stream: &'static str) -> Self {
        Self {
            policy,
            stream,
            last_own_pending: Instant::now(),
            last_reclaim: Instant::now(),
        }
    }

    /// The next batch (possibly empty after `block`).
    pub async fn next(&mut self, runtime: &ConsumerRuntime) -> redis::RedisResult<Batch> {
        let policy = self.policy;
        if self.last_reclaim.elapsed() >= RECLAIM_INTERVAL {
            self.last_reclaim = Instant::now();
            let reclaimed = runtime
                .reader()
                .reclaim(policy.reclaim_idle, policy.size)
                .await?;
            if !reclaimed.is_empty() {
                metrics::counter!(telemetry::RECLAIMED, "stream" => self.stream)
                    .increment(reclaimed.len() as u64);
                tracing::info!(
                    entries = reclaimed.len(),
                    "Took over entries a stopped replica left pending."
                );
                return Ok(reclaimed);
            }
        }
        if self.last_own_pending.elapsed() >= OWN_PENDING_INTERVAL {
            self.last_own_pending = Instant::now();
            let own = runtime.reader().read_own_pending(policy.size).await?;
            if !own.is_empty() {
                return Ok(own);
            }
        }
        let mut batch = runtime.reader().read_new(policy.size, policy.block).await?;
        if batch.is_empty() || policy.linger.is_zero() {
            return Ok(batch);
        }
        let deadline = Instant::now() + policy.linger;
        while batch.len() < policy.size {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // Wait at most a second per read so a long linger still notices a full batch.
            let wait = left
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(1));
            let more = runtime
                .reader()
                .read_new(policy.size - batch.len(), wait)
                .await?;
            batch.entries.extend(more.entries);
            batch.malformed.extend(more.malformed);
        }
        Ok(batch)
    }
}
