//! The steps every consumer (realtime and bulk) runs on a batch of entries: claim each
//! event (idempotency and last-write-wins), coalesce to the newest event per Stripe object,
//! map to Salesforce writes, and after the writes settle each event: applied, superseded,
//! retry later, or dead letter.

use std::{collections::HashMap, sync::Arc, time::Duration};

use common::time::unix_millis;
use salesforce_client::FailureClass;

use super::{reader::Batch, writer::WriteResult};
use crate::{
    mapping::{MappedEvent, Mapping, MappingError},
    store::{Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, Priority, StreamEntry},
    telemetry,
};

/// Delays before the 1st, 2nd, ... retry; after the last one the event is dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// Parses `2,4,8,16,32` (seconds).
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(|part| {
                part.trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("not a number of seconds: {part:?}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { delays })
    }

    /// The delay before the next attempt, given the attempts made so far (this one
    /// included), or None when the retries are used up.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        self.delays
            .get(usize::try_from(attempts).ok()?.checked_sub(1)?)
            .copied()
    }
}

/// Events ready to be written, and what the batch settled without writing.
#[derive(Default)]
pub struct Prepared {
    /// The winners: claimed, newest for their object, mapped.
    pub work: Vec<(HeldEntry, MappedEvent)>,
    /// Older events of the same objects, settled once their winner is applied.
    pub superseded: Vec<(HeldEntry, String)>,
}

/// Claim → coalesce → map, and settle.
#[derive(Clone)]
pub struct Pipeline {
    ledger: EventLedger,
    mapping: Arc<Mapping>,
    retry: RetrySchedule,
    priority: Priority,
    batches: Arc<std::sync::atomic::AtomicU64>,
}

impl Pipeline {
    /// A pipeline for one stream.
    pub fn new(
        ledger: EventLedger,
        mapping: Arc<Mapping>,
        retry: RetrySchedule,
        priority: Priority,
    ) -> Self {
        Self {
            ledger,
            mapping,
            retry,
            priority,
            batches: Arc::default(),
        }
    }

    fn count(&self, outcome: &'static str, n: usize) {
        metrics::counter!(telemetry::EVENTS, "stream" => self.priority.name(), "outcome" => outcome).increment(n as u64);
    }

    /// Claims and maps a batch. Already-applied and stale events are acknowledged here;
    /// mapping errors go straight to the dead-letter stream.
    pub async fn prepare(&self, batch: Batch) -> redis::RedisResult<Prepared> {
        let batch_name = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        for malformed in batch.malformed {
            tracing::error!(entry_id = %malformed.entry_id, problem = %malformed.problem, "Malformed stream entry; dead-lettered.");
            let entry = StreamEntry {
                event_id: malformed
                    .fields
                    .get("event_id")
                    .cloned()
                    .unwrap_or_else(|| malformed.entry_id.clone()),
                event_type: malformed.fields.get("type").cloned().unwrap_or_default(),
                object_id: malformed
                    .fields
                    .get("object_id")
                    .cloned()
                    .unwrap_or_default(),
                created: 0,
                attempts: 0,
                received_at: 0,
                payload: malformed.fields.get("payload").cloned().unwrap_or_default(),
            };
            let held = HeldEntry {
                entry_id: malformed.entry_id,
                entry,
            };
            let failure = Failure {
                class: "permanent".into(),
                code: "MALFORMED_ENTRY".into(),
                message: malformed.problem,
            };
            self.ledger.defer(&held, &Deferral::Dead, &failure).await?;
            self.count("dead", 1);
        }

        // Claim each event; keep the newest claimed one per Stripe object.
        let mut newest: HashMap<String, HeldEntry> = HashMap::new();
        let mut superseded = Vec::new();
        for held in batch.entries {
            match self.ledger.claim(&held.entry, &batch_name).await? {
                Claim::Claimed => {}
                Claim::AlreadyApplied => {
                    self.ledger.finish(&held, Finish::Duplicate, None).await?;
                    self.count("duplicate", 1);
                    continue;
                }
                Claim::Stale => {
                    self.ledger.finish(&held, Finish::Stale, None).await?;
                    self.count("stale", 1);
                    tracing::info!(event_id = %held.entry.event_id, object_id = %held.entry.object_id, "Older than what Salesforce has; skipped.");
                    continue;
                }
                Claim::Busy(owner) => {
                    tracing::debug!(event_id = %held.entry.event_id, %owner, "Another consumer is applying this event.");
                    continue;
                }
            }
            let key = held.entry.object_id.clone();
            match newest.remove(&key) {
                None => {
                    newest.insert(key, held);
                }
                Some(current) => {
                    let (winner, loser) = if is_newer(&held.entry, &current.entry) {
                        (held, current)
                    } else {
                        (current, held)
                    };
                    superseded.push((loser, winner.entry.event_id.clone()));
                    newest.insert(key, winner);
                }
            }
        }

        let mut winners: Vec<HeldEntry> = newest.into_values().collect();
        winners.sort_by(|a, b| {
            (a.entry.created, &a.entry.event_id).cmp(&(b.entry.created, &b.entry.event_id))
        });
        let mut work = Vec::with_capacity(winners.len());
        for held in winners {
            let mapped = serde_json::from_str(&held.entry.payload)
                .map_err(|e| format!("the payload is not JSON: {e}"))
                .and_then(|event| match self.mapping.map_event(&event) {
                    Err(MappingError::UnhandledType { .. }) => Ok(None),
                    other => other.map(Some).map_err(|e| e.to_string()),
                });
            match mapped {
                Ok(Some(mapped)) => work.push((held, mapped)),
                Ok(None) => {
                    // Not an error of the event: the mapping has no rule for its type.
                    tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, "No mapping rule for this type; acknowledged.");
                    self.ledger.finish(&held, Finish::Unhandled, None).await?;
                    self.count("unhandled", 1);
                }
                Err(reason) => {
                    tracing::warn!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, "Event cannot be mapped; dead-lettered.");
                    let failure = Failure {
                        class: "permanent".into(),
                        code: "MAPPING_ERROR".into(),
                        message: reason,
                    };
                    let mut held = held;
                    held.entry.attempts += 1;
                    self.ledger.defer(&held, &Deferral::Dead, &failure).await?;
                    self.count("dead", 1);
                }
            }
        }
        Ok(Prepared { work, superseded })
    }

    /// Records the outcome of each written event, and of the events they superseded.
    pub async fn settle(
        &self,
        prepared: Prepared,
        results: Vec<WriteResult>,
    ) -> redis::RedisResult<()> {
        let mut applied_ids = std::collections::HashSet::new();
        for ((held, _), result) in prepared.work.into_iter().zip(results) {
            match result {
                WriteResult::Applied(salesforce_id) => {
                    self.ledger
                        .finish(&held, Finish::Applied, salesforce_id.as_deref())
                        .await?;
                    self.count("applied", 1);
                    applied_ids.insert(held.entry.event_id.clone());
                    tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, salesforce_id = salesforce_id.as_deref().unwrap_or(""), "Event applied.");
                }
                WriteResult::Failed(failure, class) => self.fail(held, failure, class).await?,
                WriteResult::NotAttempted => {}
            }
        }
        for (held, winner) in prepared.superseded {
            if applied_ids.contains(&winner) {
                self.ledger.finish(&held, Finish::Superseded, None).await?;
                self.count("superseded", 1);
            }
            // Otherwise the entry stays pending; it is reclaimed and decided again later.
        }
        Ok(())
    }

    /// Retry later or dead-letter, by class and attempts.
    async fn fail(
        &self,
        mut held: HeldEntry,
        failure: Failure,
        class: FailureClass,
    ) -> redis::RedisResult<()> {
        held.entry.attempts += 1;
        let deferral = match class {
            FailureClass::Permanent => Deferral::Dead,
            _ => match self.retry.delay_after(held.entry.attempts) {
                Some(delay) => Deferral::RetryAt(
                    unix_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
                ),
                None => Deferral::Dead,
            },
        };
        let outcome = if deferral == Deferral::Dead {
            "dead"
        } else {
            "retrying"
        };
        tracing::warn!(
            event_id = %held.entry.event_id,
            attempts = held.entry.attempts,
            class = %class,
            code = %failure.code,
            outcome,
            "Salesforce did not accept the event."
        );
        self.ledger.defer(&held, &deferral, &failure).await?;
        self.count(outcome, 1);
        Ok(())
    }
}

/// Newest wins: by `created`, ties broken by event id.
fn is_newer(a: &StreamEntry, b: &StreamEntry) -> bool {
    (a.created, &a.event_id) > (b.created, &b.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedule_runs_out() {
        let schedule = RetrySchedule::parse("2, 4,8").unwrap();
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(2)));
        assert_eq!(schedule.delay_after(3), Some(Duration::from_secs(8)));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.delay_after(0), None);
        assert!(RetrySchedule::parse("2,x").is_err());
    }
}
