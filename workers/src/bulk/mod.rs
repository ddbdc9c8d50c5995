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
//!
//! A Bulk upsert job holds rows keyed by one external id; it cannot update "every record a
//! query finds" (a renamed product's plans), update by record id, or delete what a list no
//! longer has (a price's removed tiers). Events that need any of these
//! ([`needs_collections`]) go through the Collections writer even in a large batch, after
//! the jobs (so a product rename finds the plans a job of the same batch created). Such
//! events are rare (catalogue changes), so the cost is a few calls per batch.

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
    mapping::{MappedEvent, RecordTarget},
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
                runtime.recover_from(&error).await;
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
        return runtime.settle(prepared, Vec::new(), shutdown).await;
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
    let mut fresh_results: HashMap<usize, WriteResult> = HashMap::new();
    let (by_collections, by_jobs): (Vec<usize>, Vec<usize>) =
        if fresh.len() <= config.collections_threshold {
            (fresh, Vec::new())
        } else {
            fresh
                .into_iter()
                .partition(|&i| needs_collections(&prepared.work[i].1))
        };
    if !by_jobs.is_empty() {
        let events: Vec<_> = by_jobs
            .iter()
            .map(|&i| {
                (
                    prepared.work[i].0.entry.event_id.as_str(),
                    &prepared.work[i].1,
                )
            })
            .collect();
        let results = bulk.apply(&events, shutdown).await;
        fresh_results.extend(by_jobs.iter().copied().zip(results));
    }
    if !by_collections.is_empty() {
        let events: Vec<_> = by_collections
            .iter()
            .map(|&i| &prepared.work[i].1)
            .collect();
        let results = runtime.writer().apply(&events, shutdown).await;
        fresh_results.extend(by_collections.iter().copied().zip(results));
    }
    let results: Vec<WriteResult> = (0..prepared.work.len())
        .map(|i| {
            resumed
                .remove(&prepared.work[i].0.entry.event_id)
                .or_else(|| fresh_results.remove(&i))
                .unwrap_or(WriteResult::NotAttempted)
        })
        .collect();
    runtime.settle(prepared, results, shutdown).await
}

/// Whether `event` needs the Collections writer: a Bulk upsert job can only upsert by
/// external id, so a write by record id or by query, or a deletion, cannot be a job's row.
pub fn needs_collections(event: &MappedEvent) -> bool {
    !event.deletions.is_empty()
        || event
            .writes
            .iter()
            .any(|write| !matches!(write.target, RecordTarget::ExternalId { .. }))
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::mapping::{Deletion, RecordWrite, WriteRole};

    fn write(target: RecordTarget) -> RecordWrite {
        RecordWrite {
            sobject: "Pricing_Plan__c".into(),
            target,
            fields: Map::new(),
            role: WriteRole::Main,
            aspect: None,
            on_dead_letter: Vec::new(),
            pending_lookups: Vec::new(),
        }
    }

    #[test]
    fn only_upserts_by_external_id_can_be_job_rows() {
        let upsert = write(RecordTarget::ExternalId {
            field: "Stripe_Price_ID__c".into(),
            value: "price_1".into(),
        });
        let every = write(RecordTarget::QueryAll {
            field: "Stripe_Product_ID__c".into(),
            value: "prod_1".into(),
        });
        let plain = MappedEvent {
            writes: vec![upsert.clone()],
            deletions: Vec::new(),
        };
        assert!(!needs_collections(&plain));
        let rename = MappedEvent {
            writes: vec![every],
            deletions: Vec::new(),
        };
        assert!(needs_collections(&rename));
        let pruning = MappedEvent {
            writes: vec![upsert],
            deletions: vec![Deletion {
                sobject: "Pricing_Tier__c".into(),
                scope_field: "Pricing_Plan__r.Stripe_Price_ID__c".into(),
                scope_value: "price_1".into(),
                key_field: "Stripe_Tier_Key__c".into(),
                keep: Vec::new(),
            }],
        };
        assert!(needs_collections(&pruning));
    }
}
