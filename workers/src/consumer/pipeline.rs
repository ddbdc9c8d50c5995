//! The steps every consumer (realtime and bulk) runs on a batch of entries: claim each
//! event (idempotency and last-write-wins), coalesce to the newest event per Stripe object,
//! map to Salesforce writes, and after the writes settle each event: applied, superseded,
//! retry later, or dead letter.

use std::sync::Arc;

use common::time::unix_millis;
use salesforce_client::FailureClass;

use super::{
    coalesce::{coalesce, Candidate, Coalesced, RecordFate, Superseded},
    outcome::WriteResult,
    retry::RetrySchedule,
    signals::SettledSignals,
};
use crate::{
    mapping::{MappedEvent, Mapping, MappingError, RecordWrite, WriteRole},
    store::{
        Batch, Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, Priority, RecordKey,
        RecordOutcome, Settlement,
    },
};

/// Events ready to be written, and what the batch settles once they are.
#[derive(Default)]
pub struct Prepared {
    /// The name the batch's claims carry.
    batch: String,
    /// The events with writes to make, oldest first, each without its writes to records a
    /// newer event holds.
    pub work: Vec<(HeldEntry, MappedEvent)>,
    /// For each event of `work`, the records it claimed and their fate.
    fates: Vec<Vec<(RecordKey, RecordFate)>>,
    /// Events whose every record a newer event of the batch writes: settled as superseded
    /// once those events are applied.
    superseded: Vec<Superseded>,
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
            settled.push(malformed.into_dead_letter());
        }

        // Map first: the claims cover the records each event writes.
        let mut mapped_events = Vec::with_capacity(batch.entries.len());
        for held in batch.entries {
            match self.map(&held) {
                Ok(Some(mapped)) => {
                    let records = records_of(&mapped);
                    mapped_events.push((held, mapped, records));
                }
                Ok(None) => {
                    // Not an error of the event: the mapping has no rule for its type.
                    tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, "No mapping rule for this type; acknowledged.");
                    settled.push(finish(held, Finish::Unhandled, Vec::new()));
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

        let asks: Vec<(&HeldEntry, &[RecordKey])> = mapped_events
            .iter()
            .map(|(held, _, records)| (held, records.as_slice()))
            .collect();
        let claims = self.ledger.claim_all(&asks, &batch_name).await?;
        let mut candidates = Vec::with_capacity(claims.len());
        for ((held, mapped, records), claim) in mapped_events.into_iter().zip(claims) {
            match claim {
                Claim::Claimed(verdicts) => candidates.push(Candidate {
                    held,
                    mapped,
                    records: records.into_iter().zip(verdicts).collect(),
                }),
                Claim::AlreadyApplied => {
                    settled.push(finish(held, Finish::Duplicate, Vec::new()));
                }
                Claim::Busy(owner) => {
                    tracing::debug!(event_id = %held.entry.event_id, %owner, "Another consumer is writing a record of this event.");
                }
            }
        }

        let Coalesced {
            work,
            superseded,
            stale,
        } = coalesce(candidates);
        for held in stale {
            tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, "Every record it writes holds a newer event; skipped.");
            settled.push(finish(held, Finish::Stale, Vec::new()));
        }
        self.record(&batch_name, settled).await?;
        let (work, fates) = work
            .into_iter()
            .map(|work| ((work.held, work.mapped), work.records))
            .unzip();
        Ok(Prepared {
            batch: batch_name,
            work,
            fates,
            superseded,
        })
    }

    /// The event's writes, `None` when the mapping has no rule for its type, or why it
    /// cannot be mapped.
    fn map(&self, held: &HeldEntry) -> Result<Option<MappedEvent>, String> {
        let event = serde_json::from_str(&held.entry.payload)
            .map_err(|e| format!("the payload is not JSON: {e}"))?;
        match self.mapping.map_event(&event) {
            Err(MappingError::UnhandledType { .. }) => Ok(None),
            other => other.map(Some).map_err(|e| e.to_string()),
        }
    }

    /// Records the outcome of each written event, and of the events they superseded, in
    /// one Redis round trip. Returns the writes that mark the records of dead-lettered
    /// events as failed (the mapping's `on_dead_letter`), for the caller to send once the
    /// dead letters are safely recorded.
    pub async fn settle(
        &self,
        prepared: Prepared,
        results: Vec<WriteResult>,
    ) -> redis::RedisResult<Vec<MappedEvent>> {
        let Prepared {
            batch,
            work,
            fates,
            superseded,
        } = prepared;
        let mut finished_winners = std::collections::HashSet::new();
        let mut settled = Vec::new();
        let mut marks = Vec::new();
        for (((held, mapped), records), result) in work.into_iter().zip(fates).zip(results) {
            match result {
                WriteResult::Applied {
                    id: salesforce_id,
                    rejected,
                } => {
                    let records: Vec<(RecordKey, RecordOutcome)> = records
                        .into_iter()
                        .map(|(record, fate)| {
                            let outcome = match fate {
                                RecordFate::Write if rejected.contains(&record) => {
                                    RecordOutcome::Rejected
                                }
                                RecordFate::Write => RecordOutcome::Written,
                                RecordFate::Stale | RecordFate::SupersededBy(_) => {
                                    RecordOutcome::Superseded
                                }
                            };
                            (record, outcome)
                        })
                        .collect();
                    // A winner that is done lets the events it superseded be settled, whether it
                    // wrote its records or found newer events there.
                    finished_winners.insert(held.entry.event_id.clone());
                    // Nothing written: every record it claimed holds a newer event.
                    let finish = if !records.is_empty()
                        && records
                            .iter()
                            .all(|(_, outcome)| *outcome != RecordOutcome::Written)
                    {
                        Finish::Superseded
                    } else {
                        Finish::Applied
                    };
                    tracing::info!(event_id = %held.entry.event_id, event_type = %held.entry.event_type, salesforce_id = salesforce_id.as_deref().unwrap_or(""), superseded_writes = records.iter().filter(|(_, o)| *o != RecordOutcome::Written).count(), outcome = finish.label(), "Event settled.");
                    settled.push(Settlement::Finish {
                        held,
                        finish,
                        salesforce_id,
                        records,
                    });
                }
                WriteResult::Failed(failure) => {
                    let claimed = records
                        .into_iter()
                        .filter(|(_, fate)| *fate == RecordFate::Write)
                        .map(|(record, _)| record)
                        .collect();
                    let settlement = self.fail(held, failure, claimed);
                    if let Settlement::Defer {
                        deferral: Deferral::Dead,
                        failure,
                        ..
                    } = &settlement
                    {
                        let error = format!("{}: {}", failure.code, failure.message);
                        marks.extend(dead_letter_marks(&mapped, &error));
                    }
                    settled.push(settlement);
                }
                WriteResult::NotAttempted => {}
            }
        }
        for loser in superseded {
            if loser
                .winners
                .iter()
                .all(|winner| finished_winners.contains(winner))
            {
                let records = loser
                    .records
                    .into_iter()
                    .map(|record| (record, RecordOutcome::Superseded))
                    .collect();
                settled.push(finish(loser.held, Finish::Superseded, records));
            }
            // Otherwise the entry stays pending; it is reclaimed and decided again later.
        }
        self.record(&batch, settled).await?;
        Ok(marks)
    }

    /// Writes `settled` to the ledger in one round trip, then counts each outcome and
    /// records the sync lag of the applied events.
    async fn record(&self, batch: &str, settled: Vec<Settlement>) -> redis::RedisResult<()> {
        if settled.is_empty() {
            return Ok(());
        }
        let signals = SettledSignals::of(self.priority, &settled);
        self.ledger.settle_all(batch, settled).await?;
        signals.publish(unix_millis());
        Ok(())
    }

    /// Retry later or dead-letter, by class and attempts.
    fn fail(&self, mut held: HeldEntry, failure: Failure, records: Vec<RecordKey>) -> Settlement {
        held.entry.attempts += 1;
        let deferral = self
            .retry
            .deferral(failure.class, held.entry.attempts, unix_millis());
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
            records,
        }
    }
}

/// The writes marking a dead-lettered event's records failed, as one event (`None`
/// when its mapping names no `on_dead_letter` fields).
fn dead_letter_marks(mapped: &MappedEvent, error: &str) -> Option<MappedEvent> {
    let writes: Vec<RecordWrite> = mapped
        .writes
        .iter()
        .filter_map(|write| write.dead_letter_mark(error))
        .collect();
    (!writes.is_empty()).then_some(MappedEvent {
        writes,
        deletions: Vec::new(),
    })
}

/// The records an event's main writes go to, each once, in write order.
fn records_of(mapped: &MappedEvent) -> Vec<RecordKey> {
    let mut records: Vec<RecordKey> = Vec::new();
    for write in mapped.writes.iter().filter(|w| w.role == WriteRole::Main) {
        let record = RecordKey::of(write);
        if !records.contains(&record) {
            records.push(record);
        }
    }
    records
}

/// A settlement finishing `held`.
fn finish(held: HeldEntry, finish: Finish, records: Vec<(RecordKey, RecordOutcome)>) -> Settlement {
    Settlement::Finish {
        held,
        finish,
        salesforce_id: None,
        records,
    }
}

/// A settlement sending `held`, which claimed nothing, to the dead letters.
fn dead(held: HeldEntry, failure: Failure) -> Settlement {
    Settlement::Defer {
        held,
        deferral: Deferral::Dead,
        failure,
        records: Vec::new(),
    }
}

/// The `outcome` label of the events counter for a settlement.
pub(super) fn outcome_label(settlement: &Settlement) -> &'static str {
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
    use crate::store::StreamEntry;

    #[test]
    fn every_settlement_is_counted_under_its_outcome() {
        let held = HeldEntry {
            partition: 0,
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
            records: Vec::new(),
        };
        assert_eq!(outcome_label(&retry), "retrying");
        assert_eq!(outcome_label(&dead(held.clone(), failure)), "dead");
        let stale = finish(held, Finish::Stale, Vec::new());
        assert_eq!(outcome_label(&stale), "stale");
    }
}
