//! One `Subscribe` stream: the first `FetchRequest` names the topic and where to start;
//! every `FetchRequest` adds `num_requested` (at most 100 each) to the events the client
//! may receive, and no more than that are ever sent. With nothing to send, an empty
//! `FetchResponse` carrying `latest_replay_id` goes out every keep-alive interval.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::{Code, Status, Streaming};

use super::bus::{self, BusEvent, StartAt};
use super::proto::{ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, ReplayPreset};
use super::service::{rpc_id, status_with_code, REPLAY_ID_CORRUPTED, TOPIC_NOT_FOUND};
use super::topic::Topic;
use crate::state::AppState;

/// Most events a single `FetchRequest` may ask for.
pub const MAX_NUM_REQUESTED: i32 = 100;

/// Where the stream starts, from the first request.
pub fn start_at(request: &FetchRequest) -> StartAt {
    match ReplayPreset::try_from(request.replay_preset) {
        Ok(ReplayPreset::Earliest) => StartAt::Earliest,
        Ok(ReplayPreset::Custom) => StartAt::After(request.replay_id.clone()),
        _ => StartAt::Latest,
    }
}

/// Events a request adds to the allowance: `num_requested` within 0..=100.
pub fn allowance(request: &FetchRequest) -> usize {
    usize::try_from(request.num_requested.clamp(0, MAX_NUM_REQUESTED)).unwrap_or(0)
}

/// A running subscription.
pub struct Subscription {
    state: AppState,
    tx: mpsc::Sender<Result<FetchResponse, Status>>,
    rpc_id: String,
}

impl Subscription {
    /// A subscription answering on `tx`.
    pub fn new(state: AppState, tx: mpsc::Sender<Result<FetchResponse, Status>>) -> Self {
        Self {
            state,
            tx,
            rpc_id: rpc_id(),
        }
    }

    async fn fail(&self, status: Status) {
        // The client may be gone already; nothing else to do then.
        let _ = self.tx.send(Err(status)).await;
    }

    /// Serves the stream until the client or the simulator ends it.
    pub async fn run(self, mut inbound: Streaming<FetchRequest>) {
        let first = match inbound.message().await {
            Ok(Some(first)) => first,
            _ => return,
        };
        let config = &self.state.config.pubsub;
        let Some(topic) = Topic::parse(&first.topic_name, &config.cdc_objects) else {
            let message = format!("Topic {} not found.", first.topic_name);
            return self
                .fail(status_with_code(Code::NotFound, &message, TOPIC_NOT_FOUND))
                .await;
        };
        let mut cursor = match self.state.events.start(&start_at(&first)) {
            Ok(cursor) => cursor,
            Err(error) => {
                let status = status_with_code(
                    Code::InvalidArgument,
                    &error.to_string(),
                    REPLAY_ID_CORRUPTED,
                );
                return self.fail(status).await;
            }
        };
        let mut pending = allowance(&first);
        let mut tip = self.state.events.watch();
        let mut last_sent = Instant::now();
        loop {
            if pending > 0 {
                let (events, scanned) =
                    self.state
                        .events
                        .read_after(cursor, pending.min(100), |event| topic.carries(event));
                cursor = scanned;
                if !events.is_empty() {
                    pending -= events.len();
                    let response = self.response(&events, cursor, pending);
                    if self.tx.send(response).await.is_err() {
                        return;
                    }
                    last_sent = Instant::now();
                    continue;
                }
            }
            tokio::select! {
                message = inbound.message() => match message {
                    Ok(Some(request)) => pending = pending.saturating_add(allowance(&request)),
                    _ => return,
                },
                changed = tip.changed() => if changed.is_err() { return },
                () = tokio::time::sleep_until(last_sent + config.keepalive) => {
                    let keepalive = FetchResponse {
                        events: Vec::new(),
                        latest_replay_id: bus::replay_id(cursor),
                        rpc_id: self.rpc_id.clone(),
                        pending_num_requested: i32::try_from(pending).unwrap_or(i32::MAX),
                    };
                    if self.tx.send(Ok(keepalive)).await.is_err() {
                        return;
                    }
                    last_sent = Instant::now();
                }
                () = self.state.shutdown.cancelled() => return,
            }
        }
    }

    /// A response with `events`, encoded with their object's schema.
    fn response(
        &self,
        events: &[Arc<BusEvent>],
        cursor: u64,
        pending: usize,
    ) -> Result<FetchResponse, Status> {
        let mut consumer_events = Vec::with_capacity(events.len());
        for stored in events {
            let event = &stored.event;
            let schema = self
                .state
                .event_schemas
                .for_entity(&event.entity)
                .ok_or_else(|| Status::internal(format!("no schema for {}", event.entity)))?;
            let payload = schema
                .encode(event)
                .map_err(|error| Status::internal(format!("Avro encoding failed: {error}")))?;
            consumer_events.push(ConsumerEvent {
                event: Some(ProducerEvent {
                    id: event.transaction_key.clone() + &event.sequence_number.to_string(),
                    schema_id: schema.schema_id.clone(),
                    payload,
                    headers: Vec::new(),
                }),
                replay_id: bus::replay_id(stored.seq),
            });
        }
        Ok(FetchResponse {
            events: consumer_events,
            latest_replay_id: bus::replay_id(cursor),
            rpc_id: self.rpc_id.clone(),
            pending_num_requested: i32::try_from(pending).unwrap_or(i32::MAX),
        })
    }
}
