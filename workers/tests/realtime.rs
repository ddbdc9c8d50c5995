//! `workers realtime` against real Redis and the Salesforce simulator: records, newest-wins
//! under duplicates and reordering, and parent stubs skipped for records known to exist.
//! (Replicas, limits and failures: `realtime_resilience.rs`.)

mod support;

use std::time::Duration;

use serde_json::json;
use support::{
    sim::{high_priority_events, Sim},
    BridgeStack,
};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_priority_events_become_records() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    let factory = EventFactory::new();
    let events = high_priority_events(&factory, "jpy");
    stack.enqueue(Priority::High, &events).await;
    stack
        .wait_for_states(&events, &["applied", "superseded", "stale"], WAIT)
        .await;

    let intent = events
        .iter()
        .find(|e| e.event_type == "payment_intent.succeeded")
        .unwrap();
    let record = sim
        .record_by(
            "Payment_Transaction__c",
            "Stripe_Payment_Intent_ID__c",
            &intent.object_id,
        )
        .await
        .expect("a transaction for the PaymentIntent");
    assert_eq!(
        record["Amount__c"].as_f64(),
        Some(4900.0),
        "JPY has no minor unit: {record}"
    );
    assert_eq!(record["Currency__c"], "JPY");
    assert_eq!(record["Status__c"], "succeeded");
    let lifecycle = stack.lifecycle(&intent.id).await;
    assert_eq!(lifecycle["state"], "applied");
    assert_eq!(lifecycle["salesforce_id"], record["Id"]);

    let subscription_id = events
        .iter()
        .find(|e| e.event_type == "customer.subscription.created")
        .unwrap()
        .object_id
        .clone();
    let subscription = sim
        .record_by(
            "Stripe_Subscription__c",
            "Stripe_Subscription_ID__c",
            &subscription_id,
        )
        .await
        .expect("the subscription");
    assert_eq!(
        subscription["Status__c"], "canceled",
        "the newest subscription event (deleted) wins"
    );
    // Checkout completion found no record by session id and fell back to the subscription.
    let checkout = events
        .iter()
        .find(|e| e.event_type == "checkout.session.completed")
        .unwrap();
    assert_eq!(subscription["Sync_Status__c"], "Completed");
    assert_eq!(
        subscription["Stripe_Checkout_Session_ID__c"],
        checkout.object_id.as_str()
    );
    // Invoices: a transaction each (keyed by the invoice id since API 2025-03-31) with the
    // failure as its status, linked to the subscription.
    for (event_type, status) in [
        ("invoice.payment_succeeded", "succeeded"),
        ("invoice.payment_failed", "requires_payment_method"),
    ] {
        let invoice = events.iter().find(|e| e.event_type == event_type).unwrap();
        let transaction = sim
            .record_by(
                "Payment_Transaction__c",
                "Stripe_Payment_Intent_ID__c",
                &invoice.object_id,
            )
            .await
            .unwrap_or_else(|| panic!("a transaction for {event_type}"));
        assert_eq!(transaction["Status__c"], status, "{event_type}");
        assert_eq!(
            transaction["Stripe_Subscription__c"], subscription["Id"],
            "{event_type}"
        );
    }
    let failed = events
        .iter()
        .find(|e| e.event_type == "payment_intent.payment_failed")
        .unwrap();
    let failed = sim
        .record_by(
            "Payment_Transaction__c",
            "Stripe_Payment_Intent_ID__c",
            &failed.object_id,
        )
        .await
        .expect("a transaction for the failed PaymentIntent");
    assert_eq!(failed["Failure_Reason__c"], "Your card was declined.");
    // The customer did not exist: it was created as a stub so the lookups resolve.
    assert_eq!(sim.records("Stripe_Customer__c").await.len(), 1);
    // Both streams' entries were acknowledged and removed.
    assert!(stack.entries("high").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_reordered_events_end_at_the_newest_with_one_write_each() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let base = unix_now() - 1000;
    let subscription = factory.subscription("cus_reorder", "active", 1000, "usd", base);
    let statuses = [
        "trialing", "active", "past_due", "unpaid", "active", "canceled",
    ];
    let events: Vec<StripeEvent> = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let mut object = subscription.clone();
            object["status"] = json!(status);
            factory.event(
                "customer.subscription.updated",
                object,
                Some(json!({"status": "x"})),
                base + i as i64,
            )
        })
        .collect();
    // Arrive out of order, the newest in the middle, with the same deliveries twice.
    let order = [3, 5, 0, 4, 1, 2];
    let shuffled: Vec<StripeEvent> = order.iter().map(|&i| events[i].clone()).collect();
    stack.enqueue(Priority::High, &shuffled[..3]).await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    stack
        .wait_for_states(&shuffled[..3], &["applied", "superseded", "stale"], WAIT)
        .await;
    stack.enqueue(Priority::High, &shuffled[3..]).await;
    // A redelivery that bypassed the bridge's dedupe (e.g. replayed by hand) is also harmless.
    stack.enqueue(Priority::High, &shuffled).await;
    stack
        .wait_for_states(
            &events,
            &["applied", "superseded", "stale", "duplicate"],
            WAIT,
        )
        .await;

    let record = sim
        .record_by(
            "Stripe_Subscription__c",
            "Stripe_Subscription_ID__c",
            &events[0].object_id,
        )
        .await
        .expect("the subscription");
    assert_eq!(record["Status__c"], "canceled", "the newest event wins");
    let writes = sim
        .writes(
            "Stripe_Subscription__c",
            "Stripe_Subscription_ID__c",
            &events[0].object_id,
        )
        .await;
    let applied: Vec<&StripeEvent> = {
        let mut applied = Vec::new();
        for event in &events {
            if stack.lifecycle(&event.id).await["state"] == "applied" {
                applied.push(event);
            }
        }
        applied
    };
    assert_eq!(
        writes.len(),
        applied.len(),
        "one write per applied event: {writes:?}"
    );
    assert!(
        applied.iter().any(|e| e.id == events[5].id),
        "the newest was applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_parents_are_not_written_again_and_a_deleted_one_is_recreated() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack
        .start_consumer("realtime", &sim, &[("RETRY_DELAYS_SECS", "1,1,1")])
        .await;
    let factory = EventFactory::new();
    let payment = |factory: &EventFactory| {
        let intent = factory.payment_intent("cus_known", 1000, "usd", unix_now(), None);
        factory.event("payment_intent.succeeded", intent, None, unix_now())
    };
    let first = payment(&factory);
    stack
        .enqueue(Priority::High, std::slice::from_ref(&first))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&first), &["applied"], WAIT)
        .await;
    let second = payment(&factory);
    stack
        .enqueue(Priority::High, std::slice::from_ref(&second))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&second), &["applied"], WAIT)
        .await;
    let stub_writes = sim
        .writes("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_known")
        .await;
    assert_eq!(
        stub_writes.len(),
        1,
        "the customer stub is written once, not per payment"
    );

    // Someone deletes the customer in Salesforce: the next payment fails once for the
    // missing parent, forgets it, and the retry recreates it.
    let customer = sim
        .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_known")
        .await
        .unwrap();
    let http = testkit::harness::http_client();
    let token = sim.access_token().await;
    let deleted = http
        .delete(format!(
            "{}/services/data/v62.0/sobjects/Stripe_Customer__c/{}",
            sim.sim.base_url(),
            customer["Id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let third = payment(&factory);
    stack
        .enqueue(Priority::High, std::slice::from_ref(&third))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&third), &["applied"], WAIT)
        .await;
    assert_eq!(
        stack.lifecycle(&third.id).await["attempts"],
        "1",
        "one failed attempt first"
    );
    assert!(sim
        .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", "cus_known")
        .await
        .is_some());
}

/// Salesforce quotes the value it refuses (`Customer Email: invalid email address: <it>`):
/// the lifecycle and the dead letter's `error` keep the code and field without the value,
/// which only the dead letter's `error_detail` (printed by `dlq show`) holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_value_is_redacted_everywhere_but_the_dead_letters_detail() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    let factory = EventFactory::new();
    let mut customer = factory.customer(unix_now());
    customer["email"] = json!("ann.secret@@example");
    let event = factory.event("customer.updated", customer, None, unix_now());
    stack
        .enqueue(Priority::High, std::slice::from_ref(&event))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&event), &["dead"], WAIT)
        .await;

    let lifecycle = stack.lifecycle(&event.id).await;
    let last_error = &lifecycle["last_error"];
    assert!(
        last_error.starts_with("INVALID_EMAIL_ADDRESS:"),
        "{last_error}"
    );
    assert!(last_error.contains("[redacted]"), "{last_error}");
    assert!(!last_error.contains("ann.secret"), "{last_error}");
    let dead = stack.entries("dead").await;
    assert_eq!(dead.len(), 1);
    assert!(!dead[0]["error"].contains("ann.secret"), "{:?}", dead[0]);
    assert!(
        dead[0]["error_detail"].contains("ann.secret@@example"),
        "{:?}",
        dead[0]
    );
}

/// A checkout Salesforce opened (`Pending`) whose `checkout.session.completed` dies shows
/// the failure on the record (`on_dead_letter`: `Sync_Status__c = Failed`, the redacted error
/// in `Error_Message__c`); the next successful write of the record clears the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_checkout_marks_its_subscription_record_and_a_success_clears_it() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    let token = sim.access_token().await;
    let created: serde_json::Value = testkit::harness::http_client()
        .post(format!(
            "{}/services/data/v62.0/sobjects/Stripe_Subscription__c",
            sim.sim.base_url()
        ))
        .bearer_auth(token)
        .json(&json!({ "Sync_Status__c": "Pending" }))
        .send()
        .await
        .expect("sfsim answers")
        .json()
        .await
        .expect("JSON");
    let record_id = created["id"].as_str().expect("a record id").to_owned();

    let factory = EventFactory::new();
    let now = unix_now();
    let session = |id: &str| {
        let mut session =
            factory.checkout_session("cus_mark", "sub_mark", 1_000, "usd", now, Some(&record_id));
        session["id"] = json!(id);
        session
    };
    // A session id longer than the field: Salesforce refuses it for good.
    let too_long = format!("cs_test_{}", "x".repeat(300));
    let failing = factory.event("checkout.session.completed", session(&too_long), None, now);
    stack
        .enqueue(Priority::High, std::slice::from_ref(&failing))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&failing), &["dead"], WAIT)
        .await;
    let marked = testkit::harness::wait_for("the failure on the record", WAIT, || async {
        sim.record_by("Stripe_Subscription__c", "Id", &record_id)
            .await
            .filter(|record| record["Sync_Status__c"] == "Failed")
    })
    .await
    .expect("the record is marked");
    let error = marked["Error_Message__c"].as_str().unwrap_or_default();
    assert!(error.starts_with("STRING_TOO_LONG:"), "{marked}");
    assert!(
        !error.contains("xxxxxxxx"),
        "the refused value is redacted: {error}"
    );

    let fixed = factory.event(
        "checkout.session.completed",
        session("cs_test_fixed"),
        None,
        now + 1,
    );
    stack
        .enqueue(Priority::High, std::slice::from_ref(&fixed))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&fixed), &["applied"], WAIT)
        .await;
    let record = sim
        .record_by("Stripe_Subscription__c", "Id", &record_id)
        .await
        .expect("the record");
    assert_eq!(record["Sync_Status__c"], "Completed", "{record}");
    assert_eq!(
        record["Error_Message__c"],
        serde_json::Value::Null,
        "{record}"
    );
}
