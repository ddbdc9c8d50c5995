//! Reading and purging the dead-letter streams: `{prefix}:dead` (the bridge's refusals and
//! outbound events) and, with more than one partition, each partition's `{prefix:<n>}:dead`.
//! A partition's dead letters are named `<partition>/<entry id>` so one id finds its stream.
//!
//! Two writers put entries there (see the README's "Redis layout"): the bridge, for SQS
//! messages that are not Stripe events (`source=bridge`, `reason=not_a_stripe_event`), and
//! the workers, for events that failed for good (`source=high|low`, `reason` = failure
//! class, plus every field of the stream entry). Payloads may hold personal data, so only
//! [`DeadLetter`] (for `dlq show`) carries one; listings use [`DeadLetterSummary`].

use std::{collections::BTreeMap, time::Duration};

use common::time::unix_millis;
use redis::streams::{StreamId, StreamRangeReply};
use serde::Serialize;

use super::{format::Timestamp, Ops, OpsError};

/// Fields a dead letter may carry that [`DeadLetter`] names; the rest go to `other`.
const KNOWN_FIELDS: [&str; 12] = [
    "source",
    "reason",
    "error",
    "error_detail",
    "dead_at",
    "event_id",
    "type",
    "object_id",
    "created",
    "attempts",
    "received_at",
    "payload",
];

/// One dead letter with everything it holds, payload included (`dlq show`).
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// The dead-letter stream entry id.
    pub id: String,
    /// Where it died: `bridge`, `high`, `low` or `outbound`.
    pub source: String,
    /// Failure class (`permanent`, `retryable`, `auth`, `rate_limited`, `mapping`) or
    /// `not_a_stripe_event`.
    pub reason: String,
    /// The last error, `CODE: message`, with the record values Salesforce quoted redacted.
    pub error: String,
    /// Salesforce's message as written, values included, when redaction changed it.
    pub error_detail: Option<String>,
    /// When it was dead-lettered.
    pub dead_at: Option<Timestamp>,
    /// The Stripe event id (worker dead letters only).
    pub event_id: Option<String>,
    /// The Stripe event type.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// The Stripe object the event is about.
    pub object_id: Option<String>,
    /// Stripe's `created`, as an instant.
    pub created: Option<Timestamp>,
    /// Delivery attempts made before it died.
    pub attempts: Option<u32>,
    /// When the ingress received it.
    pub received_at: Option<Timestamp>,
    /// The message body: JSON when it parses, else the raw text.
    pub payload: Option<serde_json::Value>,
    /// Any other field (for example the bridge's `sqs_message_id`).
    pub other: BTreeMap<String, String>,
}

/// A dead letter without payload or other free-form fields: safe to print in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetterSummary {
    /// The dead-letter stream entry id.
    pub id: String,
    /// `bridge`, `high`, `low` or `outbound`.
    pub source: String,
    /// The Stripe event id, if it was an event.
    pub event_id: Option<String>,
    /// The Stripe event type.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Failure class or `not_a_stripe_event`.
    pub reason: String,
    /// The last error, in full (the table truncates it).
    pub error: String,
    /// When it was dead-lettered.
    pub dead_at: Option<Timestamp>,
    /// Delivery attempts made.
    pub attempts: Option<u32>,
}

impl DeadLetter {
    /// The same letter named as its partition's (`<partition>/<entry id>`).
    pub fn in_partition(mut self, partition: Option<u16>) -> Self {
        if let Some(partition) = partition {
            self.id = format!("{partition}/{}", self.id);
        }
        self
    }

    /// The partition whose stream holds the letter (`None`: the fleet-wide stream).
    pub fn partition(&self) -> Option<u16> {
        split_dead_id(&self.id).0
    }

    /// Reads an `XRANGE` entry of a dead-letter stream.
    pub fn from_stream_id(entry: StreamId) -> Self {
        let mut fields: BTreeMap<String, String> = entry
            .map
            .into_iter()
            .map(|(k, v)| {
                let text = redis::from_redis_value::<String>(v).unwrap_or_default();
                (k, text)
            })
            .collect();
        let mut take = |name: &str| fields.remove(name);
        let time = |text: Option<String>| text.as_deref().and_then(Timestamp::parse);
        let source = take("source").unwrap_or_default();
        let reason = take("reason").unwrap_or_default();
        let error = take("error").unwrap_or_default();
        let error_detail = take("error_detail");
        let dead_at = time(take("dead_at"));
        let event_id = take("event_id");
        let event_type = take("type");
        let object_id = take("object_id");
        let created = take("created")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|secs| Timestamp(secs.saturating_mul(1000)));
        let attempts = take("attempts").and_then(|s| s.parse().ok());
        let received_at = time(take("received_at"));
        let payload = take("payload")
            .map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)));
        debug_assert!(KNOWN_FIELDS.iter().all(|f| !fields.contains_key(*f)));
        Self {
            id: entry.id,
            source,
            reason,
            error,
            error_detail,
            dead_at,
            event_id,
            event_type,
            object_id,
            created,
            attempts,
            received_at,
            payload,
            other: fields,
        }
    }

    /// The listing view: no payload, no free-form fields.
    pub fn summary(&self) -> DeadLetterSummary {
        DeadLetterSummary {
            id: self.id.clone(),
            source: self.source.clone(),
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            reason: self.reason.clone(),
            error: self.error.clone(),
            dead_at: self.dead_at,
            attempts: self.attempts,
        }
    }

    /// Whether it died on a priority stream, and so may go back to one.
    pub fn is_replayable(&self) -> bool {
        matches!(self.source.as_str(), "high" | "low" | "outbound") && self.event_id.is_some()
    }
}

/// Which dead letters to delete with [`Ops::purge_dead_letters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeScope {
    /// Those dead-lettered longer ago than this.
    OlderThan(Duration),
    /// Every one.
    All,
}

/// Dead letters per page while scanning the stream.
pub(crate) const PAGE: usize = 200;

impl Ops {
    /// The newest dead letters first (over every dead-letter stream), at most `limit`,
    /// only of `event_type` when given.
    pub async fn list_dead_letters(
        &self,
        event_type: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeadLetterSummary>, OpsError> {
        let mut found = Vec::new();
        for (partition, keys) in self.keys.event_spaces() {
            let mut mine = Vec::new();
            let mut before: Option<String> = None;
            while mine.len() < limit {
                let end = before
                    .as_ref()
                    .map_or("+".to_owned(), |id| format!("({id}"));
                let reply: StreamRangeReply = redis::cmd("XREVRANGE")
                    .arg(keys.dead_letters())
                    .arg(end)
                    .arg("-")
                    .arg("COUNT")
                    .arg(PAGE)
                    .query_async(&mut self.conn())
                    .await?;
                let Some(last) = reply.ids.last() else { break };
                before = Some(last.id.clone());
                mine.extend(
                    reply
                        .ids
                        .into_iter()
                        .map(|entry| DeadLetter::from_stream_id(entry).in_partition(partition))
                        .filter(|d| event_type.is_none() || d.event_type.as_deref() == event_type)
                        .map(|d| d.summary()),
                );
            }
            found.extend(mine);
        }
        found.sort_by_key(|d| std::cmp::Reverse(entry_millis(&d.id)));
        found.truncate(limit);
        Ok(found)
    }

    /// One dead letter with its payload.
    pub async fn dead_letter(&self, id: &str) -> Result<DeadLetter, OpsError> {
        let (partition, entry_id) = split_dead_id(id);
        self.dead_letters_from(partition, entry_id, entry_id, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| OpsError::NoSuchDeadLetter(id.to_owned()))
    }

    /// The key space of `partition`'s dead letters (`None`: the fleet-wide stream).
    pub(crate) fn dead_letter_space(&self, partition: Option<u16>) -> crate::keys::KeySpace {
        partition.map_or_else(|| self.keys.clone(), |p| self.keys.partition(p))
    }

    /// Up to `count` dead letters of one stream from `start` to `end` (XRANGE bounds,
    /// unqualified entry ids), oldest first.
    pub(crate) async fn dead_letters_from(
        &self,
        partition: Option<u16>,
        start: &str,
        end: &str,
        count: usize,
    ) -> Result<Vec<DeadLetter>, OpsError> {
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.dead_letter_space(partition).dead_letters())
            .arg(start)
            .arg(end)
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await
            .map_err(|error| {
                // A malformed id is the operator's typo, not a Redis failure.
                if error.to_string().contains("Invalid stream ID") {
                    OpsError::NoSuchDeadLetter(start.to_owned())
                } else {
                    OpsError::Redis(error)
                }
            })?;
        Ok(reply
            .ids
            .into_iter()
            .map(|entry| DeadLetter::from_stream_id(entry).in_partition(partition))
            .collect())
    }

    /// Deletes dead letters; returns how many. Dead-letter ids are the time they were
    /// written, so "older than" is one `XTRIM MINID`, atomic and exact. Lifecycle records
    /// keep saying `dead` (with a `dead_entry` that no longer exists) until they expire.
    pub async fn purge_dead_letters(&self, scope: PurgeScope) -> Result<u64, OpsError> {
        let mut commands = Vec::new();
        for (_, keys) in self.keys.event_spaces() {
            let mut command = redis::cmd("XTRIM");
            command.arg(keys.dead_letters());
            match scope {
                PurgeScope::All => command.arg("MAXLEN").arg(0),
                PurgeScope::OlderThan(age) => {
                    let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
                    let cutoff = unix_millis().saturating_sub(age_ms).max(0);
                    command.arg("MINID").arg(cutoff)
                }
            };
            commands.push(command);
        }
        let trimmed: Vec<u64> = crate::store::query_all(&self.conn(), &commands).await?;
        Ok(trimmed.iter().sum())
    }
}

/// `3/1733390000000-0` → (partition 3, entry id); an unqualified id is the fleet-wide
/// stream's.
pub(crate) fn split_dead_id(id: &str) -> (Option<u16>, &str) {
    match id.split_once('/') {
        Some((partition, entry)) => match partition.parse() {
            Ok(partition) => (Some(partition), entry),
            Err(_) => (None, id),
        },
        None => (None, id),
    }
}

/// The unqualified entry id of a dead-letter id.
pub(crate) fn entry_id(id: &str) -> &str {
    split_dead_id(id).1
}

/// The time part of a (qualified) entry id, for ordering letters of several streams.
fn entry_millis(id: &str) -> u64 {
    entry_id(id)
        .split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}
