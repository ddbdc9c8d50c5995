//! The steps every consumer (realtime and bulk) runs on a batch of entries: claim each
//! event (idempotency and last-write-wins), coalesce to the newest event per Stripe object,
//! map to Salesforce writes, and after the writes settle each event: applied, superseded,
//! retry later, or dead letter.

use std::{sync::Arc, time::Duration};

use common::time::unix_millis;
use salesforce_client::FailureClass;

use super::{
    coalesce::{coalesce, Coalesced},
    outcome::WriteResult,
};
use crate::{
    mapping::{MappedEvent, Mapping, MappingError},
    store::{
        Batch, Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, Priority, Settlement,
        StreamEntry,
    },
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

    /// Claims and maps a batch in two Redis round trips (one for the claims, one for the
    /// events settled right away). Already-applied and stale events are acknowledged here;
    /// malformed entries and mapping errors go straight to the dead-letter stream.
    pub async fn prepare(&self, batch: Batch) -> redis::RedisResult<Prepared> {
        let batch_name = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        let mut settled = Vec::new();
        for malformed in batch.malformed {
            tracing::error!(entry_id = %malformed.entry_id, problem = %malformed.problem, "Malformed stream entry; dead-lettered.");
            let field = |name: &str| malformed.fields.get(name).cloned().unwrap_or_default();
            let entry = StreamEntry {
                event_id: malformed
                    .fields
                    .get("event_id")
                    .cloned()
                    .unwrap_or_else(|| malformed.entry_id.clone()),
                event_type: field("type"),
                object_id: field("object_id"),
                created: 0,
                attempts: 0,
                received_at: 0,
                payload: field("payload"),
            };
            settled.push(dead(
                HeldEntry {
                    entry_id: malformed.entry_id,
                    entry,
                },
                Failure::new(
                    FailureClass::Permanent,
                    "MALFORMED_ENTRY",
                    malformed.problem,
                ),
            ));
        }

        let entries: Vec<StreamEntry> = batch.entries.iter().map(|h| h.entry.clone()).collect();
        let claims = self.ledger.claim_all(&entries, &batch_name).await?;
        let mut claimed = Vec::with_capacity(claims.len());
        for (held, claim) in batch.entries.into_iter().zip(claims) {
            let finish = match claim {
                Claim::Claimed => {
                    claimed.push(held);
                    continue;
                }
                Claim::AlreadyApplied => Finish::Duplicate,
                Claim::Stale => {
                    tracing::info!(event_id = %held.entry.event_id, object_id = %held.entry.object_id, "Older than what Salesforce has; skipped.");
                    Finish::Stale
                }
                Claim::Busy(owner) => {
                    tracing::debug!(event_id = %held.entry.event_id, %owner, "Another consumer is applying this event.");
                    continue;
                }
            };
            settled.push(Settlement::Finish {
                held,
                finish,
                salesforce_id: None,
            });
        }

        let Coalesced {
            winners,
            superseded,
        } = coalesce(claimed);
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
                    settled.push(Settlement::Finish {
                        held,
                        finish: Finish::Unhandled,
                        salesforce_id: None,
                    });
                }
                Err(reason) => {
                    tracing::warn!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, "Event cannot be mapped; dead-lettered.");
                    let mut held = held;
                    held.entry.attempts += 1;
                    settled.push(dead(
                        held,
                        Failure::new(FailureClass::Permanent, "MAPPING_ERROR", reason),
                    ));
                }
            }
        }
        self.record(settled).await?;
        Ok(Prepared { work, superseded })
    }

    /// Records the outcome of each written event, and of the events they superseded, in
    /// one Redis round trip.
    pub async fn settle(
        &self,
        prepared: Prepared,
        results: Vec<WriteResult>,
    ) -> redis::RedisResult<()> {
        let mut applied_ids = std::collections::HashSet::new();
        let mut settled = Vec::new();
        for ((held, _), result) in prepared.work.into_iter().zip(results) {
            match result {
                WriteResult::Applied(salesforce_id) => {
                    tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, salesforce_id = salesforce_id.as_deref().unwrap_or(""), "Event applied.");
                    applied_ids.insert(held.entry.event_id.clone());
                    settled.push(Settlement::Finish {
                        held,
                        finish: Finish::Applied,
                        salesforce_id,
                    });
                }
                WriteResult::Failed(failure) => settled.push(self.fail(held, failure)),
                WriteResult::NotAttempted => {}
            }
        }
        for (held, winner) in prepared.superseded {
            if applied_ids.contains(&winner) {
                settled.push(Settlement::Finish {
                    held,
                    finish: Finish::Superseded,
                    salesforce_id: None,
                });
            }
            // Otherwise the entry stays pending; it is reclaimed and decided again later.
        }
        self.record(settled).await
    }

    /// Writes `settled` to the ledger in one round trip and counts each outcome.
    async fn record(&self, settled: Vec<Settlement>) -> redis::RedisResult<()> {
        let outcomes: Vec<&'static str> = settled.iter().map(outcome_label).collect();
        self.ledger.settle_all(settled).await?;
        for outcome in outcomes {
            metrics::counter!(telemetry::EVENTS, "stream" => self.priority.name(), "outcome" => outcome).increment(1);
        }
        Ok(())
    }

    /// Retry later or dead-letter, by class and attempts.
    fn fail(&self, mut held: HeldEntry, failure: Failure) -> Settlement {
        held.entry.attempts += 1;
        let deferral = match failure.class {
            FailureClass::Permanent => Deferral::Dead,
            _ => match self.retry.delay_after(held.entry.attempts) {
                Some(delay) => Deferral::RetryAt(
                    unix_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
                ),
                None => Deferral::Dead,
            },
        };
        tracing::warn!(
            event_id = %held.entry.event_id,
            attempts = held.entry.attempts,
            class = %failure.class,
            code = %failure.code,
            outcome = if deferral == Deferral::Dead { "dead" } else { "retrying" },
            "Salesforce did not accept the event."
        );
        Settlement::Defer {
            held,
            deferral,
            failure,
        }
    }
}

/// A settlement sending `held` to the dead letters.
fn dead(held: HeldEntry, failure: Failure) -> Settlement {
    Settlement::Defer {
        held,
        deferral: Deferral::Dead,
        failure,
    }
}

/// The `outcome` label of the events counter for a settlement.
fn outcome_label(settlement: &Settlement) -> &'static str {
    match settlement {
        Settlement::Finish { finish, .. } => finish.label(),
        Settlement::Defer {
            deferral: Deferral::Dead,
            ..
        } => "dead",
        Settlement::Defer { .. } => "retrying",
    }
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

    #[test]
    fn every_settlement_is_counted_under_its_outcome() {
        let held = HeldEntry {
            entry_id: "1-0".into(),
            entry: StreamEntry {
                event_id: "evt_1".into(),
                event_type: "customer.updated".into(),
                object_id: "cus_1".into(),
                created: 1,
                attempts: 1,
                received_at: 0,
                payload: "{}".into(),
            },
        };
        let failure = Failure::new(FailureClass::Retryable, "X", "x");
        let retry = Settlement::Defer {
            held: held.clone(),
            deferral: Deferral::RetryAt(5),
            failure: failure.clone(),
        };
        assert_eq!(outcome_label(&retry), "retrying");
        assert_eq!(outcome_label(&dead(held.clone(), failure)), "dead");
        let stale = Settlement::Finish {
            held,
            finish: Finish::Stale,
            salesforce_id: None,
        };
        assert_eq!(outcome_label(&stale), "stale");
    }
}
