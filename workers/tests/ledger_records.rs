//! The event ledger's Lua scripts against a real Redis: idempotency, and newest wins per
//! Salesforce record (claims, stale records, superseded writes, claim release).
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions unwrap too: a failed step should fail the test"
)]

use std::time::Duration;

use redis::AsyncCommands;
use testkit::harness::RedisServer;
use workers::{
    mapping::{RecordTarget, RecordWrite, WriteRole},
    store::{
        self, Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, KeySpace, Priority,
        RecordClaim, RecordKey, RecordOutcome, Settlement, StreamEntry,
    },
};

fn entry(event_id: &str, created: i64) -> StreamEntry {
    StreamEntry {
        event_id: event_id.to_owned(),
        event_type: "invoice.payment_failed".to_owned(),
        object_id: "in_1".to_owned(),
        created,
        attempts: 0,
        received_at: 0,
        payload: "{}".to_owned(),
    }
}

fn record(sobject: &str, field: &str, value: &str) -> RecordKey {
    RecordKey::of(&RecordWrite {
        pending_lookups: Default::default(),
        sobject: sobject.into(),
        target: RecordTarget::ExternalId {
            field: field.into(),
            value: value.into(),
        },
        fields: Default::default(),
        role: WriteRole::Main,
        aspect: None,
        on_dead_letter: Vec::new(),
    })
}

fn subscription() -> RecordKey {
    record(
        "Stripe_Subscription__c",
        "Stripe_Subscription_ID__c",
        "sub_1",
    )
}

fn payment() -> RecordKey {
    record(
        "Payment_Transaction__c",
        "Stripe_Payment_Intent_ID__c",
        "pi_1",
    )
}

fn ledger(redis: &RedisServer, consumer: &str) -> EventLedger {
    EventLedger::new(
        store::connect(&redis.url()).expect("connect"),
        KeySpace::new("t"),
        Priority::High,
        consumer.to_owned(),
        Duration::from_secs(30),
        Duration::from_secs(600),
        Duration::from_secs(600),
    )
}

async fn claim(
    ledger: &EventLedger,
    entry: &StreamEntry,
    records: &[RecordKey],
    batch: &str,
) -> Claim {
    let held = HeldEntry {
        partition: 0,
        entry_id: String::new(),
        entry: entry.clone(),
    };
    let mut claims = ledger.claim_all(&[(&held, records)], batch).await.unwrap();
    claims.pop().unwrap()
}

fn applied(entry: &StreamEntry, records: Vec<(RecordKey, RecordOutcome)>) -> Settlement {
    Settlement::Finish {
        held: HeldEntry {
            partition: 0,
            entry_id: String::new(),
            entry: entry.clone(),
        },
        finish: Finish::Applied,
        salesforce_id: Some("a01".into()),
        records,
    }
}

use RecordClaim::{Stale, Write};

#[tokio::test]
async fn a_claim_covers_every_record_and_a_held_record_makes_the_event_wait() {
    let redis = RedisServer::start().await.unwrap();
    let (a, b) = (ledger(&redis, "a"), ledger(&redis, "b"));
    let event = entry("evt_2", 200);
    assert_eq!(
        claim(&a, &event, &[payment(), subscription()], "1").await,
        Claim::Claimed(vec![Write, Write])
    );
    // Another consumer, or another batch of the same one, waits for the shared record...
    assert_eq!(
        claim(&b, &entry("evt_3", 300), &[subscription()], "1").await,
        Claim::Busy("a/1".into())
    );
    assert!(matches!(
        claim(&a, &entry("evt_4", 300), &[subscription()], "2").await,
        Claim::Busy(_)
    ));
    // ...and claims nothing while it waits: the other record stays free.
    let other = record("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_1");
    assert!(matches!(
        claim(
            &b,
            &entry("evt_5", 300),
            &[other.clone(), subscription()],
            "1"
        )
        .await,
        Claim::Busy(_)
    ));
    assert_eq!(
        claim(&a, &entry("evt_6", 300), &[other], "3").await,
        Claim::Claimed(vec![Write])
    );
    // The same batch may claim a record twice (two events of one batch).
    assert_eq!(
        claim(&a, &entry("evt_7", 100), &[subscription()], "1").await,
        Claim::Claimed(vec![Write])
    );
}

#[tokio::test]
async fn newest_wins_per_record_not_per_event() {
    let redis = RedisServer::start().await.unwrap();
    let (a, b) = (ledger(&redis, "a"), ledger(&redis, "b"));
    // customer.subscription.deleted (created 200) is applied to the subscription.
    let deleted = entry("evt_deleted", 200);
    claim(&a, &deleted, &[subscription()], "1").await;
    a.settle_all(
        "1",
        vec![applied(
            &deleted,
            vec![(subscription(), RecordOutcome::Written)],
        )],
    )
    .await
    .unwrap();
    // A redelivery is a duplicate.
    assert_eq!(
        claim(&b, &deleted, &[subscription()], "1").await,
        Claim::AlreadyApplied
    );
    // invoice.payment_failed (created 100) arrives late: its subscription write is stale, its
    // payment write is not.
    let invoice = entry("evt_invoice", 100);
    assert_eq!(
        claim(&b, &invoice, &[payment(), subscription()], "1").await,
        Claim::Claimed(vec![Write, Stale])
    );
    // Same second: the larger event id wins; a smaller one is stale.
    assert_eq!(
        claim(&b, &entry("evt_a", 200), &[subscription()], "2").await,
        Claim::Claimed(vec![Stale])
    );
    assert_eq!(
        claim(&b, &entry("evt_z", 200), &[subscription()], "2").await,
        Claim::Claimed(vec![Write])
    );
}

/// Stripe's `created` counts seconds: a customer created and renamed within one second ends
/// renamed, whichever event id sorts first, and a deletion of that second ends it.
#[tokio::test]
async fn within_one_second_a_change_is_newer_than_the_creation_and_a_deletion_newest() {
    let redis = RedisServer::start().await.unwrap();
    let a = ledger(&redis, "a");
    let customer = record("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_9");
    let event = |id: &str, event_type: &str| StreamEntry {
        event_type: event_type.to_owned(),
        ..entry(id, 500)
    };
    let created = event("evt_z", "customer.created");
    claim(&a, &created, std::slice::from_ref(&customer), "1").await;
    let written = vec![(customer.clone(), RecordOutcome::Written)];
    a.settle_all("1", vec![applied(&created, written.clone())])
        .await
        .unwrap();
    // The change's id sorts before the creation's, yet it is newer.
    let updated = event("evt_a", "customer.updated");
    assert_eq!(
        claim(&a, &updated, std::slice::from_ref(&customer), "2").await,
        Claim::Claimed(vec![Write])
    );
    a.settle_all("2", vec![applied(&updated, written)])
        .await
        .unwrap();
    // Another creation event of that second (a redelivery under a new id) is older.
    assert_eq!(
        claim(
            &a,
            &event("evt_zz", "customer.created"),
            std::slice::from_ref(&customer),
            "3"
        )
        .await,
        Claim::Claimed(vec![Stale])
    );
    // A deletion of that second is the newest.
    assert_eq!(
        claim(&a, &event("evt_0", "customer.deleted"), &[customer], "4").await,
        Claim::Claimed(vec![Write])
    );
}

#[tokio::test]
async fn outcomes_move_versions_release_claims_and_name_the_superseded_writes() {
    let redis = RedisServer::start().await.unwrap();
    let (a, b) = (ledger(&redis, "a"), ledger(&redis, "b"));
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let customer = record("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_1");
    let event = entry("evt_1", 100);
    let records = [payment(), subscription(), customer.clone()];
    claim(&a, &event, &records, "1").await;
    a.settle_all(
        "1",
        vec![applied(
            &event,
            vec![
                (payment(), RecordOutcome::Written),
                (subscription(), RecordOutcome::Rejected),
                (customer.clone(), RecordOutcome::Superseded),
            ],
        )],
    )
    .await
    .unwrap();
    // Written and rejected records are released; a superseded one keeps its holder's claim.
    assert_eq!(
        claim(&b, &entry("evt_2", 300), &[payment()], "1").await,
        Claim::Claimed(vec![Write])
    );
    assert_eq!(
        claim(&b, &entry("evt_3", 300), &[subscription()], "2").await,
        Claim::Claimed(vec![Write])
    );
    assert!(matches!(
        claim(
            &b,
            &entry("evt_4", 300),
            std::slice::from_ref(&customer),
            "3"
        )
        .await,
        Claim::Busy(_)
    ));
    // Only the written record holds the event: a rejected write is not a version.
    let version = |record: RecordKey| {
        let mut conn = conn.clone();
        async move {
            let event_id: Option<String> = conn
                .hget(format!("{{t}}:record:{record}"), "event_id")
                .await
                .unwrap();
            event_id
        }
    };
    assert_eq!(version(payment()).await.as_deref(), Some("evt_1"));
    assert_eq!(version(subscription()).await, None);
    let lifecycle: std::collections::HashMap<String, String> =
        conn.hgetall("{t}:event:evt_1").await.unwrap();
    assert_eq!(lifecycle["state"], "applied");
    assert_eq!(
        lifecycle["superseded_writes"],
        format!("{} {}", subscription(), customer)
    );
}

#[tokio::test]
async fn a_failed_event_releases_only_its_own_claims() {
    let redis = RedisServer::start().await.unwrap();
    let (a, b) = (ledger(&redis, "a"), ledger(&redis, "b"));
    let event = entry("evt_1", 100);
    claim(&a, &event, &[payment()], "1").await;
    // b's batch holds the subscription; a's failed event lists it but does not own it.
    claim(&b, &entry("evt_2", 100), &[subscription()], "1").await;
    let mut held = HeldEntry {
        partition: 0,
        entry_id: String::new(),
        entry: event.clone(),
    };
    held.entry.attempts = 1;
    a.settle_all(
        "1",
        vec![Settlement::Defer {
            held,
            deferral: Deferral::RetryAt(0),
            failure: Failure {
                class: salesforce_client::FailureClass::Retryable,
                code: "UNABLE_TO_LOCK_ROW".into(),
                message: "locked".into(),
                detail: None,
            },
            records: vec![payment(), subscription()],
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        claim(&b, &entry("evt_3", 100), &[payment()], "2").await,
        Claim::Claimed(vec![Write])
    );
    assert_eq!(
        claim(&a, &entry("evt_4", 100), &[subscription()], "2").await,
        Claim::Busy("b/1".into())
    );
}
