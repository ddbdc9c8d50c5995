//! `workers realtime`: the high-priority stream, consumer group `realtime`, written to
//! Salesforce through sObject Collections within a fraction of a second.
//!
//! Each replica reads a batch (blocking read, then a short linger to let a burst fill the
//! batch), takes over entries a dead replica left pending, and runs the shared pipeline:
//! claim, coalesce, map, write, settle. SIGTERM finishes the current batch, then exits.

use std::time::Duration;

use common::config::{ConfigError, Env};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::FleetConfig,
    consumer::{Batch, BatchPolicy, BatchSource, ConsumerConfig, ConsumerRuntime},
    store::{self, Priority},
    telemetry,
};

/// Settings of `workers realtime`.
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// `REALTIME_BATCH_SIZE` (default 200): entries per read.
    pub batch_size: usize,
    /// `REALTIME_BLOCK_MS` (default 1000): how long a read waits for the first entry.
    pub block: Duration,
    /// `REALTIME_LINGER_MS` (default 25): after the first entry, how long to wait for more.
    pub linger: Duration,
}

impl RealtimeConfig {
    /// Reads the realtime settings.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let block = env.millis("REALTIME_BLOCK_MS", 1000)?;
        if block >= Duration::from_secs(4) {
            return Err(ConfigError::new(
                "REALTIME_BLOCK_MS",
                "must be below 4000 (the Redis response timeout is 5 s)",
            ));
        }
        Ok(Self {
            batch_size: env.positive_usize("REALTIME_BATCH_SIZE", 200)?,
            block,
            linger: env.millis("REALTIME_LINGER_MS", 25)?,
        })
    }
}

/// Runs one realtime replica until `shutdown`.
pub async fn run(
    fleet: FleetConfig,
    consumer: ConsumerConfig,
    config: RealtimeConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let runtime = ConsumerRuntime::build(&fleet, &consumer, Priority::High).await?;
    let mut conn = runtime.conn.clone();
    while let Err(error) = store::ensure_consumer_groups(&mut conn, &runtime.keys).await {
        tracing::warn!(%error, "Redis not ready; retrying.");
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
    let tasks = TaskTracker::new();
    tasks.spawn(ConsumerRuntime::move_due_retries(
        runtime.ledger.clone(),
        shutdown.clone(),
    ));
    tracing::info!(consumer = %fleet.worker_id, "Realtime consumer started.");

    let mut source = BatchSource::new(
        BatchPolicy {
            size: config.batch_size,
            block: config.block,
            linger: config.linger,
            reclaim_idle: consumer.reclaim_idle,
        },
        "high",
    );
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let batch = tokio::select! {
            _ = shutdown.cancelled() => break,
            batch = source.next(&runtime) => batch,
        };
        let result = match batch {
            Ok(batch) if batch.is_empty() => Ok(()),
            Ok(batch) => process(&runtime, batch, &shutdown).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => failures = 0,
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%error, "Redis error in the realtime loop; retrying.");
                let pause = Duration::from_millis(100u64 << failures.min(6));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    tasks.close();
    tasks.wait().await;
    tracing::info!("Realtime consumer stopped.");
    Ok(())
}

/// Claim, coalesce, map, write, settle.
async fn process(
    runtime: &ConsumerRuntime,
    batch: Batch,
    shutdown: &CancellationToken,
) -> redis::RedisResult<()> {
    metrics::histogram!(telemetry::BATCH_SIZE, "stream" => "high").record(batch.len() as f64);
    let prepared = runtime.pipeline.prepare(batch).await?;
    let events: Vec<_> = prepared.work.iter().map(|(_, mapped)| mapped).collect();
    let results = runtime.writer.apply(&events, shutdown).await;
    runtime.pipeline.settle(prepared, results).await
}
