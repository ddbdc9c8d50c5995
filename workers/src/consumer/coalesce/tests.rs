use serde_json::Map;

use super::*;
use crate::mapping::{RecordTarget, RecordWrite};

fn write(sobject: &str, field: &str, value: &str, role: WriteRole) -> RecordWrite {
    RecordWrite {
        pending_lookups: Default::default(),
        sobject: sobject.into(),
        target: RecordTarget::ExternalId {
            field: field.into(),
            value: value.into(),
        },
        fields: Map::new(),
        role,
        aspect: None,
        on_dead_letter: Vec::new(),
    }
}

fn subscription(id: &str) -> RecordWrite {
    write(
        "Stripe_Subscription__c",
        "Stripe_Subscription_ID__c",
        id,
        WriteRole::Main,
    )
}

fn payment(id: &str) -> RecordWrite {
    write(
        "Payment_Transaction__c",
        "Stripe_Payment_Intent_ID__c",
        id,
        WriteRole::Main,
    )
}

/// What a lost main write becomes: a stub with only its key (the fixtures' writes carry no
/// other field, so the key is added here).
fn stub_of(mut write: RecordWrite) -> RecordWrite {
    write.role = WriteRole::ParentStub;
    write.fields.clear();
    write
}

fn candidate(event_id: &str, created: i64, writes: Vec<RecordWrite>) -> Candidate {
    let mut records: Vec<(RecordKey, RecordClaim)> = Vec::new();
    for write in writes.iter().filter(|w| w.role == WriteRole::Main) {
        let key = RecordKey::of(write);
        if !records.iter().any(|(r, _)| *r == key) {
            records.push((key, RecordClaim::Write));
        }
    }
    Candidate {
        held: HeldEntry {
            partition: 0,
            entry_id: format!("1-{event_id}"),
            entry: StreamEntry {
                event_id: event_id.into(),
                event_type: "customer.subscription.updated".into(),
                object_id: "sub_1".into(),
                created,
                attempts: 0,
                received_at: 0,
                payload: "{}".into(),
            },
        },
        mapped: MappedEvent {
            writes,
            deletions: Vec::new(),
        },
        records,
    }
}

fn work_ids(coalesced: &Coalesced) -> Vec<&str> {
    coalesced
        .work
        .iter()
        .map(|w| w.held.entry.event_id.as_str())
        .collect()
}

#[test]
fn the_newest_event_per_record_wins_whatever_the_arrival_order() {
    let coalesced = coalesce(vec![
        candidate("evt_b", 20, vec![subscription("sub_1")]),
        candidate("evt_a", 10, vec![subscription("sub_1")]),
        candidate("evt_c", 30, vec![subscription("sub_1")]),
        candidate("evt_x", 5, vec![subscription("sub_2")]),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_x", "evt_c"], "oldest first");
    let mut superseded: Vec<(&str, Vec<&String>)> = coalesced
        .superseded
        .iter()
        .map(|s| (s.held.entry.event_id.as_str(), s.winners.iter().collect()))
        .collect();
    superseded.sort();
    let evt_c = "evt_c".to_string();
    assert_eq!(
        superseded,
        vec![("evt_a", vec![&evt_c]), ("evt_b", vec![&evt_c])],
        "all by the final winner"
    );
}

#[test]
fn events_writing_different_aspects_of_one_record_both_win() {
    let customer = |aspect: Option<&str>| {
        let mut write = write(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            "cus_1",
            WriteRole::Main,
        );
        write.aspect = aspect.map(str::to_owned);
        write
    };
    // customer.created (contact data) and, a second later, customer.subscription.created
    // (the customer's subscription status): neither drops the other.
    let coalesced = coalesce(vec![
        candidate("evt_sub", 20, vec![customer(Some("subscription_status"))]),
        candidate("evt_cus", 10, vec![customer(None)]),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_cus", "evt_sub"]);
    assert!(coalesced.superseded.is_empty() && coalesced.stale.is_empty());
}

#[test]
fn an_older_event_loses_only_the_records_a_newer_one_writes() {
    // invoice.payment_failed (older) writes the subscription's status and a payment;
    // customer.subscription.deleted (newer) writes the subscription.
    let coalesced = coalesce(vec![
        candidate("evt_deleted", 20, vec![subscription("sub_1")]),
        candidate(
            "evt_invoice",
            10,
            vec![payment("pi_1"), subscription("sub_1")],
        ),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_invoice", "evt_deleted"]);
    let invoice = &coalesced.work[0];
    assert_eq!(
        invoice.mapped.writes,
        vec![stub_of(subscription("sub_1")), payment("pi_1")],
        "the lost write is a stub for the payment's lookup"
    );
    assert_eq!(
        invoice.records[1].1,
        RecordFate::SupersededBy("evt_deleted".into())
    );
    assert_eq!(coalesced.work[1].mapped.writes, vec![subscription("sub_1")]);
    assert!(coalesced.superseded.is_empty());
}

#[test]
fn ledger_stale_records_are_dropped_and_an_all_stale_event_is_stale() {
    let mut partly = candidate("evt_1", 10, vec![payment("pi_1"), subscription("sub_1")]);
    partly.records[1].1 = RecordClaim::Stale;
    let mut wholly = candidate("evt_2", 10, vec![subscription("sub_2")]);
    wholly.records[0].1 = RecordClaim::Stale;
    let coalesced = coalesce(vec![partly, wholly]);
    assert_eq!(work_ids(&coalesced), vec!["evt_1"]);
    assert_eq!(
        coalesced.work[0].mapped.writes,
        vec![stub_of(subscription("sub_1")), payment("pi_1")]
    );
    assert_eq!(coalesced.work[0].records[1].1, RecordFate::Stale);
    assert_eq!(coalesced.stale.len(), 1);
    assert_eq!(coalesced.stale[0].entry.event_id, "evt_2");
}

#[test]
fn a_stale_claim_never_wins_a_record_and_stubs_stay() {
    // evt_new's claim on sub_1 is stale (the ledger has something newer still), so it does
    // not take the record from evt_old, whose claim is current.
    let stub = write(
        "Stripe_Customer__c",
        "Stripe_Customer_ID__c",
        "cus_1",
        WriteRole::ParentStub,
    );
    let mut newer = candidate("evt_new", 30, vec![subscription("sub_1")]);
    newer.records[0].1 = RecordClaim::Stale;
    let older = candidate("evt_old", 20, vec![stub.clone(), subscription("sub_1")]);
    let coalesced = coalesce(vec![newer, older]);
    assert_eq!(work_ids(&coalesced), vec!["evt_old"]);
    assert_eq!(
        coalesced.work[0].mapped.writes,
        vec![stub, subscription("sub_1")]
    );
}

#[test]
fn in_one_second_a_creation_is_oldest_and_a_deletion_newest_whatever_their_ids() {
    let typed = |event_id: &str, event_type: &str| {
        let mut candidate = candidate(event_id, 10, vec![subscription("sub_1")]);
        candidate.held.entry.event_type = event_type.into();
        candidate
    };
    let coalesced = coalesce(vec![
        typed("evt_z", "customer.subscription.created"),
        typed("evt_a", "customer.subscription.updated"),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_a"], "the change wins");
    let coalesced = coalesce(vec![
        typed("evt_0", "customer.subscription.deleted"),
        typed("evt_z", "customer.subscription.updated"),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_0"], "the deletion wins");
    // Salesforce change events (outbound) rank the same way.
    assert!(typed("evt_1", "Contact.UPDATE")
        .held
        .entry
        .is_newer_than(&typed("evt_9", "Contact.CREATE").held.entry));
}

#[test]
fn equal_timestamps_of_one_kind_are_decided_by_event_id() {
    let coalesced = coalesce(vec![
        candidate("evt_2", 10, vec![subscription("sub_1")]),
        candidate("evt_1", 10, vec![subscription("sub_1")]),
    ]);
    assert_eq!(work_ids(&coalesced), vec!["evt_2"]);
    assert_eq!(coalesced.superseded[0].held.entry.event_id, "evt_1");
}

#[test]
fn an_event_without_records_is_work() {
    let coalesced = coalesce(vec![candidate("evt_1", 10, vec![])]);
    assert_eq!(work_ids(&coalesced), vec!["evt_1"]);
}

#[test]
fn a_lost_write_keeps_only_its_key_as_a_stub_and_a_query_write_is_dropped() {
    let mut full = subscription("sub_1");
    full.fields
        .insert("Stripe_Subscription_ID__c".into(), "sub_1".into());
    full.fields.insert("Status__c".into(), "past_due".into());
    let by_query = RecordWrite {
        pending_lookups: Default::default(),
        sobject: "Stripe_Subscription__c".into(),
        target: RecordTarget::Query {
            field: "Stripe_Checkout_Session_ID__c".into(),
            value: "cs_1".into(),
            fallback: None,
        },
        fields: Map::new(),
        role: WriteRole::Main,
        aspect: None,
        on_dead_letter: Vec::new(),
    };
    let mut older = candidate("evt_old", 10, vec![full, by_query.clone(), payment("pi_1")]);
    older.records[1].1 = RecordClaim::Stale;
    let newer = candidate("evt_new", 20, vec![subscription("sub_1")]);
    let coalesced = coalesce(vec![older, newer]);
    let writes = &coalesced.work[0].mapped.writes;
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[0].role, WriteRole::ParentStub);
    assert_eq!(
        writes[0].fields.keys().collect::<Vec<_>>(),
        vec!["Stripe_Subscription_ID__c"]
    );
    assert_eq!(writes[1], payment("pi_1"));
}
