//! `workers realtime`: the high-priority stream, consumer group `realtime`, written to
//! Salesforce through sObject Collections within a fraction of a second.
//!
//! The replicas take turns at reading a batch, so that together they start one at most
//! every `REALTIME_BATCH_INTERVAL_MS` (one Salesforce call each) however many they are
//! ([`crate::store::BatchPacer`]). In its turn a replica reads what is waiting in every
//! partition, or waits for the first entry and lingers a little to let a burst fill the
//! batch; it also takes over entries a dead replica left pending, and runs the shared pipeline:
//! claim, coalesce, map, write, settle — with up to `REALTIME_CONCURRENCY` batches in
//! flight, so the next batch does not wait for the previous one's Salesforce calls.
//! SIGTERM finishes the batches in flight, then exits.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use clap::Args;
use common::config::{millis, positive_count};
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
#[derive(Debug, Clone, Args)]
pub struct RealtimeConfig {
    /// Entries per read.
    #[arg(
        long = "realtime-batch-size",
        env = "REALTIME_BATCH_SIZE",
        default_value = "200",
        value_parser = positive_count
    )]
    pub batch_size: usize,
    /// Milliseconds a read waits for the first entry (below 4000: the Redis response
    /// timeout is 5 s).
    #[arg(
        long = "realtime-block-ms",
        env = "REALTIME_BLOCK_MS",
        default_value = "1000",
        value_parser = block_millis
    )]
    pub block: Duration,
    /// Milliseconds to wait for more entries after the first.
    #[arg(
        long = "realtime-linger-ms",
        env = "REALTIME_LINGER_MS",
        default_value = "25",
        value_parser = millis
    )]
    pub linger: Duration,
    /// Milliseconds between the starts of two realtime batches, all replicas together,
    /// unless entries pile up (0: each replica reads whenever it is free). Each batch is one
    /// Salesforce call, so this caps the realtime path's calls per second; an event waits
    /// at most this long for its batch.
    #[arg(
        long = "realtime-batch-interval-ms",
        env = "REALTIME_BATCH_INTERVAL_MS",
        default_value = "70",
        value_parser = millis
    )]
    pub batch_interval: Duration,
    /// Batches one replica has in flight at once. More lowers latency under load but makes
    /// batches smaller, so it costs API calls.
    #[arg(
        long = "realtime-concurrency",
        env = "REALTIME_CONCURRENCY",
        default_value = "1",
        value_parser = positive_count
    )]
    pub concurrency: usize,
}

/// `REALTIME_BLOCK_MS`: below the Redis response timeout.
fn block_millis(text: &str) -> Result<Duration, String> {
    let block = millis(text)?;
    if block >= Duration::from_secs(4) {
        return Err("must be below 4000 (the Redis response timeout is 5 s)".into());
    }
    Ok(block)
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
    if !config.batch_interval.is_zero() {
        // A turn covers a blocking read and its linger, with a second to spare.
        let hold = config.block + config.linger + Duration::from_secs(1);
        source = source.paced_by(runtime.batch_pacer(
            Priority::High.group(),
            &fleet.worker_id,
            config.batch_interval,
            hold,
        ));
    }
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
                runtime.recover_from(&error).await;
                if !pause(delays.next(), &shutdown).await {
                    break;
                }
            }
        }
    }
    source.stop().await;
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
    runtime.settle(prepared, results, shutdown).await
}
