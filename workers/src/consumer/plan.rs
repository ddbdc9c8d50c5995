//! The pure half of writing a batch: which writes go in which Collections call, and in
//! which order. No I/O here, so every rule is unit-tested on its own.
//!
//! - Writes by external id are grouped per (sObject, external id field) into rounds, so
//!   that no collection names one record twice; of two writes to one record, the earlier
//!   event's goes in an earlier round.
//! - Within a round, groups are ordered so that a group comes after the groups some event
//!   writes before it (a subscription before the transaction that looks it up).
//! - Writes by Salesforce id or by query go one by one, after the rounds.
//! - Parent stubs are deduplicated and skipped for parents known to exist.

use std::collections::HashSet;

use crate::mapping::{MappedEvent, RecordTarget, RecordWrite, WriteRole};

/// Records written by one Collections call: (sObject, external id field).
pub type Group<'w> = (&'w str, &'w str);

/// One round of Collections calls: per group, the writes to send.
pub type Round<'p, 'w> = Vec<(Group<'w>, Vec<&'p Pending<'w>>)>;

/// One write of one event.
#[derive(Debug)]
pub struct Pending<'a> {
    /// The event's index in the batch.
    pub event: usize,
    /// The write.
    pub write: &'a RecordWrite,
}

/// The calls that write a set of pending writes, in order.
#[derive(Debug, Default)]
pub struct WritePlan<'p, 'w> {
    /// Collections upserts by external id, round after round.
    pub rounds: Vec<Round<'p, 'w>>,
    /// Writes by Salesforce id or by query, one call each, after the rounds.
    pub single: Vec<&'p Pending<'w>>,
}

/// The writes of `role` of every event, in event order, each tagged with its event.
pub fn writes_of<'a>(
    events: &'a [&'a MappedEvent],
    role: WriteRole,
) -> impl Iterator<Item = Pending<'a>> + 'a {
    events.iter().enumerate().flat_map(move |(event, mapped)| {
        mapped
            .writes
            .iter()
            .filter(move |w| w.role == role)
            .map(move |write| Pending { event, write })
    })
}

/// The parent stubs worth writing: one per parent record, and none for a parent
/// `is_known` says exists.
pub fn stubs_to_write<'a>(
    events: &'a [&'a MappedEvent],
    is_known: impl Fn(&str, &str) -> bool,
) -> Vec<Pending<'a>> {
    let mut seen = HashSet::new();
    writes_of(events, WriteRole::ParentStub)
        .filter(|stub| seen.insert((stub.write.sobject.as_str(), external_value(stub.write))))
        .filter(|stub| record_key(stub.write).is_none_or(|(sobject, id)| !is_known(sobject, id)))
        .collect()
}

/// Plans `pending`, leaving out the writes of events `has_failed` says already failed.
pub fn plan<'p, 'w>(
    pending: &'p [Pending<'w>],
    has_failed: impl Fn(usize) -> bool,
) -> WritePlan<'p, 'w> {
    let mut plan = WritePlan::default();
    for write in pending.iter().filter(|w| !has_failed(w.event)) {
        let RecordTarget::ExternalId { field, value } = &write.write.target else {
            plan.single.push(write);
            continue;
        };
        let group = (write.write.sobject.as_str(), field.as_str());
        // The first round whose collection for this group does not name the record yet.
        let free = plan.rounds.iter().position(|round| {
            !round.iter().any(|(g, members)| {
                *g == group
                    && members
                        .iter()
                        .any(|m| external_value(m.write) == Some(value.as_str()))
            })
        });
        let index = free.unwrap_or_else(|| {
            plan.rounds.push(Vec::new());
            plan.rounds.len() - 1
        });
        let round = &mut plan.rounds[index];
        match round.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push(write),
            None => round.push((group, vec![write])),
        }
    }
    let precedence = group_precedence(pending);
    for round in &mut plan.rounds {
        order_groups(round, &precedence);
    }
    plan
}

/// Pairs (earlier group, later group) from the order of each event's writes.
fn group_precedence<'w>(pending: &[Pending<'w>]) -> Vec<(Group<'w>, Group<'w>)> {
    let mut pairs = Vec::new();
    let mut previous: Option<(usize, Group<'w>)> = None;
    for write in pending {
        let RecordTarget::ExternalId { field, .. } = &write.write.target else {
            continue;
        };
        let group = (write.write.sobject.as_str(), field.as_str());
        if let Some((event, earlier)) = previous {
            if event == write.event && earlier != group && !pairs.contains(&(earlier, group)) {
                pairs.push((earlier, group));
            }
        }
        previous = Some((write.event, group));
    }
    pairs
}

/// Orders a round's groups so that every group comes after the groups some event writes
/// before it (a topological order; on a cycle the remaining groups keep their order).
fn order_groups(round: &mut Round<'_, '_>, precedence: &[(Group<'_>, Group<'_>)]) {
    let mut ordered: Round<'_, '_> = Vec::with_capacity(round.len());
    while !round.is_empty() {
        let ready = round
            .iter()
            .position(|(group, _)| {
                !precedence
                    .iter()
                    .any(|(before, after)| after == group && round.iter().any(|(g, _)| g == before))
            })
            .unwrap_or(0);
        ordered.push(round.remove(ready));
    }
    *round = ordered;
}

/// (sObject, external id) of a write by external id.
pub fn record_key(write: &RecordWrite) -> Option<(&str, &str)> {
    external_value(write).map(|value| (write.sobject.as_str(), value))
}

/// The external id a write targets, if it targets one.
fn external_value(write: &RecordWrite) -> Option<&str> {
    match &write.target {
        RecordTarget::ExternalId { value, .. } => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    fn upsert(sobject: &str, id: &str, role: WriteRole) -> RecordWrite {
        RecordWrite {
            sobject: sobject.into(),
            target: RecordTarget::ExternalId {
                field: "Ext__c".into(),
                value: id.into(),
            },
            fields: Map::new(),
            role,
            aspect: None,
            pending_lookups: Vec::new(),
        }
    }

    fn event(writes: Vec<RecordWrite>) -> MappedEvent {
        MappedEvent {
            writes,
            deletions: Vec::new(),
        }
    }

    fn names<'p>(plan: &WritePlan<'p, '_>) -> Vec<Vec<(String, Vec<usize>)>> {
        plan.rounds
            .iter()
            .map(|round| {
                round
                    .iter()
                    .map(|((sobject, _), members)| {
                        (
                            (*sobject).to_owned(),
                            members.iter().map(|m| m.event).collect(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn two_writes_to_one_record_go_in_successive_rounds_in_event_order() {
        let events = [
            event(vec![upsert("Sub__c", "sub_1", WriteRole::Main)]),
            event(vec![upsert("Sub__c", "sub_2", WriteRole::Main)]),
            event(vec![upsert("Sub__c", "sub_1", WriteRole::Main)]),
        ];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let pending: Vec<Pending<'_>> = writes_of(&refs, WriteRole::Main).collect();
        let plan = plan(&pending, |_| false);
        assert_eq!(
            names(&plan),
            vec![
                vec![("Sub__c".to_owned(), vec![0, 1])],
                vec![("Sub__c".to_owned(), vec![2])]
            ]
        );
    }

    #[test]
    fn a_group_an_event_writes_first_is_sent_first() {
        // The payment event writes the subscription, then the transaction; the transaction
        // group was seen first in the batch but must wait for the subscription.
        let events = [
            event(vec![upsert("Txn__c", "pi_0", WriteRole::Main)]),
            event(vec![
                upsert("Sub__c", "sub_1", WriteRole::Main),
                upsert("Txn__c", "pi_1", WriteRole::Main),
            ]),
        ];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let pending: Vec<Pending<'_>> = writes_of(&refs, WriteRole::Main).collect();
        let plan = plan(&pending, |_| false);
        assert_eq!(
            names(&plan),
            vec![vec![
                ("Sub__c".to_owned(), vec![1]),
                ("Txn__c".to_owned(), vec![0, 1])
            ]]
        );
    }

    #[test]
    fn failed_events_and_non_external_writes_are_kept_out_of_the_rounds() {
        let mut by_id = upsert("Sub__c", "x", WriteRole::Main);
        by_id.target = RecordTarget::SalesforceId("a01".into());
        let events = [
            event(vec![upsert("Sub__c", "sub_1", WriteRole::Main)]),
            event(vec![by_id]),
        ];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let pending: Vec<Pending<'_>> = writes_of(&refs, WriteRole::Main).collect();
        let plan = plan(&pending, |event| event == 0);
        assert!(plan.rounds.is_empty());
        assert_eq!(
            plan.single.iter().map(|p| p.event).collect::<Vec<_>>(),
            vec![1]
        );
    }

    #[test]
    fn stubs_are_written_once_and_only_for_parents_not_known() {
        let events = [
            event(vec![upsert("Cust__c", "cus_1", WriteRole::ParentStub)]),
            event(vec![upsert("Cust__c", "cus_1", WriteRole::ParentStub)]),
            event(vec![upsert("Cust__c", "cus_2", WriteRole::ParentStub)]),
        ];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let stubs = stubs_to_write(&refs, |_, id| id == "cus_2");
        assert_eq!(stubs.iter().map(|s| s.event).collect::<Vec<_>>(), vec![0]);
    }
}
