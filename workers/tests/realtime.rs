//! `workers realtime` against real Redis and the Salesforce simulator: records, newest-wins
//! under duplicates and reordering, the global limiter across replicas, a replica killed
//! mid-batch, session expiry, an outage behind the breaker, and a permanently invalid record.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{sim::Sim, BridgeStack};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);

/// High-priority events of one customer's life (what the default routing sends to `high`).
fn high_priority_events(factory: &EventFactory, currency: &str) -> Vec<StripeEvent> {
    factory
        .lifecycle(currency, unix_now())
        .into_iter()
        .filter(|e| {
            !e.event_type.starts_with("customer.")
                || e.event_type.starts_with("customer.subscription.")
        })
        .collect()
}

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
async fn three_replicas_never_exceed_the_global_limit() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..40)
        .map(|i| {
            let intent =
                factory.payment_intent(&format!("cus_lim{i}"), 1000, "usd", unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    let limits = [
        ("SF_CALLS_PER_WINDOW", "4"),
        ("SF_WINDOW_MS", "1000"),
        ("REALTIME_BATCH_SIZE", "1"),
        ("REALTIME_LINGER_MS", "0"),
    ];
    let _a = stack.start_consumer("realtime", &sim, &limits).await;
    let _b = stack.start_consumer("realtime", &sim, &limits).await;
    let _c = stack.start_consumer("realtime", &sim, &limits).await;
    stack.enqueue(Priority::High, &events).await;
    stack
        .wait_for_states(&events, &["applied"], Duration::from_secs(120))
        .await;
    let max = sim.max_calls_in_window(1000).await;
    assert!(max <= 4, "{max} calls in one second with a limit of 4");
    assert!(
        max >= 2,
        "the limiter should not starve the replicas: {max}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_batch_loses_and_duplicates_nothing() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    sim.set_faults(json!({ "latency_ms": 1500 })).await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..10)
        .map(|i| {
            let intent =
                factory.payment_intent(&format!("cus_kill{i}"), 1000, "eur", unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    let fast_takeover = [("CLAIM_TTL_MS", "1000"), ("RECLAIM_IDLE_MS", "2000")];
    let mut doomed = stack.start_consumer("realtime", &sim, &fast_takeover).await;
    stack.enqueue(Priority::High, &events).await;
    // Kill it while its Collections call is in flight (the simulator holds it 1.5 s).
    testkit::harness::wait_for("a batch in flight", WAIT, || async {
        (stack
            .lifecycle(&events[0].id)
            .await
            .get("state")
            .map(String::as_str)
            == Some("processing"))
        .then_some(())
    })
    .await
    .unwrap();
    doomed.kill();
    sim.set_faults(json!({})).await;
    let _survivor = stack.start_consumer("realtime", &sim, &fast_takeover).await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;
    for event in &events {
        let writes = sim
            .writes(
                "Payment_Transaction__c",
                "Stripe_Payment_Intent_ID__c",
                &event.object_id,
            )
            .await;
        // The killed call may or may not have reached the org; the upsert makes a second
        // write of the same values harmless, and the ledger applied the event once.
        assert!(
            (1..=2).contains(&writes.len()),
            "{}: {} writes",
            event.id,
            writes.len()
        );
        assert_eq!(
            sim.records("Payment_Transaction__c")
                .await
                .iter()
                .filter(|r| r["Stripe_Payment_Intent_ID__c"] == event.object_id.as_str())
                .count(),
            1
        );
    }
    assert!(
        stack.entries("high").await.is_empty(),
        "every entry acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_renewed_once_and_calls_replayed() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    let factory = EventFactory::new();
    let first = high_priority_events(&factory, "usd");
    stack.enqueue(Priority::High, &first).await;
    stack
        .wait_for_states(&first, &["applied", "superseded", "stale"], WAIT)
        .await;
    assert_eq!(sim.tokens_issued().await, 1);
    sim.expire_sessions().await;
    let second = high_priority_events(&factory, "gbp");
    stack.enqueue(Priority::High, &second).await;
    stack
        .wait_for_states(&second, &["applied", "superseded", "stale"], WAIT)
        .await;
    assert_eq!(
        sim.tokens_issued().await,
        2,
        "one new login after the expiry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_waited_out_and_the_breaker_limits_wasted_calls() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack
        .start_consumer(
            "realtime",
            &sim,
            &[
                ("BREAKER_THRESHOLD", "3"),
                ("BREAKER_COOLDOWN_MS", "1000"),
                ("RETRY_DELAYS_SECS", "1,1,1,1,1,1,1,1"),
            ],
        )
        .await;
    sim.set_faults(
        json!({ "outages": [{ "start_after_ms": 0, "duration_ms": 4000, "html": true }] }),
    )
    .await;
    let factory = EventFactory::new();
    let events = high_priority_events(&factory, "kwd");
    stack.enqueue(Priority::High, &events).await;
    stack
        .wait_for_states(&events, &["applied", "superseded", "stale"], WAIT)
        .await;
    let calls = sim.calls().await;
    let failed = calls["by_status"]["503"].as_u64().unwrap_or(0);
    // Without the breaker a retrying worker would call on every attempt of every event;
    // with it, about one probe per cool-down second gets through.
    assert!(
        failed <= 3 + 6,
        "{failed} calls wasted during a 4 s outage: {calls}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanently_invalid_record_is_dead_lettered_while_its_batch_mates_succeed() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let good: Vec<StripeEvent> = (0..5)
        .map(|i| {
            let intent =
                factory.payment_intent(&format!("cus_ok{i}"), 1000, "usd", unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    let mut bad_intent = factory.payment_intent("cus_bad", 1000, "usd", unix_now(), None);
    bad_intent["currency"] = json!("usdollars");
    let bad = factory.event("payment_intent.succeeded", bad_intent, None, unix_now());
    let mut all = good.clone();
    all.insert(2, bad.clone());
    stack.enqueue(Priority::High, &all).await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    stack.wait_for_states(&good, &["applied"], WAIT).await;
    stack
        .wait_for_states(std::slice::from_ref(&bad), &["dead"], WAIT)
        .await;
    let dead = stack.entries("dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["event_id"], bad.id);
    assert_eq!(dead[0]["reason"], "permanent");
    assert!(
        dead[0]["error"].starts_with("STRING_TOO_LONG"),
        "{:?}",
        dead[0]
    );
    assert_eq!(dead[0]["payload"], bad.body());
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
    let token: serde_json::Value = http
        .post(sim.sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sim.sim.client_id()),
            ("client_secret", sim.sim.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deleted = http
        .delete(format!(
            "{}/services/data/v62.0/sobjects/Stripe_Customer__c/{}",
            sim.sim.base_url(),
            customer["Id"].as_str().unwrap()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
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
