//! `workers bulk`: the low-priority stream, consumer group `bulk`, batched for cheapness.
//!
//! A replica accumulates entries until `BULK_BATCH_MAX` (10,000) or `BULK_BATCH_AGE_MS`
//! (5 s after the first), runs the shared pipeline (claim, last-write-wins, coalesce to the
//! newest event per object, map), then picks the cheapest path: up to
//! `BULK_COLLECTIONS_THRESHOLD` events go through sObject Collections (one call per 200
//! records); more become Bulk API 2.0 ingest jobs (about eight calls per job whatever its
//! size). Results are mapped back to events: applied, retry, or dead letter. Jobs are
//! recorded in Redis so that a replica taking over a dead replica's entries resumes polling
//! its job rather than uploading again ([`jobs`]).

pub mod jobs;

use std::{collections::HashMap, time::Duration};

use clap::Args;
use common::config::{count, millis, positive_count, positive_secs};
use salesforce_client::bulk::PollSchedule;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    backoff::{outage_backoff, pause},
    config::FleetConfig,
    consumer::{Batch, BatchPolicy, BatchSource, ConsumerConfig, ConsumerRuntime, WriteResult},
    store::Priority,
    telemetry,
};
pub use jobs::BulkWriter;

/// Settings of `workers bulk`.
#[derive(Debug, Clone, Args)]
pub struct BulkConfig {
    /// Most entries per batch.
    #[arg(
        long = "bulk-batch-max",
        env = "BULK_BATCH_MAX",
        default_value = "10000",
        value_parser = positive_count
    )]
    pub max_batch: usize,
    /// Milliseconds a batch may wait to fill after its first entry.
    #[arg(
        long = "bulk-batch-age-ms",
        env = "BULK_BATCH_AGE_MS",
        default_value = "5000",
        value_parser = millis
    )]
    pub max_age: Duration,
    /// Batches of up to this many events use sObject Collections; larger ones Bulk API 2.0
    /// (Salesforce's guidance: Bulk above about 2,000 records).
    #[arg(
        long = "bulk-collections-threshold",
        env = "BULK_COLLECTIONS_THRESHOLD",
        default_value = "2000",
        value_parser = count
    )]
    pub collections_threshold: usize,
    /// Milliseconds before the first poll of a closed job.
    #[arg(
        long = "bulk-poll-first-ms",
        env = "BULK_POLL_FIRST_MS",
        default_value = "500",
        value_parser = millis
    )]
    pub poll_first: Duration,
    /// Longest milliseconds between two polls of a job (the wait grows by half up to this).
    #[arg(
        long = "bulk-poll-max-ms",
        env = "BULK_POLL_MAX_MS",
        default_value = "10000",
        value_parser = millis
    )]
    pub poll_max: Duration,
    /// Seconds after which a job still not done counts as failed (retryable).
    #[arg(
        long = "bulk-job-deadline-secs",
        env = "BULK_JOB_DEADLINE_SECS",
        default_value = "3600",
        value_parser = positive_secs
    )]
    pub job_deadline: Duration,
}

impl BulkConfig {
    /// How jobs are polled.
    pub fn poll(&self) -> PollSchedule {
        PollSchedule {
            first: self.poll_first,
            max: self.poll_max,
            deadline: self.job_deadline,
        }
    }
}

/// Runs one bulk replica until `shutdown`; the current batch is finished first.
pub async fn run(
    fleet: FleetConfig,
    consumer: ConsumerConfig,
    config: BulkConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let runtime = ConsumerRuntime::build(&fleet, &consumer, Priority::Low, &shutdown).await?;
    if !runtime.wait_for_groups(&shutdown).await {
        return Ok(());
    }
    let bulk = runtime.bulk_writer(config.poll());
    let tasks = TaskTracker::new();
    runtime.spawn_retry_mover(&tasks, shutdown.clone());
    let mut source = BatchSource::new(
        BatchPolicy {
            size: config.max_batch,
            block: Duration::from_secs(1),
            linger: config.max_age,
            reclaim_idle: consumer.reclaim_idle,
        },
        "low",
    );
    tracing::info!(consumer = %fleet.worker_id, "Bulk consumer started.");
    let mut delays = outage_backoff();
    while !shutdown.is_cancelled() {
        let batch = tokio::select! {
            _ = shutdown.cancelled() => break,
            batch = source.next(&runtime) => batch,
        };
        let result = match batch {
            Ok(batch) if batch.is_empty() => Ok(()),
            Ok(batch) => process(&runtime, &bulk, &config, batch, &shutdown).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => delays = outage_backoff(),
            Err(error) => {
                tracing::warn!(%error, "Redis error in the bulk loop; retrying.");
                if !pause(delays.next(), &shutdown).await {
                    break;
                }
            }
        }
    }
    tasks.close();
    tasks.wait().await;
    tracing::info!("Bulk consumer stopped.");
    Ok(())
}

async fn process(
    runtime: &ConsumerRuntime,
    bulk: &BulkWriter,
    config: &BulkConfig,
    batch: Batch,
    shutdown: &CancellationToken,
) -> redis::RedisResult<()> {
    metrics::histogram!(telemetry::BATCH_SIZE, "stream" => "low").record(batch.len() as f64);
    let prepared = runtime.pipeline().prepare(batch).await?;
    if prepared.work.is_empty() {
        return runtime.pipeline().settle(prepared, Vec::new()).await;
    }
    // Events a stopped replica already put into a Bulk job: resume that job.
    let event_ids: Vec<&str> = prepared
        .work
        .iter()
        .map(|(held, _)| held.entry.event_id.as_str())
        .collect();
    let jobs = bulk.started_jobs(&event_ids).await?;
    let mut resumed: HashMap<String, WriteResult> = HashMap::new();
    for job_id in jobs.values().collect::<std::collections::HashSet<_>>() {
        if let Some(results) = bulk.resume(job_id, shutdown).await {
            resumed.extend(results);
        }
    }
    let fresh: Vec<usize> = (0..prepared.work.len())
        .filter(|&i| !resumed.contains_key(&prepared.work[i].0.entry.event_id))
        .collect();
    let fresh_results: Vec<WriteResult> = if fresh.is_empty() {
        Vec::new()
    } else if fresh.len() <= config.collections_threshold {
        let events: Vec<_> = fresh.iter().map(|&i| &prepared.work[i].1).collect();
        runtime.writer().apply(&events, shutdown).await
    } else {
        let events: Vec<_> = fresh
            .iter()
            .map(|&i| {
                (
                    prepared.work[i].0.entry.event_id.as_str(),
                    &prepared.work[i].1,
                )
            })
            .collect();
        bulk.apply(&events, shutdown).await
    };
    let mut fresh_results = fresh.iter().zip(fresh_results).collect::<HashMap<_, _>>();
    let results: Vec<WriteResult> = (0..prepared.work.len())
        .map(|i| {
            resumed
                .remove(&prepared.work[i].0.entry.event_id)
                .or_else(|| fresh_results.remove(&i))
                .unwrap_or(WriteResult::NotAttempted)
        })
        .collect();
    runtime.pipeline().settle(prepared, results).await
}
