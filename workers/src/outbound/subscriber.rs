//! One change event channel's subscription, held by one replica at a time.
//!
//! The replica that holds the channel's lease subscribes (`Subscribe`, with flow control:
//! [`FETCH`] events requested at a time, more asked for as they arrive), decodes each event
//! with its schema (`GetSchema`, cached), and journals the changes into the outbound stream
//! together with the replay id after them, in one Redis script: the position never moves
//! past a change that is not durable. Keep-alives move it too (their `latest_replay_id`).
//!
//! When Salesforce refuses the stored replay id (older than its retention, or unknown) or
//! reports a gap (`GAP_*` events: record ids without data; `GAP_OVERFLOW`: not even those),
//! the replica catches up by SOQL: the records modified since the last commit it journaled
//! (with an overlap), as syncs carrying their current values; then it goes on at the tip.

use std::{collections::HashMap, sync::Arc};

use salesforce_client::SalesforceClient;
use salesforce_pubsub::{
    proto::{pub_sub_client::PubSubClient, FetchRequest, ReplayPreset, SchemaRequest},
    EventSchema, PubSubAuth, PubSubEndpoint,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use super::{
    change::{Change, ChangeKind},
    config::StartAt,
    journal::{ChannelJournal, Position},
    rules::OutboundRules,
    salesforce_side::changes_since,
};
use crate::backoff::{outage_backoff, pause};

/// Events requested at a time (Salesforce allows up to 100).
pub const FETCH: i32 = 100;

/// The metric: 1 while this replica subscribes to the channel.
pub const SUBSCRIPTION_UP: &str = "outbound_subscription_up";
/// The metric: changes journaled, by channel and kind.
pub const CHANGES_RECEIVED: &str = "outbound_changes_received_total";
/// The metric: the commit time of the newest change journaled, Unix seconds.
pub const REPLAY_COMMIT_TIME: &str = "outbound_replay_commit_timestamp_seconds";
/// The metric: SOQL catch-ups run, by reason.
pub const CATCH_UPS: &str = "outbound_catch_ups_total";

/// What a subscription needs.
#[derive(Clone)]
pub struct Subscriber {
    /// Salesforce (sessions, and SOQL for catch-ups).
    pub client: SalesforceClient,
    /// The Pub/Sub API.
    pub endpoint: PubSubEndpoint,
    /// The org's id (`tenantid`).
    pub tenant_id: String,
    /// The channel's lease, position and stream.
    pub journal: ChannelJournal,
    /// What the changes are for (the objects a catch-up reads).
    pub rules: Arc<OutboundRules>,
    /// Where to start with nothing stored.
    pub start: StartAt,
}

/// Why a subscription ended.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("the lease went to another replica")]
    LeaseLost,
    #[error("shutting down")]
    Shutdown,
    #[error("Salesforce refused the stored replay id")]
    ReplayRefused,
    #[error("{0}")]
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for Failed {
    fn from(error: E) -> Self {
        Failed(error.to_string())
    }
}

/// A failure that ends one subscription attempt (the loop subscribes again).
struct Failed(String);

impl From<Failed> for Ended {
    fn from(failed: Failed) -> Self {
        Ended::Failed(failed.0)
    }
}

impl Subscriber {
    /// Holds the lease and subscribes whenever it can, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let channel = self.journal.channel().to_owned();
        let up = metrics::gauge!(SUBSCRIPTION_UP, "channel" => channel.clone());
        up.set(0.0);
        let mut delays = outage_backoff();
        let wait = self.journal.lease_time() / 3;
        while !shutdown.is_cancelled() {
            match self.journal.hold_lease().await {
                Ok(true) => {}
                Ok(false) => {
                    if !pause(Some(wait), &shutdown).await {
                        break;
                    }
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%channel, %error, "Redis error taking the channel's lease.");
                    if !pause(delays.next(), &shutdown).await {
                        break;
                    }
                    continue;
                }
            }
            tracing::info!(%channel, "Holding the channel; subscribing.");
            up.set(1.0);
            let ended = self.subscribe(&shutdown).await;
            up.set(0.0);
            match ended {
                Ended::Shutdown => break,
                Ended::LeaseLost => {
                    tracing::warn!(%channel, "Another replica took the channel over.");
                }
                Ended::ReplayRefused => {
                    tracing::warn!(%channel, "Salesforce refused the stored replay id; catching up by SOQL.");
                    metrics::counter!(CATCH_UPS, "channel" => channel.clone(), "reason" => "replay_refused").increment(1);
                    if let Err(error) = self.journal.forget_replay_id().await {
                        tracing::warn!(%channel, %error, "Could not forget the replay id.");
                    }
                }
                Ended::Failed(error) => {
                    tracing::warn!(%channel, %error, "Subscription failed; subscribing again.");
                    if !pause(delays.next(), &shutdown).await {
                        break;
                    }
                }
            }
        }
        if let Err(error) = self.journal.release_lease().await {
            tracing::debug!(%channel, %error, "Could not release the lease.");
        }
        tracing::info!(%channel, "Subscription stopped.");
    }

    /// One subscription, until it ends.
    async fn subscribe(&self, shutdown: &CancellationToken) -> Ended {
        match self.try_subscribe(shutdown).await {
            Ok(ended) | Err(ended) => ended,
        }
    }

    async fn try_subscribe(&self, shutdown: &CancellationToken) -> Result<Ended, Ended> {
        let channel = self.journal.channel().to_owned();
        let position = self.journal.position().await.map_err(Failed::from)?;
        // No replay id but a commit time: the id was refused; catch up once live.
        let mut catch_up_from = (position.replay_id.is_none() && position.commit_timestamp > 0)
            .then_some(position.commit_timestamp);
        let first = first_request(&channel, &position, self.start);
        let session = self.client.session().await.map_err(Failed::from)?;
        let auth = PubSubAuth {
            access_token: session.access_token.clone(),
            instance_url: session.instance_url.clone(),
            tenant_id: self.tenant_id.clone(),
        };
        let mut grpc = self.endpoint.connect().await.map_err(Failed::from)?;
        let (requests, receiver) = mpsc::channel(4);
        requests.send(first).await.map_err(Failed::from)?;
        let request = auth
            .request(ReceiverStream::new(receiver))
            .map_err(Failed::from)?;
        let mut responses = match grpc.subscribe(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return Err(self.ended_by(status, &session).await),
        };
        let mut schemas: HashMap<String, Arc<EventSchema>> = HashMap::new();
        let mut outstanding = FETCH;
        let mut renew = tokio::time::interval(self.journal.lease_time() / 3);
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Ok(Ended::Shutdown),
                _ = renew.tick() => {
                    if !self.journal.hold_lease().await.map_err(Failed::from)? {
                        return Ok(Ended::LeaseLost);
                    }
                    continue;
                }
                message = responses.message() => message,
            };
            let response = match message {
                Ok(Some(response)) => response,
                Ok(None) => return Err(Ended::Failed("the stream ended".into())),
                Err(status) => return Err(self.ended_by(status, &session).await),
            };
            if let Some(since) = catch_up_from.take() {
                self.catch_up(since, "replay_refused").await?;
            }
            let mut changes = Vec::new();
            let mut gap_since = None;
            for event in &response.events {
                let Some(producer) = &event.event else {
                    continue;
                };
                let schema = self
                    .schema(&mut grpc, &auth, &mut schemas, &producer.schema_id)
                    .await?;
                let decoded = schema.decode(&producer.payload).map_err(Failed::from)?;
                let header = &decoded.header;
                if header.change_type == "GAP_OVERFLOW" {
                    gap_since = Some(position.commit_timestamp.min(header.commit_timestamp));
                    continue;
                }
                for record_id in &header.record_ids {
                    changes.push(change_of(&decoded, record_id));
                }
            }
            if let Some(since) = gap_since {
                metrics::counter!(CATCH_UPS, "channel" => channel.clone(), "reason" => "gap_overflow").increment(1);
                self.catch_up(since, "gap_overflow").await?;
            }
            let replay_id = response
                .events
                .last()
                .map_or(&response.latest_replay_id, |event| &event.replay_id);
            let replay_hex = (!replay_id.is_empty()).then(|| to_hex(replay_id));
            // A keep-alive vouches for every commit before it: the catch-up start moves too.
            let covered = if response.events.is_empty() {
                common::time::unix_millis() - 1_000
            } else {
                0
            };
            match self
                .journal
                .journal(&changes, replay_hex.as_deref(), covered)
                .await
                .map_err(Failed::from)?
            {
                Ok(added) => {
                    for change in &changes {
                        metrics::counter!(CHANGES_RECEIVED, "channel" => channel.clone(), "kind" => kind_label(change.kind)).increment(1);
                    }
                    if let Some(newest) = changes.iter().map(|c| c.commit_timestamp).max() {
                        metrics::gauge!(REPLAY_COMMIT_TIME, "channel" => channel.clone())
                            .set(newest as f64 / 1000.0);
                    }
                    if added > 0 {
                        tracing::debug!(%channel, added, "Journaled changes.");
                    }
                }
                Err(_) => return Ok(Ended::LeaseLost),
            }
            outstanding -= i32::try_from(response.events.len()).unwrap_or(FETCH);
            if outstanding <= FETCH / 2 {
                let more = FetchRequest {
                    num_requested: FETCH - outstanding,
                    ..FetchRequest::default()
                };
                requests.send(more).await.map_err(Failed::from)?;
                outstanding = FETCH;
            }
        }
    }

    /// Journals every record of the channel's objects modified since `since` as a sync.
    async fn catch_up(&self, since: i64, reason: &str) -> Result<(), Ended> {
        let channel = self.journal.channel();
        let mut changes = Vec::new();
        for entity in channel_entities(channel, &self.rules) {
            changes.extend(
                changes_since(&self.client, &self.rules, &entity, since)
                    .await
                    .map_err(Failed::from)?,
            );
        }
        tracing::info!(%channel, reason, records = changes.len(), "Caught up by SOQL.");
        match self
            .journal
            .journal(&changes, None, 0)
            .await
            .map_err(Failed::from)?
        {
            Ok(_) => Ok(()),
            Err(_) => Err(Ended::LeaseLost),
        }
    }

    async fn schema(
        &self,
        grpc: &mut PubSubClient<Channel>,
        auth: &PubSubAuth,
        cache: &mut HashMap<String, Arc<EventSchema>>,
        schema_id: &str,
    ) -> Result<Arc<EventSchema>, Ended> {
        if let Some(schema) = cache.get(schema_id) {
            return Ok(schema.clone());
        }
        let request = auth
            .request(SchemaRequest {
                schema_id: schema_id.to_owned(),
            })
            .map_err(Failed::from)?;
        let info = grpc.get_schema(request).await.map_err(Failed::from)?;
        let schema =
            Arc::new(EventSchema::parse(&info.into_inner().schema_json).map_err(Failed::from)?);
        cache.insert(schema_id.to_owned(), schema.clone());
        Ok(schema)
    }

    /// What a gRPC error means: a refused replay id, an expired session (dropped, so the next
    /// attempt logs in), or a failure to retry.
    async fn ended_by(&self, status: tonic::Status, session: &salesforce_client::Session) -> Ended {
        let code = status
            .metadata()
            .get("error-code")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status.code() == tonic::Code::InvalidArgument && code.contains("replayid") {
            return Ended::ReplayRefused;
        }
        if status.code() == tonic::Code::Unauthenticated {
            self.client.invalidate_session(session).await;
        }
        Ended::Failed(format!("{:?} {code}: {}", status.code(), status.message()))
    }
}

/// The first `FetchRequest`: after the stored replay id, else where configured.
fn first_request(channel: &str, position: &Position, start: StartAt) -> FetchRequest {
    let (preset, replay_id) = match position.replay_id.as_deref().and_then(from_hex) {
        Some(replay_id) => (ReplayPreset::Custom, replay_id),
        None if position.commit_timestamp > 0 => (ReplayPreset::Latest, Vec::new()),
        None => match start {
            StartAt::Latest => (ReplayPreset::Latest, Vec::new()),
            StartAt::Earliest => (ReplayPreset::Earliest, Vec::new()),
        },
    };
    FetchRequest {
        topic_name: channel.to_owned(),
        replay_preset: preset as i32,
        replay_id,
        num_requested: FETCH,
        auth_refresh: String::new(),
    }
}

/// The change of `record_id` in a decoded event.
fn change_of(event: &salesforce_pubsub::ChangeEvent, record_id: &str) -> Change {
    let header = &event.header;
    let (kind, complete) = match header.change_type.as_str() {
        "CREATE" => (ChangeKind::Create, true),
        "UPDATE" => (ChangeKind::Update, false),
        "DELETE" => (ChangeKind::Delete, false),
        "UNDELETE" => (ChangeKind::Undelete, false),
        // GAP_CREATE, GAP_UPDATE, …: the record must be read.
        _ => (ChangeKind::Sync, false),
    };
    Change {
        entity: header.entity_name.clone(),
        record_id: record_id.to_owned(),
        kind,
        commit_timestamp: header.commit_timestamp,
        commit_number: header.commit_number,
        sequence_number: header.sequence_number,
        commit_user: header.commit_user.clone(),
        changed_fields: header.changed_fields.clone(),
        fields: event.fields.clone(),
        complete,
    }
}

/// The objects whose records a channel carries.
fn channel_entities(channel: &str, rules: &OutboundRules) -> Vec<String> {
    let all = [
        rules.contacts.sobject.clone(),
        rules.subscriptions.sobject.clone(),
    ];
    let Some(name) = channel.strip_prefix("/data/") else {
        return Vec::new();
    };
    if name == "ChangeEvents" {
        return all.to_vec();
    }
    // `ContactChangeEvent`, `Stripe_Subscription__ChangeEvent` (custom objects drop `c`).
    all.into_iter()
        .filter(|sobject| {
            let stem = sobject.strip_suffix("__c").map_or_else(
                || format!("{sobject}ChangeEvent"),
                |custom| format!("{custom}__ChangeEvent"),
            );
            stem.eq_ignore_ascii_case(name)
        })
        .collect()
}

fn kind_label(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Create => "create",
        ChangeKind::Update => "update",
        ChangeKind::Delete => "delete",
        ChangeKind::Undelete => "undelete",
        ChangeKind::Sync => "sync",
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    text.len().is_multiple_of(2).then_some(())?;
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_ids_round_trip_through_hex() {
        let id = vec![0, 1, 0xab, 0xff];
        assert_eq!(from_hex(&to_hex(&id)), Some(id));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn channels_name_their_objects() {
        let rules = OutboundRules::default();
        assert_eq!(
            channel_entities("/data/ContactChangeEvent", &rules),
            ["Contact"]
        );
        assert_eq!(
            channel_entities("/data/Stripe_Subscription__ChangeEvent", &rules),
            ["Stripe_Subscription__c"]
        );
        assert_eq!(channel_entities("/data/ChangeEvents", &rules).len(), 2);
    }

    #[test]
    fn the_first_request_resumes_after_the_stored_id() {
        let stored = Position {
            replay_id: Some("0a0b".into()),
            commit_timestamp: 5,
        };
        let request = first_request("/data/X", &stored, StartAt::Earliest);
        assert_eq!(request.replay_preset, ReplayPreset::Custom as i32);
        assert_eq!(request.replay_id, vec![10, 11]);
        let refused = Position {
            replay_id: None,
            commit_timestamp: 5,
        };
        let request = first_request("/data/X", &refused, StartAt::Earliest);
        assert_eq!(request.replay_preset, ReplayPreset::Latest as i32);
        let fresh = first_request("/data/X", &Position::default(), StartAt::Earliest);
        assert_eq!(fresh.replay_preset, ReplayPreset::Earliest as i32);
    }
}
