//! `workers status EVENT_ID` and the HTTP status API: one event's lifecycle record
//! (`{prefix}:event:<event id>`), written by the bridge and the workers' Lua scripts.

use std::collections::HashMap;

use crate::keys::KeySpace;
use crate::store::RedisConnection;
use serde::Serialize;

use super::{format::Timestamp, Ops, OpsError};

/// An event's lifecycle as the scripts recorded it. Holds no payload: the only free text is
/// `last_error`, which [`Lifecycle::without_error_text`] removes for the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    /// The Stripe event id.
    pub event_id: String,
    /// `enqueued`, `processing`, `applied`, `superseded`, `duplicate`, `stale`,
    /// `retrying` or `dead`.
    pub state: String,
    /// `high` or `low`.
    pub stream: Option<String>,
    /// Its entry in that stream (gone once processed).
    pub entry_id: Option<String>,
    /// The consumer that claimed it last.
    pub consumer: Option<String>,
    /// Attempts to write it to Salesforce.
    pub attempts: Option<u32>,
    /// When the bridge (or a replay) put it on the stream.
    pub enqueued_at: Option<Timestamp>,
    /// When a worker claimed it last.
    pub processing_at: Option<Timestamp>,
    /// When it reached a final state.
    pub finished_at: Option<Timestamp>,
    /// When the next retry is due (state `retrying`).
    pub next_attempt_at: Option<Timestamp>,
    /// When an operator last replayed it from the dead-letter stream.
    pub replayed_at: Option<Timestamp>,
    /// The Salesforce record id, once applied.
    pub salesforce_id: Option<String>,
    /// Class of the last failure: `retryable`, `permanent`, `auth`, `rate_limited`, `mapping`.
    pub failure_class: Option<String>,
    /// The last error, `CODE: message`.
    pub last_error: Option<String>,
    /// Its dead-letter entry id (state `dead`).
    pub dead_entry: Option<String>,
    /// Milliseconds until Redis expires this record.
    pub expires_in_ms: Option<i64>,
}

impl Lifecycle {
    /// Builds the record from `HGETALL` fields; `None` when there are none.
    pub fn from_fields(
        event_id: &str,
        mut fields: HashMap<String, String>,
        ttl_ms: i64,
    ) -> Option<Self> {
        let state = fields.remove("state")?;
        let mut text = |name: &str| fields.remove(name).filter(|v| !v.is_empty());
        let time = |value: Option<String>| value.as_deref().and_then(Timestamp::parse);
        Some(Self {
            event_id: event_id.to_owned(),
            state,
            stream: text("stream"),
            entry_id: text("entry_id"),
            consumer: text("consumer"),
            attempts: text("attempts").and_then(|a| a.parse().ok()),
            enqueued_at: time(text("enqueued_at")),
            processing_at: time(text("processing_at")),
            finished_at: time(text("finished_at")),
            next_attempt_at: time(text("next_attempt_at")),
            replayed_at: time(text("replayed_at")),
            salesforce_id: text("salesforce_id"),
            failure_class: text("failure_class"),
            last_error: text("last_error"),
            dead_entry: text("dead_entry"),
            expires_in_ms: (ttl_ms >= 0).then_some(ttl_ms),
        })
    }

    /// The record for callers outside the operator team: the error keeps its code but
    /// loses its message, because Salesforce messages may quote field values (personal
    /// data).
    pub fn without_error_text(mut self) -> Self {
        self.last_error = self
            .last_error
            .map(|e| e.split(':').next().unwrap_or_default().trim().to_owned());
        self
    }
}

/// Reads an event's lifecycle record; `Ok(None)` if there is none (never enqueued, or
/// expired). The record lives in the event's partition, which its id alone does not tell,
/// so the fleet-wide tag and then every partition are asked, all at once. Shared by the
/// CLI and the HTTP status API.
pub async fn lookup(
    conn: &mut RedisConnection,
    keys: &KeySpace,
    event_id: &str,
) -> redis::RedisResult<Option<Lifecycle>> {
    let spaces = keys.event_spaces();
    let found = futures_util::future::join_all(spaces.iter().map(|(_, space)| {
        let mut conn = conn.clone();
        async move { lookup_in(&mut conn, space, event_id).await }
    }))
    .await;
    for lifecycle in found {
        if let Some(lifecycle) = lifecycle? {
            return Ok(Some(lifecycle));
        }
    }
    Ok(None)
}

async fn lookup_in(
    conn: &mut RedisConnection,
    keys: &KeySpace,
    event_id: &str,
) -> redis::RedisResult<Option<Lifecycle>> {
    let key = keys.lifecycle(event_id);
    let (fields, ttl_ms): (HashMap<String, String>, i64) = redis::pipe()
        .cmd("HGETALL")
        .arg(&key)
        .cmd("PTTL")
        .arg(&key)
        .query_async(conn)
        .await?;
    Ok(Lifecycle::from_fields(event_id, fields, ttl_ms))
}

impl Ops {
    /// The event's lifecycle, or [`OpsError::UnknownEvent`] naming the retention.
    pub async fn status(&self, event_id: &str) -> Result<Lifecycle, OpsError> {
        lookup(&mut self.conn(), &self.keys, event_id)
            .await?
            .ok_or_else(|| OpsError::UnknownEvent {
                event_id: event_id.to_owned(),
                retention: self.lifecycle_retention,
            })
    }
}
