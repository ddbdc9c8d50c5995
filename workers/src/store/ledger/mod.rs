//! The event ledger: every state change of an event after it entered a stream, each one a
//! single Lua script so that the stream, the markers and the lifecycle record always agree.
//!
//! - [`EventLedger::claim_all`]: may this worker apply the events, and which of the records
//!   each one writes are still its to write? (`lua/claim_event.lua`)
//! - [`EventLedger::finish`]: applied / superseded / duplicate → acknowledge and remove the
//!   entry (`lua/record_applied.lua`).
//! - [`EventLedger::defer`]: failed → retry schedule or dead-letter stream, then acknowledge
//!   (`lua/defer_event.lua`).
//! - [`EventLedger::release_due_retries`]: due retries back onto their stream
//!   (`lua/release_due_retries.lua`).
//!
//! Newest wins per Salesforce record ([`RecordKey`]): an event's claim covers every record it
//! writes, and a record that already holds a newer event is stale for it. A batch claims all
//! its events in one round trip and settles them in one more ([`EventLedger::settle_all`]):
//! the scripts run as one pipeline.

use std::time::Duration;

use crate::store::RedisConnection;
use common::time::unix_millis;
use redis::ScriptInvocation;

mod types;

use types::parse_claim;
pub use types::{
    Claim, Deferral, Failure, Finish, HeldEntry, RecordClaim, RecordOutcome, Settlement,
};

use super::{scripts::invoke_all, Priority, RecordKey};
use crate::keys::KeySpace;

const CLAIM: &str = include_str!("../../../../lua/claim_event.lua");
const RECORD_APPLIED: &str = include_str!("../../../../lua/record_applied.lua");
const DEFER: &str = include_str!("../../../../lua/defer_event.lua");
const RELEASE_DUE: &str = include_str!("../../../../lua/release_due_retries.lua");

/// Runs the ledger scripts for one stream and group.
#[derive(Clone)]
pub struct EventLedger {
    conn: RedisConnection,
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
        conn: RedisConnection,
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

    /// The name a batch's claims carry: unique to one batch of this consumer, so that two
    /// batches in flight in one replica never write one record at once.
    fn owner(&self, batch: &str) -> String {
        format!("{}/{batch}", self.consumer)
    }

    /// Claims, for `batch`, the records each event writes, in one round trip; answers in
    /// order. An event is claimed whole or not at all: if another batch holds one of its
    /// records, it is [`Claim::Busy`].
    pub async fn claim_all(
        &self,
        events: &[(&HeldEntry, &[RecordKey])],
        batch: &str,
    ) -> redis::RedisResult<Vec<Claim>> {
        let owner = self.owner(batch);
        let now = unix_millis();
        let invocations: Vec<ScriptInvocation<'_>> = events
            .iter()
            .map(|(held, records)| {
                let (entry, keys) = (&held.entry, self.keys_of(held));
                let mut invocation = self.claim.prepare_invoke();
                invocation
                    .key(keys.applied(&entry.event_id))
                    .key(keys.lifecycle(&entry.event_id));
                for record in *records {
                    invocation
                        .key(keys.record_version(record.as_str()))
                        .key(keys.record_claim(record.as_str()));
                }
                invocation
                    .arg(entry.created)
                    .arg(&entry.event_id)
                    .arg(&owner)
                    .arg(self.claim_ttl.as_millis() as u64)
                    .arg(now)
                    .arg(self.lifecycle_retention.as_secs().max(1))
                    .arg(entry.order_in_second());
                invocation
            })
            .collect();
        let answers: Vec<String> = invoke_all(&self.conn, &[&self.claim], &invocations).await?;
        Ok(answers.iter().map(|answer| parse_claim(answer)).collect())
    }

    /// Moves a failed event that holds no record claims to the retry schedule or the
    /// dead-letter stream and acknowledges its entry. `held.entry.attempts` must already
    /// count this attempt. Answers `scheduled`, or the dead letter's entry id.
    pub async fn defer(
        &self,
        held: &HeldEntry,
        deferral: &Deferral,
        failure: &Failure,
    ) -> redis::RedisResult<String> {
        let invocation = self.defer_invocation(held, deferral, failure, &[], "", unix_millis());
        let mut answers: Vec<String> = invoke_all(
            &self.conn,
            &[&self.defer],
            std::slice::from_ref(&invocation),
        )
        .await?;
        Ok(answers.pop().unwrap_or_default())
    }

    /// Settles every event of `batch` in one round trip.
    pub async fn settle_all(
        &self,
        batch: &str,
        settlements: Vec<Settlement>,
    ) -> redis::RedisResult<()> {
        let owner = self.owner(batch);
        let now = unix_millis();
        let invocations: Vec<ScriptInvocation<'_>> = settlements
            .iter()
            .map(|settlement| match settlement {
                Settlement::Finish {
                    held,
                    finish,
                    salesforce_id,
                    records,
                } => self.finish_invocation(
                    held,
                    *finish,
                    salesforce_id.as_deref(),
                    records,
                    &owner,
                    now,
                ),
                Settlement::Defer {
                    held,
                    deferral,
                    failure,
                    records,
                } => self.defer_invocation(held, deferral, failure, records, &owner, now),
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
        records: &[(RecordKey, RecordOutcome)],
        owner: &str,
        now: i64,
    ) -> ScriptInvocation<'_> {
        let (entry, keys) = (&held.entry, self.keys_of(held));
        let mut invocation = self.record_applied.prepare_invoke();
        invocation
            .key(keys.applied(&entry.event_id))
            .key(keys.lifecycle(&entry.event_id))
            .key(keys.stream(self.priority));
        for (record, _) in records {
            invocation
                .key(keys.record_version(record.as_str()))
                .key(keys.record_claim(record.as_str()));
        }
        let outcomes: String = records.iter().map(|(_, outcome)| outcome.code()).collect();
        let superseded = records
            .iter()
            .filter(|(_, outcome)| outcome.superseded())
            .map(|(record, _)| record.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        invocation
            .arg(entry.created)
            .arg(&entry.event_id)
            .arg(self.priority.group())
            .arg(&held.entry_id)
            .arg(salesforce_id.unwrap_or_default())
            .arg(finish.label())
            .arg(now)
            .arg(self.dedupe_window.as_secs().max(1))
            .arg(self.lifecycle_retention.as_secs().max(1))
            .arg(owner)
            .arg(outcomes)
            .arg(superseded)
            .arg(entry.order_in_second());
        invocation
    }

    fn defer_invocation(
        &self,
        held: &HeldEntry,
        deferral: &Deferral,
        failure: &Failure,
        records: &[RecordKey],
        owner: &str,
        now: i64,
    ) -> ScriptInvocation<'_> {
        let (entry, keys) = (&held.entry, self.keys_of(held));
        let (mode, due) = match deferral {
            Deferral::RetryAt(due) => ("retry", *due),
            Deferral::Dead => ("dead", 0),
        };
        let mut invocation = self.defer.prepare_invoke();
        invocation
            .key(keys.retry_schedule())
            .key(keys.retry_entry(&entry.event_id))
            .key(keys.dead_letters())
            .key(keys.lifecycle(&entry.event_id))
            .key(keys.stream(self.priority));
        for record in records {
            invocation.key(keys.record_claim(record.as_str()));
        }
        invocation
            .arg(mode)
            .arg(due)
            .arg(self.priority.group())
            .arg(&held.entry_id)
            .arg(failure.class.label())
            .arg(&failure.code)
            .arg(&failure.message)
            .arg(now)
            .arg(self.lifecycle_retention.as_secs().max(1))
            .arg(self.priority.name())
            .arg(owner);
        for (field, value) in entry.fields() {
            invocation.arg(field).arg(value);
        }
        // The unredacted message goes only into the dead letter, never the retry schedule
        // (whose fields become the stream entry again) nor the lifecycle.
        if let (Deferral::Dead, Some(detail)) = (deferral, &failure.detail) {
            invocation.arg("error_detail").arg(detail);
        }
        invocation
    }

    /// Puts up to `limit` due retries (per partition) back on their streams; returns how
    /// many. The inbound ledgers go through every partition, the outbound one through the
    /// fleet-wide schedule.
    pub async fn release_due_retries(&self, limit: usize) -> redis::RedisResult<u64> {
        let spaces: Vec<KeySpace> = if self.priority == Priority::Outbound {
            vec![self.keys.clone()]
        } else {
            self.keys.all_partitions().map(|(_, keys)| keys).collect()
        };
        let now = unix_millis();
        let invocations: Vec<ScriptInvocation<'_>> = spaces
            .iter()
            .map(|keys| {
                let mut invocation = self.release_due.prepare_invoke();
                invocation
                    .key(keys.retry_schedule())
                    .key(keys.stream(Priority::High))
                    .key(keys.stream(Priority::Low))
                    .key(keys.stream(Priority::Outbound))
                    .arg(now)
                    .arg(limit)
                    .arg(keys.retry_entry_prefix());
                invocation
            })
            .collect();
        let moved: Vec<u64> = invoke_all(&self.conn, &[&self.release_due], &invocations).await?;
        Ok(moved.iter().sum())
    }

    /// The keys of the partition holding `held` (the outbound stream is fleet-wide).
    fn keys_of(&self, held: &HeldEntry) -> KeySpace {
        if self.priority == Priority::Outbound {
            self.keys.clone()
        } else {
            self.keys.partition(held.partition)
        }
    }
}
