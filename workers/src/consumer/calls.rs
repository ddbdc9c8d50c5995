//! The pure half of sending a batch's Collections upserts: which upserts there are (each
//! round's groups, split at 200 records) and how they share Salesforce calls. No I/O here.
//!
//! Several upserts go in one Composite request (docs/salesforce-api.md §4.4), one API call
//! and one round trip: parent stubs and the children that name them, instead of one call
//! each. A Composite request carries at most [`COMPOSITE_COLLECTIONS_LIMIT`] Collections
//! subrequests, so a batch that needs more is sent as several requests, one after the
//! other. Within a request the upserts keep their order (`collateSubrequests` false), so a
//! parent stub is written before the child that looks it up, and of two writes to one record
//! the earlier event's first.

use salesforce_client::{COLLECTION_LIMIT, COMPOSITE_COLLECTIONS_LIMIT};

use super::plan::{Group, Pending, WritePlan};

/// One Collections upsert: a group (sObject, external id field) and at most 200 writes.
#[derive(Debug)]
pub struct Upsert<'a, 'p, 'w> {
    /// The sObject and external id field.
    pub group: Group<'w>,
    /// The writes, in order.
    pub members: &'a [&'p Pending<'w>],
}

/// The upserts of `plans`, in order: plan after plan, round after round, group after group,
/// each group split into upserts of at most [`COLLECTION_LIMIT`] records.
pub fn upserts<'a, 'p, 'w>(plans: &[&'a WritePlan<'p, 'w>]) -> Vec<Upsert<'a, 'p, 'w>> {
    plans
        .iter()
        .flat_map(|plan| plan.rounds.iter())
        .flat_map(|round| round.iter())
        .flat_map(|(group, members)| {
            members.chunks(COLLECTION_LIMIT).map(move |members| Upsert {
                group: *group,
                members,
            })
        })
        .collect()
}

/// The Salesforce calls that send `upserts` in order: consecutive upserts share a call, at
/// most [`COMPOSITE_COLLECTIONS_LIMIT`] per call.
pub fn calls<T>(upserts: Vec<T>) -> Vec<Vec<T>> {
    let mut calls: Vec<Vec<T>> = Vec::new();
    for upsert in upserts {
        match calls.last_mut() {
            Some(call) if call.len() < COMPOSITE_COLLECTIONS_LIMIT => call.push(upsert),
            _ => calls.push(vec![upsert]),
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::consumer::plan::{plan, writes_of};
    use crate::mapping::{MappedEvent, RecordTarget, RecordWrite, WriteRole};

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
            on_dead_letter: Vec::new(),
            pending_lookups: Vec::new(),
        }
    }

    fn payment(i: usize) -> MappedEvent {
        MappedEvent {
            writes: vec![
                upsert("Cust__c", &format!("cus_{i}"), WriteRole::ParentStub),
                upsert("Txn__c", &format!("pi_{i}"), WriteRole::Main),
            ],
            deletions: Vec::new(),
        }
    }

    fn shape(upserts: &[Upsert<'_, '_, '_>]) -> Vec<(String, usize)> {
        upserts
            .iter()
            .map(|u| (u.group.0.to_owned(), u.members.len()))
            .collect()
    }

    #[test]
    fn stubs_and_children_share_one_call_stubs_first() {
        let events: Vec<MappedEvent> = (0..3).map(payment).collect();
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let stubs: Vec<Pending<'_>> = writes_of(&refs, WriteRole::ParentStub).collect();
        let mains: Vec<Pending<'_>> = writes_of(&refs, WriteRole::Main).collect();
        let (stub_plan, main_plan) = (plan(&stubs, |_| false), plan(&mains, |_| false));
        let upserts = upserts(&[&stub_plan, &main_plan]);
        assert_eq!(
            shape(&upserts),
            vec![("Cust__c".to_owned(), 3), ("Txn__c".to_owned(), 3)]
        );
        let calls = calls(upserts);
        assert_eq!(calls.len(), 1, "one Salesforce call for the whole batch");
    }

    #[test]
    fn groups_over_200_records_are_split_and_calls_hold_at_most_five_upserts() {
        let events: Vec<MappedEvent> = (0..450).map(payment).collect();
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let stubs: Vec<Pending<'_>> = writes_of(&refs, WriteRole::ParentStub).collect();
        let mains: Vec<Pending<'_>> = writes_of(&refs, WriteRole::Main).collect();
        let (stub_plan, main_plan) = (plan(&stubs, |_| false), plan(&mains, |_| false));
        let upserts = upserts(&[&stub_plan, &main_plan]);
        assert_eq!(
            shape(&upserts),
            vec![
                ("Cust__c".to_owned(), 200),
                ("Cust__c".to_owned(), 200),
                ("Cust__c".to_owned(), 50),
                ("Txn__c".to_owned(), 200),
                ("Txn__c".to_owned(), 200),
                ("Txn__c".to_owned(), 50),
            ]
        );
        let first_of_second = upserts[5].members[0].event;
        let calls = calls(upserts);
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 1]);
        assert_eq!(calls[1][0].members[0].event, first_of_second, "order kept");
    }

    #[test]
    fn nothing_to_write_is_no_call() {
        assert!(calls(Vec::<u8>::new()).is_empty());
        assert_eq!(calls((0..11).collect()).len(), 3);
    }
}
