//! Hands verified events to SQS, coalescing concurrent requests into `SendMessageBatch` calls.
//!
//! Each webhook request submits one [`OutboundEvent`] and waits for the outcome of *its own*
//! batch entry. A single batching task collects entries for at most the configured linger
//! time, up to 10 entries and 1 MiB of payload (SQS's limits per batch), then sends the batch
//! on its own task so the next batch can fill meanwhile. The number of batches in flight is
//! bounded; so is the wait for SQS. Whatever does not come back as "successful" from SQS,
//! whether a failed entry, an error of the whole call or a timeout, is reported as failed, so
//! the request is answered 503 and Stripe retries: nothing is ever acknowledged that SQS does
//! not hold.

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use common::stripe::EventEnvelope;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::task::TaskTracker;

use crate::telemetry;

/// SQS allows at most 10 entries per batch.
const MAX_BATCH_ENTRIES: usize = 10;
/// SQS allows at most 1 MiB for all entries of a batch together (bodies and attributes).
const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// One verified event on its way to SQS.
#[derive(Debug)]
pub struct OutboundEvent {
    /// The identifying fields, sent as message attributes.
    pub envelope: EventEnvelope,
    /// The raw body exactly as Stripe signed it.
    pub body: String,
    /// Unix milliseconds at which the ingress received the request.
    pub received_at_ms: i64,
}

impl OutboundEvent {
    /// Bytes this entry counts against the batch limit: body plus attribute names and values.
    fn size(&self) -> usize {
        let attributes: usize = self
            .attributes()
            .iter()
            .map(|(name, value)| name.len() + value.string_value().map_or(0, str::len) + 8)
            .sum();
        self.body.len() + attributes
    }

    /// The readable attributes downstream consumers route on without parsing the body.
    fn attributes(&self) -> Vec<(&'static str, MessageAttributeValue)> {
        let text = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let number = |value: i64| {
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value(value.to_string())
                .build()
        };
        [
            ("event_id", text(&self.envelope.id)),
            ("event_type", text(&self.envelope.event_type)),
            ("object_id", text(&self.envelope.object_id)),
            ("created", number(self.envelope.created)),
            ("received_at", number(self.received_at_ms)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.ok().map(|v| (name, v)))
        .collect()
    }
}

/// Why an event could not be handed to SQS. Every variant means "not durable, answer 503".
#[derive(Debug, Clone, thiserror::Error)]
pub enum PublishError {
    /// SQS refused this entry of the batch.
    #[error("SQS refused the message: {code}")]
    EntryFailed {
        /// SQS's error code for the entry (e.g. `InternalError`).
        code: String,
    },
    /// The whole SendMessageBatch call failed (connection, auth, throttling, ...).
    #[error("SendMessageBatch failed: {0}")]
    CallFailed(String),
    /// SQS did not answer within the send timeout.
    #[error("SQS did not answer within {0:?}")]
    TimedOut(Duration),
    /// The publisher is shutting down and takes no more events.
    #[error("the publisher is shutting down")]
    Closed,
}

impl PublishError {
    /// Metric label for this failure.
    pub fn kind(&self) -> &'static str {
        match self {
            PublishError::EntryFailed { .. } => "entry_failed",
            PublishError::CallFailed(_) => "call_failed",
            PublishError::TimedOut(_) => "timeout",
            PublishError::Closed => "closed",
        }
    }
}

/// Where and how the publisher sends.
#[derive(Debug, Clone)]
pub struct PublisherSettings {
    /// Target queue.
    pub queue_url: String,
    /// Wait this long for more entries before sending a batch that is not full.
    pub linger: Duration,
    /// Batches in flight at once.
    pub max_concurrent_batches: usize,
    /// Give up on a batch after this long.
    pub send_timeout: Duration,
}

struct Submission {
    event: OutboundEvent,
    reply: oneshot::Sender<Result<String, PublishError>>,
}

/// Cheap handle that request handlers use to publish events.
#[derive(Clone)]
pub struct QueuePublisher {
    submissions: mpsc::Sender<Submission>,
}

/// The running batching task; await [`PublisherTask::finished`] after the last handle is
/// dropped to be sure every accepted submission got its answer.
pub struct PublisherTask {
    handle: tokio::task::JoinHandle<()>,
}

impl PublisherTask {
    /// Waits until the batching task has sent everything it was given.
    pub async fn finished(self) {
        if let Err(error) = self.handle.await {
            tracing::error!(%error, "The SQS batching task ended abnormally.");
        }
    }
}

impl QueuePublisher {
    /// Starts the batching task.
    pub fn spawn(
        client: aws_sdk_sqs::Client,
        settings: PublisherSettings,
        capacity: usize,
    ) -> (Self, PublisherTask) {
        let (submissions, receiver) = mpsc::channel(capacity.max(1));
        let handle = tokio::spawn(run_batcher(client, settings, receiver));
        (Self { submissions }, PublisherTask { handle })
    }

    /// Publishes one event; resolves to the SQS message id once SQS holds it.
    pub async fn publish(&self, event: OutboundEvent) -> Result<String, PublishError> {
        let (reply, outcome) = oneshot::channel();
        self.submissions
            .send(Submission { event, reply })
            .await
            .map_err(|_| PublishError::Closed)?;
        // A dropped reply sender means the batch task died: not durable as far as we know.
        outcome.await.unwrap_or(Err(PublishError::Closed))
    }
}

async fn run_batcher(
    client: aws_sdk_sqs::Client,
    settings: PublisherSettings,
    mut receiver: mpsc::Receiver<Submission>,
) {
    let settings = Arc::new(settings);
    let in_flight = Arc::new(Semaphore::new(settings.max_concurrent_batches));
    let tracker = TaskTracker::new();
    let mut carried: Option<Submission> = None;
    loop {
        let first = match carried.take() {
            Some(submission) => submission,
            None => match receiver.recv().await {
                Some(submission) => submission,
                None => break,
            },
        };
        let mut bytes = first.event.size();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + settings.linger;
        while batch.len() < MAX_BATCH_ENTRIES {
            let next = match receiver.try_recv() {
                Ok(submission) => Some(submission),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    tokio::time::timeout_at(deadline, receiver.recv())
                        .await
                        .ok()
                        .flatten()
                }
            };
            let Some(next) = next else { break };
            let size = next.event.size();
            if bytes + size > MAX_BATCH_BYTES {
                carried = Some(next);
                break;
            }
            bytes += size;
            batch.push(next);
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let client = client.clone();
        let settings = settings.clone();
        tracker.spawn(async move {
            send_batch(&client, &settings, batch).await;
            drop(permit);
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn send_batch(
    client: &aws_sdk_sqs::Client,
    settings: &PublisherSettings,
    batch: Vec<Submission>,
) {
    metrics::histogram!(telemetry::SQS_BATCH_SIZE).record(batch.len() as f64);
    let fifo = common::sqs::is_fifo_queue(&settings.queue_url);
    let entries: Vec<SendMessageBatchRequestEntry> = batch
        .iter()
        .enumerate()
        .filter_map(|(index, submission)| build_entry(index, &submission.event, fifo))
        .collect();
    let outcomes = if entries.len() != batch.len() {
        // Building an entry only fails on a missing required field, which the code above
        // always sets; treat it as a failure of the whole batch rather than dropping one.
        let error = PublishError::CallFailed("could not build the batch entries".into());
        vec![Err(error); batch.len()]
    } else {
        let call = client
            .send_message_batch()
            .queue_url(&settings.queue_url)
            .set_entries(Some(entries))
            .send();
        match tokio::time::timeout(settings.send_timeout, call).await {
            Err(_) => vec![Err(PublishError::TimedOut(settings.send_timeout)); batch.len()],
            Ok(Err(error)) => {
                let message = aws_sdk_sqs::error::DisplayErrorContext(&error).to_string();
                vec![Err(PublishError::CallFailed(message)); batch.len()]
            }
            Ok(Ok(output)) => {
                let mut outcomes: HashMap<String, Result<String, PublishError>> = HashMap::new();
                for success in output.successful {
                    outcomes.insert(success.id, Ok(success.message_id));
                }
                for failure in output.failed {
                    outcomes.insert(
                        failure.id,
                        Err(PublishError::EntryFailed { code: failure.code }),
                    );
                }
                (0..batch.len())
                    .map(|index| {
                        outcomes.remove(&index.to_string()).unwrap_or_else(|| {
                            Err(PublishError::CallFailed(
                                "SQS did not report on this entry".into(),
                            ))
                        })
                    })
                    .collect()
            }
        }
    };
    for (submission, outcome) in batch.into_iter().zip(outcomes) {
        if let Err(error) = &outcome {
            metrics::counter!(telemetry::SQS_ERRORS, "kind" => error.kind()).increment(1);
            tracing::warn!(event_id = %submission.event.envelope.id, %error, "SQS did not accept an event.");
        }
        // The requester may have gone away (client disconnect); the outcome stands anyway.
        if submission.reply.send(outcome).is_err() {
            tracing::debug!(event_id = %submission.event.envelope.id, "Requester left before the SQS outcome.");
        }
    }
}

fn build_entry(
    index: usize,
    event: &OutboundEvent,
    fifo: bool,
) -> Option<SendMessageBatchRequestEntry> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(event.body.clone())
        .set_message_attributes(Some(
            event
                .attributes()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        ));
    if fifo {
        entry = entry
            .message_group_id(&event.envelope.object_id)
            .message_deduplication_id(&event.envelope.id);
    }
    entry.build().ok()
}
