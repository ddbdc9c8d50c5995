//! `workers realtime`: the high-priority stream, consumer group `realtime`, written to
//! Salesforce through sObject Collections within a fraction of a second.
//!
//! Each replica reads a batch (blocking read, then a short linger to let a burst fill the
//! batch), takes over entries a dead replica left pending, and runs the shared pipeline:
//! claim, coalesce, map, write, settle — with up to `REALTIME_CONCURRENCY` batches in
//! flight, so the next batch does not wait for the previous one's Salesforce calls.
//! SIGTERM finishes the batches in flight, then exits.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::config::{ConfigError, Env};
use tokio::sync::Semaphore;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    backoff::{outage_backoff, pause},
    config::FleetConfig,
    consumer::{Batch, BatchPolicy, BatchSource, ConsumerConfig, ConsumerRuntime},
    store::Priority,
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
    /// `REALTIME_CONCURRENCY` (default 1): batches one replica has in flight at once. More
    /// lowers latency under load but makes batches smaller, so it costs API calls.
    pub concurrency: usize,
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
            concurrency: env.positive_usize("REALTIME_CONCURRENCY", 1)?,
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
    let runtime = ConsumerRuntime::build(&fleet, &consumer, Priority::High, &shutdown).await?;
    if !runtime.wait_for_groups(&shutdown).await {
        return Ok(());
    }
    let tasks = TaskTracker::new();
    runtime.spawn_retry_mover(&tasks, shutdown.clone());
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
    // Up to `concurrency` batches in flight: while one waits on Salesforce the next is read
    // and sent. Claims are per Stripe object, so concurrent batches never race one record.
    let runtime = Arc::new(runtime);
    let slots = Arc::new(Semaphore::new(config.concurrency));
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut delays = outage_backoff();
    while !shutdown.is_cancelled() {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let batch = tokio::select! {
            _ = shutdown.cancelled() => break,
            batch = source.next(&runtime) => batch,
        };
        match batch {
            Ok(mut batch) => {
                delays = outage_backoff();
                // Own pending entries include those another task of this replica holds now.
                {
                    let mut held = in_flight
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    batch.entries.retain(|e| !held.contains(&e.entry_id));
                    held.extend(batch.entries.iter().map(|e| e.entry_id.clone()));
                }
                if batch.is_empty() {
                    continue;
                }
                let ids: Vec<String> = batch.entries.iter().map(|e| e.entry_id.clone()).collect();
                let (runtime, shutdown, in_flight) =
                    (runtime.clone(), shutdown.clone(), in_flight.clone());
                tasks.spawn(async move {
                    if let Err(error) = process(&runtime, batch, &shutdown).await {
                        tracing::warn!(%error, "Redis error while settling a batch; its entries stay pending and are retried.");
                    }
                    let mut held = in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    for id in &ids {
                        held.remove(id);
                    }
                    drop(slot);
                });
            }
            Err(error) => {
                drop(slot);
                tracing::warn!(%error, "Redis error in the realtime loop; retrying.");
                if !pause(delays.next(), &shutdown).await {
                    break;
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
    let prepared = runtime.pipeline().prepare(batch).await?;
    let events: Vec<_> = prepared.work.iter().map(|(_, mapped)| mapped).collect();
    let results = runtime.writer().apply(&events, shutdown).await;
    runtime.pipeline().settle(prepared, results).await
}
