//! `workers bridge`: moves verified events from SQS into the Redis priority streams, once.
//!
//! Each receive loop long-polls SQS for up to 10 messages, decides per message where it
//! goes ([`intake`], [`routing`]), writes it with the idempotent enqueue script, and only
//! then deletes the messages from SQS. A Redis failure is retried with backoff while the
//! messages stay in SQS (invisible until their visibility timeout, then redelivered and
//! deduplicated); nothing is deleted that is not in Redis.
//!
//! Backpressure: a watcher reads the stream lengths; above the high-water mark all loops
//! stop receiving, leaving events in SQS (the cheap, durable buffer) until the backlog is
//! below the low-water mark.
//!
//! Observer: each replica also exports the fleet's shared state (queue depths, pending
//! entries, live consumers, dead letters, Salesforce daily usage) as gauges ([`observer`]).

mod backpressure;
pub mod intake;
pub mod observer;
pub mod routing;

use std::{sync::Arc, time::Duration};

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use common::sqs::SqsClientSettings;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    backoff::{outage_backoff, pause},
    config::{BridgeConfig, FleetConfig},
    ops::Ops,
    store::{self, EnqueueOutcome, EventStore, RedisUsageStore},
    telemetry,
};
use backpressure::Backpressure;
use intake::Intake;
use routing::RoutingRules;

/// Everything the receive loops share.
struct Bridge {
    config: BridgeConfig,
    routing: RoutingRules,
    sqs: aws_sdk_sqs::Client,
    store: EventStore,
    backpressure: Backpressure,
}

/// Runs the bridge until `shutdown`; the current batches are finished first.
pub async fn run(
    fleet: FleetConfig,
    config: BridgeConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let sqs = common::sqs::client_from_env(SqsClientSettings {
        operation_timeout: config.wait_time + Duration::from_secs(10),
        attempt_timeout: config.wait_time + Duration::from_secs(5),
        max_attempts: 3,
    })
    .await;
    let keys = fleet.keys();
    let store = EventStore::new(
        store::connect(&fleet.redis_url)?,
        keys.clone(),
        fleet.dedupe_window,
        fleet.lifecycle_retention,
    )
    .require_replicas(config.wait_replicas, config.wait_timeout);
    if !prepare_redis(&store, &shutdown).await {
        return Ok(());
    }
    let backpressure = Backpressure::new(config.backlog_high_water, config.low_water());
    let tracker = TaskTracker::new();
    tracker.spawn(
        backpressure
            .clone()
            .watch(store.connection(), keys.clone(), shutdown.clone()),
    );
    tracker.spawn(observer::observe(
        sqs.clone(),
        config.queue_url.clone(),
        Ops::new(store.connection(), keys.clone(), fleet.lifecycle_retention),
        RedisUsageStore::new(store.connection(), &keys),
        shutdown.clone(),
    ));
    telemetry::register_bridge();
    let bridge = Arc::new(Bridge {
        routing: config.routing(),
        config,
        sqs,
        store,
        backpressure,
    });
    tracing::info!(
        queue = %bridge.config.queue_url,
        loops = bridge.config.concurrency,
        "Bridge started."
    );
    for _ in 0..bridge.config.concurrency {
        tracker.spawn(bridge.clone().receive_loop(shutdown.clone()));
    }
    tracker.close();
    tracker.wait().await;
    tracing::info!("Bridge stopped.");
    Ok(())
}

/// Creates the streams and groups and loads the scripts, retrying until Redis answers.
/// Returns false if shut down first.
async fn prepare_redis(store: &EventStore, shutdown: &CancellationToken) -> bool {
    let mut delays = outage_backoff();
    loop {
        let mut conn = store.connection();
        let result = async {
            store::ensure_consumer_groups(&mut conn, store.keys()).await?;
            store.load_scripts().await
        }
        .await;
        match result {
            Ok(()) => return true,
            Err(error) => {
                metrics::counter!(telemetry::BRIDGE_REDIS_ERRORS).increment(1);
                tracing::warn!(%error, "Redis not ready; retrying.");
            }
        }
        if !pause(delays.next(), shutdown).await {
            return false;
        }
    }
}

impl Bridge {
    async fn receive_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let mut sqs_delays = outage_backoff();
        loop {
            if !self.backpressure.wait_until_open(&shutdown).await {
                return;
            }
            let received = tokio::select! {
                _ = shutdown.cancelled() => return,
                received = self.receive() => received,
            };
            let messages = match received {
                Ok(messages) => {
                    sqs_delays = outage_backoff();
                    messages
                }
                Err(error) => {
                    metrics::counter!(telemetry::BRIDGE_SQS_ERRORS, "call" => "receive")
                        .increment(1);
                    tracing::warn!(%error, "ReceiveMessage failed; retrying.");
                    if !pause(sqs_delays.next(), &shutdown).await {
                        return;
                    }
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            metrics::counter!(telemetry::BRIDGE_RECEIVED).increment(messages.len() as u64);
            let stored = self.store_all(&messages, &shutdown).await;
            self.backpressure.note_added(stored.len() as u64);
            self.delete(stored).await;
        }
    }

    async fn receive(&self) -> Result<Vec<Message>, String> {
        // The emulator reads the older `AttributeNames`; real SQS reads
        // `MessageSystemAttributeNames`. Asking with both works with either.
        #[expect(
            deprecated,
            reason = "the emulator reads only the older AttributeNames"
        )]
        let request = self
            .sqs
            .receive_message()
            .queue_url(&self.config.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(i32::try_from(self.config.wait_time.as_secs()).unwrap_or(10))
            .set_visibility_timeout(
                self.config
                    .visibility_timeout
                    .and_then(|t| i32::try_from(t.as_secs()).ok()),
            )
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .attribute_names(QueueAttributeName::All);
        request
            .send()
            .await
            .map(|output| output.messages.unwrap_or_default())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }

    /// Writes every message to Redis, retrying Redis failures until they succeed or the
    /// bridge shuts down. Returns the receipt handles of the messages now safe to delete.
    async fn store_all(&self, messages: &[Message], shutdown: &CancellationToken) -> Vec<String> {
        let mut stored = Vec::with_capacity(messages.len());
        for message in messages {
            let Some(receipt) = message.receipt_handle.clone() else {
                continue;
            };
            if self.store_one(message, shutdown).await {
                stored.push(receipt);
            } else {
                break;
            }
        }
        stored
    }

    async fn store_one(&self, message: &Message, shutdown: &CancellationToken) -> bool {
        let body = message.body.as_deref().unwrap_or_default();
        let received_at = message
            .message_attributes
            .as_ref()
            .and_then(|attributes| attributes.get("received_at"))
            .and_then(|value| value.string_value.as_deref())
            .and_then(|value| value.parse().ok());
        let intake = intake::classify(body, received_at, &self.routing);
        let mut delays = outage_backoff();
        loop {
            let result = match &intake {
                Intake::Event { priority, entry } => self.store.enqueue(*priority, entry).await.map(|outcome| {
                    match outcome {
                        EnqueueOutcome::Added(entry_id) => {
                            metrics::counter!(telemetry::BRIDGE_ENQUEUED, "stream" => priority.name()).increment(1);
                            tracing::info!(event_id = %entry.event_id, event_type = %entry.event_type, stream = %priority, %entry_id, "Event enqueued.");
                            // Tests only (`--features failpoints`): with
                            // FAILPOINTS=bridge-after-enqueue=return the process dies here,
                            // between XADD and DeleteMessage, to show redelivery is harmless.
                            #[cfg(feature = "failpoints")]
                            fail::fail_point!("bridge-after-enqueue", |_| {
                                tracing::error!("Failpoint bridge-after-enqueue: aborting before the SQS delete.");
                                std::process::abort()
                            });
                        }
                        EnqueueOutcome::Duplicate(first) => {
                            metrics::counter!(telemetry::BRIDGE_DUPLICATES).increment(1);
                            tracing::info!(event_id = %entry.event_id, first = %first, "Duplicate event; already enqueued.");
                        }
                    }
                }),
                Intake::NotAnEvent { reason } => self
                    .store
                    .dead_letter(&[
                        ("source", "bridge".to_owned()),
                        ("reason", "not_a_stripe_event".to_owned()),
                        ("error", reason.clone()),
                        ("sqs_message_id", message.message_id.clone().unwrap_or_default()),
                        ("payload", body.to_owned()),
                    ])
                    .await
                    .map(|dead_id| {
                        metrics::counter!(telemetry::BRIDGE_DEAD_LETTERED).increment(1);
                        metrics::counter!(telemetry::DEAD_LETTERS, "source" => "bridge").increment(1);
                        tracing::warn!(sqs_message_id = ?message.message_id, %reason, %dead_id, "Message is not a Stripe event; dead-lettered.");
                    }),
            };
            match result {
                Ok(()) => return true,
                Err(error) => {
                    metrics::counter!(telemetry::BRIDGE_REDIS_ERRORS).increment(1);
                    tracing::warn!(%error, "Redis write failed; the message stays in SQS and is retried.");
                }
            }
            if !pause(delays.next(), shutdown).await {
                return false;
            }
        }
    }

    /// Deletes stored messages in batches of 10. A failed delete only means SQS delivers
    /// the message again, which the dedupe turns into a no-op.
    async fn delete(&self, receipts: Vec<String>) {
        for chunk in receipts.chunks(10) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(index, receipt)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .ok()
                })
                .collect();
            let result = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.config.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match result {
                Ok(output) if output.failed.is_empty() => {}
                Ok(output) => {
                    metrics::counter!(telemetry::BRIDGE_SQS_ERRORS, "call" => "delete")
                        .increment(output.failed.len() as u64);
                    tracing::warn!(failed = output.failed.len(), "Some SQS deletes failed; those messages will be redelivered and deduplicated.");
                }
                Err(error) => {
                    metrics::counter!(telemetry::BRIDGE_SQS_ERRORS, "call" => "delete")
                        .increment(chunk.len() as u64);
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "DeleteMessageBatch failed; the messages will be redelivered and deduplicated.");
                }
            }
        }
    }
}
