//! How a consumer assembles its next batch: entries stopped replicas left pending (taken
//! over with XAUTOCLAIM), then its own pending ones, then new entries, waiting a little
//! after the first new one so that a burst fills one batch (fewer Salesforce calls).
//!
//! With a [`BatchPacer`] (the realtime replicas), new entries are read only in this
//! replica's turn: first those already waiting, which go at once; when there are none, the
//! turn holder waits for the first one (and the linger) as above.

use std::time::{Duration, Instant};

use super::{Batch, ConsumerRuntime};
use crate::{store::BatchPacer, telemetry};

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
    pacer: Option<BatchPacer>,
}

impl BatchSource {
    /// A source for `stream` (a metrics label) with `policy`.
    pub fn new(policy: BatchPolicy, stream: &'static str) -> Self {
        Self {
            policy,
            stream,
            last_own_pending: Instant::now(),
            last_reclaim: Instant::now(),
            pacer: None,
        }
    }

    /// The same source, reading new entries only in this replica's turns of `pacer`.
    pub fn paced_by(self, pacer: BatchPacer) -> Self {
        Self {
            pacer: Some(pacer),
            ..self
        }
    }

    /// Gives up this replica's turn, if it holds it (on shutdown).
    pub async fn stop(&self) {
        if let Some(pacer) = &self.pacer {
            if let Err(error) = pacer.release().await {
                tracing::debug!(%error, "Could not give up the batch turn; it expires.");
            }
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
        let Some(pacer) = &self.pacer else {
            return self.read_lingering(runtime).await;
        };
        pacer.take_turn().await?;
        let waiting = runtime.reader().read_waiting(policy.size).await?;
        // Entries left behind: a stream had more than its share of the read (only a read of
        // what was waiting says so; the linger's small reads fill their shares by design).
        let (batch, more_waiting) = if waiting.is_empty() {
            let batch = self.read_lingering(runtime).await?;
            let full = batch.len() >= policy.size;
            (batch, full)
        } else {
            let more = waiting.more_waiting || waiting.len() >= policy.size;
            (waiting, more)
        };
        if !batch.is_empty() {
            pacer.end_turn(more_waiting).await?;
        }
        Ok(batch)
    }

    /// New entries: waits up to the block time for the first, then lingers for more.
    async fn read_lingering(&self, runtime: &ConsumerRuntime) -> redis::RedisResult<Batch> {
        let policy = self.policy;
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
            batch.append(more);
        }
        Ok(batch)
    }
}
