//! Newest wins within a batch, record by record. Of the claimed events that write one
//! Salesforce record, only the newest writes it; the others' writes to that record are
//! dropped (superseded), and their writes to other records still go. Pure, so the rule is
//! tested on its own.
//!
//! Example: `customer.subscription.deleted` (newer) and `invoice.payment_failed` (older) of
//! one subscription in one batch both write the `Stripe_Subscription__c`: only the deletion's
//! write goes; the invoice event's payment transaction is still written, after a stub of the
//! subscription it looks up.

use std::collections::{BTreeSet, HashMap};

use crate::{
    mapping::{MappedEvent, RecordTarget, RecordWrite, WriteRole},
    store::{HeldEntry, RecordClaim, RecordKey, StreamEntry},
};

/// A claimed event: its entry, its writes, and the ledger's verdict on each record it writes.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The stream entry.
    pub held: HeldEntry,
    /// Its writes, as mapped.
    pub mapped: MappedEvent,
    /// The records its main writes go to, each once, with the claim's verdict.
    pub records: Vec<(RecordKey, RecordClaim)>,
}

/// What becomes of one record of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFate {
    /// The event writes it.
    Write,
    /// A newer event was already applied to it (the ledger said so).
    Stale,
    /// A newer event of the same batch writes it: this event id.
    SupersededBy(String),
}

/// An event with writes to make.
#[derive(Debug, Clone)]
pub struct Work {
    /// The stream entry.
    pub held: HeldEntry,
    /// Its writes, without the main writes to records it lost.
    pub mapped: MappedEvent,
    /// Each record it claimed and its fate.
    pub records: Vec<(RecordKey, RecordFate)>,
}

/// An event all of whose records a newer event of the batch writes.
#[derive(Debug, Clone)]
pub struct Superseded {
    /// The stream entry.
    pub held: HeldEntry,
    /// Its records.
    pub records: Vec<RecordKey>,
    /// The events that write them: once all are applied, this one is settled as superseded.
    pub winners: BTreeSet<String>,
}

/// A batch's claimed events, sorted by what happens to them.
#[derive(Debug, Default)]
pub struct Coalesced {
    /// Events with writes to make, oldest first (an earlier event's writes go first).
    pub work: Vec<Work>,
    /// Events whose every record goes to a newer event of the batch.
    pub superseded: Vec<Superseded>,
    /// Events whose every record already holds a newer event.
    pub stale: Vec<HeldEntry>,
}

/// Decides, per record, which claimed event writes it: the newest (by `created`, then
/// [`StreamEntry::order_in_second`]).
pub fn coalesce(candidates: Vec<Candidate>) -> Coalesced {
    let mut newest: HashMap<&RecordKey, &StreamEntry> = HashMap::new();
    for candidate in &candidates {
        for (record, claim) in &candidate.records {
            if *claim == RecordClaim::Stale {
                continue;
            }
            let entry = &candidate.held.entry;
            let current = newest.entry(record).or_insert(entry);
            if entry.is_newer_than(current) {
                *current = entry;
            }
        }
    }
    let fates: Vec<Vec<(RecordKey, RecordFate)>> = candidates
        .iter()
        .map(|candidate| {
            let own = &candidate.held.entry.event_id;
            candidate
                .records
                .iter()
                .map(|(record, claim)| {
                    let fate = match (claim, newest.get(record)) {
                        (RecordClaim::Stale, _) => RecordFate::Stale,
                        (RecordClaim::Write, Some(winner)) if winner.event_id != *own => {
                            RecordFate::SupersededBy(winner.event_id.clone())
                        }
                        (RecordClaim::Write, _) => RecordFate::Write,
                    };
                    (record.clone(), fate)
                })
                .collect()
        })
        .collect();

    let mut coalesced = Coalesced::default();
    for (candidate, records) in candidates.into_iter().zip(fates) {
        let writes_any = records.iter().any(|(_, fate)| *fate == RecordFate::Write);
        if writes_any || records.is_empty() {
            coalesced.work.push(Work {
                mapped: without_lost_writes(candidate.mapped, &records),
                held: candidate.held,
                records,
            });
            continue;
        }
        let winners: BTreeSet<String> = records
            .iter()
            .filter_map(|(_, fate)| match fate {
                RecordFate::SupersededBy(winner) => Some(winner.clone()),
                _ => None,
            })
            .collect();
        if winners.is_empty() {
            coalesced.stale.push(candidate.held);
        } else {
            coalesced.superseded.push(Superseded {
                held: candidate.held,
                records: records.into_iter().map(|(record, _)| record).collect(),
                winners,
            });
        }
    }
    coalesced
        .work
        .sort_by_cached_key(|work| (work.held.entry.created, work.held.entry.order_in_second()));
    coalesced
}

/// The event's writes without its main writes to records it does not write. Such a write
/// becomes a parent stub when the record is found by external id: the event's other writes
/// may look the record up (an invoice's transaction, its subscription), and the stub makes
/// sure it exists whatever order the batch's writes go in. A stub carries only the key, so it
/// changes nothing in a record that exists.
fn without_lost_writes(
    mut mapped: MappedEvent,
    records: &[(RecordKey, RecordFate)],
) -> MappedEvent {
    let writes_it = |write: &RecordWrite| {
        records
            .iter()
            .any(|(record, fate)| *fate == RecordFate::Write && *record == RecordKey::of(write))
    };
    let (kept, lost): (Vec<RecordWrite>, Vec<RecordWrite>) = mapped
        .writes
        .into_iter()
        .partition(|write| write.role == WriteRole::ParentStub || writes_it(write));
    let mut stubs: Vec<RecordWrite> = lost.into_iter().filter_map(as_stub).collect();
    stubs.retain(|stub| {
        !kept
            .iter()
            .any(|write| write.role == WriteRole::ParentStub && write.target == stub.target)
    });
    stubs.extend(kept);
    mapped.writes = stubs;
    mapped
}

/// A parent stub of the record `write` goes to, when it is found by external id.
fn as_stub(write: RecordWrite) -> Option<RecordWrite> {
    let RecordTarget::ExternalId { field, .. } = &write.target else {
        return None;
    };
    let fields = write
        .fields
        .iter()
        .filter(|(name, _)| *name == field)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Some(RecordWrite {
        fields,
        role: WriteRole::ParentStub,
        ..write
    })
}

#[cfg(test)]
mod tests;
