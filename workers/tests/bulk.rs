//! `workers bulk` against real Redis and the Salesforce simulator: a large burst as Bulk
//! API 2.0 jobs with a handful of calls, awkward CSV values, per-row failures, failed jobs,
//! a replica killed while polling, a replica stopped (SIGTERM) while polling, small batches
//! through Collections, and a dead replica's partitions passing to the survivor.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{
    sim::{new_customer_payments, Sim},
    BridgeStack,
};
use testkit::{
    harness::ServiceProcess,
    stripe::{unix_now, EventFactory, StripeEvent},
};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(120);

fn customer_updates(factory: &EventFactory, count: usize) -> Vec<StripeEvent> {
    (0..count)
        .map(|_| {
            let customer = factory.customer(unix_now());
            factory.event(
                "customer.updated",
                customer,
                Some(json!({"email": "old@example.com"})),
                unix_now(),
            )
        })
        .collect()
}

fn calls_to(calls: &serde_json::Value, endpoint: &str) -> u64 {
    calls["by_endpoint"][endpoint].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_burst_becomes_a_few_bulk_jobs() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let events = customer_updates(&factory, 25_000);
    stack.enqueue(Priority::Low, &events).await;
    let _worker = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "1000")])
        .await;
    stack
        .wait_for_states(&events[..1], &["applied"], WAIT)
        .await;
    testkit::harness::wait_for("25,000 customers", WAIT, || async {
        (sim.records("Stripe_Customer__c").await.len() == 25_000).then_some(())
    })
    .await
    .unwrap();
    stack
        .wait_for_states(&events[events.len() - 10..], &["applied"], WAIT)
        .await;
    let calls = sim.calls().await;
    let total = calls["total"].as_u64().unwrap_or(u64::MAX);
    assert!(calls_to(&calls, "bulk.create_job") >= 3, "{calls}");
    assert_eq!(calls_to(&calls, "collections.upsert"), 0, "{calls}");
    // Each customer's Contact is looked up: one query per ~400 customer ids, the most that
    // fit in a URL (workers/src/consumer/lookups.rs), five queries to a Composite call.
    let lookups = calls_to(&calls, "composite") + calls_to(&calls, "query");
    assert!(
        (25_000 / 450 / 5..=25_000 / 350 / 5 + 2).contains(&lookups),
        "{calls}"
    );
    assert!(
        total - lookups <= 40,
        "{total} calls for 25,000 events: {calls}"
    );
    let sample = &events[12_345];
    let record = sim
        .record_by(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &sample.object_id,
        )
        .await
        .unwrap();
    assert_eq!(
        record["Customer_Email__c"],
        sample.json["data"]["object"]["email"]
    );
    assert!(stack.entries("low").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_csv_values_round_trip_through_a_bulk_job() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let names = [
        "Müller, \"Max\"",
        "Line\nbreak",
        "Ünïcødé 名前",
        "comma, quote \" and\r\nCRLF",
    ];
    let events: Vec<StripeEvent> = names
        .iter()
        .map(|name| {
            let mut customer = factory.customer(unix_now());
            customer["name"] = json!(name);
            factory.event("customer.updated", customer, None, unix_now())
        })
        .collect();
    stack.enqueue(Priority::Low, &events).await;
    let _worker = stack
        .start_consumer(
            "bulk",
            &sim,
            &[
                ("BULK_COLLECTIONS_THRESHOLD", "0"),
                ("BULK_BATCH_AGE_MS", "300"),
            ],
        )
        .await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;
    for (event, name) in events.iter().zip(names) {
        let record = sim
            .record_by(
                "Stripe_Customer__c",
                "Stripe_Customer_ID__c",
                &event.object_id,
            )
            .await
            .unwrap();
        assert_eq!(record["Customer_Name__c"], name);
    }
    assert!(calls_to(&sim.calls().await, "bulk.create_job") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_job_failures_route_each_event() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let good = customer_updates(&factory, 20);
    let mut invalid = factory.customer(unix_now());
    invalid["email"] = json!("not an e-mail address");
    let bad = factory.event("customer.updated", invalid, None, unix_now());
    let mut events = good.clone();
    events.push(bad.clone());
    stack.enqueue(Priority::Low, &events).await;
    sim.set_faults(json!({ "lock_row_rate": 0.3 })).await;
    let _worker = stack
        .start_consumer(
            "bulk",
            &sim,
            &[
                ("BULK_COLLECTIONS_THRESHOLD", "0"),
                ("BULK_BATCH_AGE_MS", "300"),
                ("RETRY_DELAYS_SECS", "1,1,1,1,1,1,1,1,1,1"),
            ],
        )
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&bad), &["dead"], WAIT)
        .await;
    // Lock failures were retried until every good row went through.
    sim.set_faults(json!({})).await;
    stack.wait_for_states(&good, &["applied"], WAIT).await;
    let retried = {
        let mut retried = 0;
        for event in &good {
            if stack.lifecycle(&event.id).await.contains_key("last_error") {
                retried += 1;
            }
        }
        retried
    };
    assert!(
        retried > 0,
        "with a 30% lock rate some rows must have been retried"
    );
    let dead = stack.entries("dead").await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["error"].starts_with("INVALID_EMAIL_ADDRESS"),
        "{:?}",
        dead[0]
    );
    assert_eq!(dead[0]["event_id"], bad.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_is_retried() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    sim.set_faults(json!({ "bulk_failure_rate": 1.0 })).await;
    let factory = EventFactory::new();
    let events = customer_updates(&factory, 10);
    stack.enqueue(Priority::Low, &events).await;
    let _worker = stack
        .start_consumer(
            "bulk",
            &sim,
            &[
                ("BULK_COLLECTIONS_THRESHOLD", "0"),
                ("BULK_BATCH_AGE_MS", "300"),
                ("RETRY_DELAYS_SECS", "1,1,1,1,1,1"),
            ],
        )
        .await;
    stack.wait_for_states(&events, &["retrying"], WAIT).await;
    sim.set_faults(json!({})).await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;
    assert!(
        calls_to(&sim.calls().await, "bulk.create_job") >= 2,
        "a second job after the failed one"
    );
}

/// Settings under which a stopped replica's entries are taken over within seconds.
const TAKEOVER: [(&str, &str); 4] = [
    ("BULK_COLLECTIONS_THRESHOLD", "0"),
    ("BULK_BATCH_AGE_MS", "300"),
    ("CLAIM_TTL_MS", "1000"),
    ("RECLAIM_IDLE_MS", "2000"),
];

/// 30 events on the low stream and a replica (with `TAKEOVER` plus `env`) that has put
/// them into a Bulk job the simulator runs for `job_ms`.
async fn job_in_flight(
    stack: &BridgeStack,
    sim: &Sim,
    job_ms: u64,
    env: &[(&str, &str)],
) -> (Vec<StripeEvent>, ServiceProcess) {
    sim.set_faults(json!({ "bulk_extra_delay_ms": job_ms }))
        .await;
    let events = customer_updates(&EventFactory::new(), 30);
    stack.enqueue(Priority::Low, &events).await;
    let replica = stack
        .start_consumer("bulk", sim, &[TAKEOVER.as_slice(), env].concat())
        .await;
    testkit::harness::wait_for("a job in flight", WAIT, || async {
        let mut conn = stack.redis().await;
        let job: Option<String> = redis::cmd("GET")
            .arg(format!("{{fleet}}:bulkjob-of:{}", events[0].id))
            .query_async(&mut conn)
            .await
            .ok()?;
        job.map(drop)
    })
    .await
    .expect("the replica creates a job");
    (events, replica)
}

/// Another replica finishes the job: every event applied, the rows uploaded once.
async fn resumed_without_a_second_upload(stack: &BridgeStack, sim: &Sim, events: &[StripeEvent]) {
    let _survivor = stack.start_consumer("bulk", sim, &TAKEOVER).await;
    stack.wait_for_states(events, &["applied"], WAIT).await;
    let calls = sim.calls().await;
    assert_eq!(calls_to(&calls, "bulk.create_job"), 1, "{calls}");
    assert_eq!(calls_to(&calls, "bulk.upload"), 1, "{calls}");
    assert_eq!(sim.records("Stripe_Customer__c").await.len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_while_polling_is_resumed_without_a_second_upload() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let (events, mut doomed) = job_in_flight(&stack, &sim, 4000, &[]).await;
    doomed.kill();
    resumed_without_a_second_upload(&stack, &sim, &events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_a_job_is_polled_exits_at_once_and_the_job_is_resumed() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    // The job runs for 20 s, and between polls the replica sleeps 15 s: only waits that
    // listen to the shutdown token let it exit within the 5 s allowed.
    let slow_polls = [
        ("BULK_POLL_FIRST_MS", "15000"),
        ("BULK_POLL_MAX_MS", "15000"),
    ];
    let (events, mut stopping) = job_in_flight(&stack, &sim, 20000, &slow_polls).await;
    let status = stopping
        .terminate(Duration::from_secs(5))
        .expect("SIGTERM ends the replica within 5 s although its job still runs");
    assert!(status.success(), "{status:?}");
    for event in &events {
        let state = stack.lifecycle(&event.id).await.get("state").cloned();
        assert_ne!(state.as_deref(), Some("applied"), "{}", event.id);
        assert_ne!(
            state.as_deref(),
            Some("retrying"),
            "left pending, not deferred"
        );
    }
    resumed_without_a_second_upload(&stack, &sim, &events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_batches_take_the_collections_path() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let events = customer_updates(&factory, 5);
    let unmapped = factory.event(
        "charge.refunded",
        json!({ "id": "ch_1", "object": "charge" }),
        None,
        unix_now(),
    );
    stack.enqueue(Priority::Low, &events).await;
    stack
        .enqueue(Priority::Low, std::slice::from_ref(&unmapped))
        .await;
    let _worker = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "300")])
        .await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;
    // A type the mapping has no rule for is acknowledged, not dead-lettered.
    stack
        .wait_for_states(std::slice::from_ref(&unmapped), &["unhandled"], WAIT)
        .await;
    assert!(stack.entries("dead").await.is_empty());
    let calls = sim.calls().await;
    assert_eq!(calls_to(&calls, "bulk.create_job"), 0, "{calls}");
    assert!(calls_to(&calls, "collections.upsert") >= 1, "{calls}");
}

/// The replicas split the partitions between them; when one dies, its membership lapses and
/// the survivor reads every partition again, so events of every customer still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replicas_partitions_pass_to_the_survivor() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let mut doomed = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "500")])
        .await;
    let _survivor = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "500")])
        .await;
    testkit::harness::wait_for("two members", WAIT, || async {
        (members(&stack).await.len() == 2).then_some(())
    })
    .await
    .expect("both replicas join the group");
    doomed.kill();
    testkit::harness::wait_for("the dead member to lapse", WAIT, || async {
        (members(&stack).await.len() == 1).then_some(())
    })
    .await
    .expect("the killed replica's membership lapses");
    // Of 40 customers, some land in the dead replica's half of the 16 partitions (all but
    // surely: 1 in 2^40 they do not).
    let events = new_customer_payments("split", 40, "usd");
    stack.enqueue(Priority::Low, &events).await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;
}

/// The replicas sharing the bulk group's partitions.
async fn members(stack: &BridgeStack) -> Vec<String> {
    let mut conn = stack.redis().await;
    redis::cmd("ZRANGE")
        .arg("{fleet}:members:bulk")
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap_or_default()
}
