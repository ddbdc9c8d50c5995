//! `workers realtime` when things go wrong, against real Redis and the Salesforce
//! simulator: the global limiter across replicas, a replica killed mid-batch, session
//! expiry, an outage behind the breaker, and a permanently invalid record.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{
    sim::{high_priority_events, new_customer_payments, Sim},
    BridgeStack,
};
use testkit::stripe::{unix_now, EventFactory};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_never_exceed_the_global_limit() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let events = new_customer_payments("lim", 40, "usd");
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
    let events = new_customer_payments("kill", 10, "eur");
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
        let writes = sim.transaction_writes(&event.object_id).await;
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
    let good = new_customer_payments("ok", 5, "usd");
    let mut bad_intent = factory.payment_intent("cus_bad", 1000, "usd", unix_now(), None);
    // Longer than Payment_Method_Type__c (Text 255): Salesforce refuses the record.
    bad_intent["payment_method_types"] = json!(["x".repeat(300)]);
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
