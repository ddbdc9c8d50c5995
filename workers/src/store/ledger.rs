//! The event ledger: every state change of an event after it entered a stream, each one a
//! single Lua script so that the stream, the markers and the lifecycle record always agree.
//!
//! - [`EventLedger::claim`]: may this worker apply the event? (`lua/claim_event.lua`)
//! - [`EventLedger::finish`]: applied / superseded / duplicate → acknowledge and remove the
//!   entry (`lua/record_applied.lua`).
//! - [`EventLedger::defer`]: failed → retry schedule or dead-letter stream, then acknowledge
//!   (`lua/defer_event.lua`).
//! - [`EventLedger::release_due_retries`]: due retries back onto their stream
//!   (`lua/release_due_retries.lua`).
//!
//! A batch claims all its events in one round trip ([`EventLedger::claim_all`]) and settles
//! them in one more ([`EventLedger::settle_all`]): the scripts run as one pipeline.

use std::time::Duration;

use common::time::unix_millis;
use redis::{aio::ConnectionManager, ScriptInvocation};
use salesforce_client::FailureClass;

use super::{scripts::invoke_all, Priority, StreamEntry};
use crate::keys::KeySpace;

const CLAIM: &str = include_str!("../../../lua/claim_event.lua");
const RECORD_APPLIED: &str = include_str!("../../../lua/record_applied.lua");
const DEFER: &str = include_str!("../../../lua/defer_event.lua");
const RELEASE_DUE: &str = include_str!("../../../lua/release_due_retries.lua");

/// What [`EventLedger::claim`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Apply it.
    Claimed,
    /// Already applied: acknowledge, change nothing.
    AlreadyApplied,
    /// Older than what Salesforce already has for this object: acknowledge, change nothing.
    Stale,
    /// Another consumer is applying it right now; leave the entry pending.
    Busy(String),
}

/// How an event left the stream successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Salesforce accepted it.
    Applied,
    /// A newer event for the same object was applied in its place.
    Superseded,
    /// It had been applied before (a redelivery).
    Duplicate,
    /// It was older than what Salesforce has.
    Stale,
    /// The mapping has no rule for its type.
    Unhandled,
}

impl Finish {
    /// The lifecycle state recorded.
    pub fn label(self) -> &'static str {
        match self {
            Finish::Applied => "applied",
            Finish::Superseded => "superseded",
            Finish::Duplicate => "duplicate",
            Finish::Stale => "stale",
            Finish::Unhandled => "unhandled",
        }
    }
}

/// Where a failed event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferral {
    /// Back on its stream at this time (Unix ms).
    RetryAt(i64),
    /// To the dead-letter stream.
    Dead,
}

/// Why an attempt failed, as recorded in the lifecycle and the dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whether trying again can help; recorded as its label (`retryable`, `permanent`, ...).
    pub class: FailureClass,
    /// Salesforce code or our own (`MAPPING_ERROR`).
    pub code: String,
    /// A description. Salesforce messages may quote field values, so this is stored in
    /// Redis for operators but not logged at info level.
    pub message: String,
}

/// A stream entry as a worker holds it: where it is and what it says.
#[derive(Debug, Clone)]
pub struct HeldEntry {
    /// The stream entry id (`""` if the event is not in a stream).
    pub entry_id: String,
    /// The event.
    pub entry: StreamEntry,
}

/// How one event of a batch leaves the stream.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// Done: applied, superseded, a duplicate, stale or unhandled.
    Finish {
        /// The entry.
        held: HeldEntry,
        /// How it ended.
        finish: Finish,
        /// The record id to remember in the lifecycle, if any.
        salesforce_id: Option<String>,
    },
    /// Failed: to the retry schedule or the dead letters. `held.entry.attempts` must
    /// already count this attempt.
    Defer {
        /// The entry.
        held: HeldEntry,
        /// Where it goes.
        deferral: Deferral,
        /// Why.
        failure: Failure,
    },
}

/// Runs the ledger scripts for one stream and group.
#[derive(Clone)]
pub struct EventLedger {
    conn: ConnectionManager,
    keys: KeySpace,
    priority: Priority,
    consumer: String,
    claim_ttl: Duration,
    dedupe_window: Duration,
    lifecycle_retention: Duration,
    claim: redis::Script,
    record_applied: redis::Script,
    defer: redis::Script,
    release_due: redis::Script,
}

impl EventLedger {
    /// A ledger for `priority`'s stream, acting as `consumer`.
    pub fn new(
        conn: ConnectionManager,
        keys: KeySpace,
        priority: Priority,
        consumer: String,
        claim_ttl: Duration,
        dedupe_window: Duration,
        lifecycle_retention: Duration,
    ) -> Self {
        Self {
            conn,
            keys,
            priority,
            consumer,
            claim_ttl,
            dedupe_window,
            lifecycle_retention,
            claim: redis::Script::new(CLAIM),
            record_applied: redis::Script::new(RECORD_APPLIED),
            defer: redis::Script::new(DEFER),
            release_due: redis::Script::new(RELEASE_DUE),
        }
    }

    /// Claims `entry`'s object for `batch` (a name unique to one batch of this consumer, so
    /// that two batches in flight in one replica never apply one record at once) unless the
    /// event is applied, stale or the object is held by someone else.
    pub async fn claim(&self, entry: &StreamEntry, batch: &str) -> redis::RedisResult<Claim> {
        let mut claims = self.claim_all(std::slice::from_ref(entry), batch).await?;
        Ok(claims.pop().unwrap_or(Claim::Busy(String::new())))
    }

    /// [`Self::claim`] for every entry of a batch, in one round trip; answers in order.
    pub async fn claim_all(
        &self,
        entries: &[StreamEntry],
        batch: &str,
    ) -> redis::RedisResult<Vec<Claim>> {
        let owner = format!("{}/{batch}", self.consumer);
        let now = unix_millis();
        let invocations: Vec<ScriptInvocation<'_>> = entries
            .iter()
            .map(|entry| {
                let mut invocation = self.claim.prepare_invoke();
                invocation
                    .key(self.keys.applied(&entry.event_id))
                    .key(self.keys.object_version(&entry.object_id))
                    .key(self.keys.claim(&entry.object_id))
                    .key(self.keys.lifecycle(&entry.event_id))
                    .arg(entry.created)
                    .arg(&entry.event_id)
                    .arg(&owner)
                    .arg(self.claim_ttl.as_millis() as u64)
                    .arg(now)
                    .arg(self.lifecycle_retention.as_secs().max(1));
                invocation
            })
            .collect();
        let answers: Vec<String> = invoke_all(&self.conn, &[&self.claim], &invocations).await?;
        Ok(answers
            .iter()
            .map(|answer| match answer.as_str() {
                "claimed" => Claim::Claimed,
                "applied" => Claim::AlreadyApplied,
                "stale" => Claim::Stale,
                other => Claim::Busy(other.trim_start_matches("busy:").to_owned()),
            })
            .collect())
    }

    /// Records how the event ended and acknowledges its entry.
    pub async fn finish(
        &self,
        held: &HeldEntry,
        finish: Finish,
        salesforce_id: Option<&str>,
    ) -> redis::RedisResult<()> {
        self.settle_all(vec![Settlement::Finish {
            held: held.clone(),
            finish,
            salesforce_id: salesforce_id.map(str::to_owned),
        }])
        .await
    }

    /// Moves a failed event to the retry schedule or the dead-letter stream and
    /// acknowledges its entry. `held.entry.attempts` must already count this attempt.
    /// Answers `scheduled`, or the dead letter's entry id.
    pub async fn defer(
        &self,
        held: &HeldEntry,
        deferral: &Deferral,
        failure: &Failure,
    ) -> redis::RedisResult<String> {
        let invocation = self.defer_invocation(held, deferral, failure, unix_millis());
        let mut answers: Vec<String> = invoke_all(
            &self.conn,
            &[&self.defer],
            std::slice::from_ref(&invocation),
        )
        .await?;
        Ok(answers.pop().unwrap_or_default())
    }

    /// Settles every event of a batch in one round trip.
    pub async fn settle_all(&self, settlements: Vec<Settlement>) -> redis::RedisResult<()> {
        let now = unix_millis();
        let invocations: Vec<ScriptInvocation<'_>> = settlements
            .iter()
            .map(|settlement| match settlement {
                Settlement::Finish {
                    held,
                    finish,
                    salesforce_id,
                } => self.finish_invocation(held, *finish, salesforce_id.as_deref(), now),
                Settlement::Defer {
                    held,
                    deferral,
                    failure,
                } => self.defer_invocation(held, deferral, failure, now),
            })
            .collect();
        invoke_all::<redis::Value>(
            &self.conn,
            &[&self.record_applied, &self.defer],
            &invocations,
        )
        .await
        .map(|_| ())
    }

    fn finish_invocation(
        &self,
        held: &HeldEntry,
        finish: Finish,
        salesforce_id: Option<&str>,
        now: i64,
    ) -> ScriptInvocation<'_> {
        let entry = &held.entry;
        let mut invocation = self.record_applied.prepare_invoke();
        invocation
            .key(self.keys.applied(&entry.event_id))
            .key(self.keys.object_version(&entry.object_id))
            .key(self.keys.claim(&entry.object_id))
            .key(self.keys.lifecycle(&entry.event_id))
            .key(self.keys.stream(self.priority))
            .arg(entry.created)
            .arg(&entry.event_id)
            .arg(self.priority.group())
            .arg(&held.entry_id)
            .arg(salesforce_id.unwrap_or_default())
            .arg(finish.label())
            .arg(now)
            .arg(self.dedupe_window.as_secs().max(1))
            .arg(self.lifecycle_retention.as_secs().max(1));
        invocation
    }

    fn defer_invocation(
        &self,
        held: &HeldEntry,
        deferral: &Deferral,
        failure: &Failure,
        now: i64,
    ) -> ScriptInvocation<'_> {
        let entry = &held.entry;
        let (mode, due) = match deferral {
            Deferral::RetryAt(due) => ("retry", *due),
            Deferral::Dead => ("dead", 0),
        };
        let mut invocation = self.defer.prepare_invoke();
        invocation
            .key(self.keys.retry_schedule())
            .key(self.keys.retry_entry(&entry.event_id))
            .key(self.keys.dead_letters())
            .key(self.keys.claim(&entry.object_id))
            .key(self.keys.lifecycle(&entry.event_id))
            .key(self.keys.stream(self.priority))
            .arg(mode)
            .arg(due)
            .arg(self.priority.group())
            .arg(&held.entry_id)
            .arg(failure.class.label())
            .arg(&failure.code)
            .arg(&failure.message)
            .arg(now)
            .arg(self.lifecycle_retention.as_secs().max(1))
            .arg(self.priority.name());
        for (field, value) in entry.fields() {
            invocation.arg(field).arg(value);
        }
        invocation
    }

    /// Puts up to `limit` due retries back on their streams; returns how many.
    pub async fn release_due_retries(&self, limit: usize) -> redis::RedisResult<u64> {
        let mut conn = self.conn.clone();
        self.release_due
            .key(self.keys.retry_schedule())
            .key(self.keys.stream(Priority::High))
            .key(self.keys.stream(Priority::Low))
            .arg(unix_millis())
            .arg(limit)
            .arg(self.keys.retry_entry_prefix())
            .invoke_async(&mut conn)
            .await
    }
}
