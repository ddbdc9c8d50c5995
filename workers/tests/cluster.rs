//! The fleet on a real Redis Cluster (three masters, a replica each, started by the
//! harness): events spread over the partitions land on several masters, the bridge, the
//! realtime and the bulk workers apply every one, the operator commands find them, and a
//! master killed under load fails over to its replica with what the fleet lost and
//! duplicated reported.

mod support;

use std::time::Duration;

use support::{sim::Sim, BridgeStack};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};

const WAIT: Duration = Duration::from_secs(90);
const DONE: [&str; 4] = ["applied", "superseded", "stale", "duplicate"];

/// The lifecycles of `customers` customers: every handled event type, high and low.
fn lifecycles(customers: usize) -> Vec<StripeEvent> {
    let factory = EventFactory::new();
    (0..customers)
        .flat_map(|_| factory.lifecycle("usd", unix_now()))
        .collect()
}

/// `DBSIZE` of every master.
async fn keys_per_master(stack: &BridgeStack) -> Vec<u64> {
    let cluster = stack.cluster.as_ref().expect("a cluster stack");
    let mut sizes = Vec::new();
    for port in cluster.master_ports().await {
        let output = tokio::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "DBSIZE"])
            .output()
            .await
            .expect("redis-cli runs");
        let size = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        sizes.push(size);
    }
    sizes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_spreads_its_partitions_over_the_cluster_and_applies_every_event() {
    let stack = BridgeStack::start_on_cluster().await;
    let sim = Sim::start().await;
    let _bridge = stack.start_bridge(&[]).await;
    let _realtime_a = stack.start_consumer("realtime", &sim, &[]).await;
    let _realtime_b = stack.start_consumer("realtime", &sim, &[]).await;
    let _bulk = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "500")])
        .await;
    let events = lifecycles(12);
    stack.send_events(&events).await;
    stack.wait_for_states(&events, &DONE, WAIT).await;

    let customers: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.event_type == "customer.created")
        .map(|e| e.object_id.as_str())
        .collect();
    for customer in &customers {
        assert!(
            sim.record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", customer)
                .await
                .is_some(),
            "customer {customer} reached Salesforce"
        );
    }
    let sizes = keys_per_master(&stack).await;
    assert_eq!(sizes.len(), 3, "three masters: {sizes:?}");
    assert!(
        sizes.iter().filter(|size| **size > 0).count() >= 2,
        "the partitions' keys spread over the masters: {sizes:?}"
    );

    // The operator commands find an event in its partition on whichever node holds it.
    let event = &events[0];
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_workers"))
        .args(["status", &event.id])
        .env_clear()
        .env("REDIS_URL", stack.redis_url())
        .output()
        .expect("workers status runs");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(text.contains(&event.id), "{text}");
    let pending = std::process::Command::new(env!("CARGO_BIN_EXE_workers"))
        .args(["pending", "--json"])
        .env_clear()
        .env("REDIS_URL", stack.redis_url())
        .output()
        .expect("workers pending runs");
    let report: serde_json::Value =
        serde_json::from_slice(&pending.stdout).expect("pending answers JSON");
    let streams = report["streams"].as_array().expect("streams");
    assert_eq!(
        streams.len(),
        2 * 16 + 1,
        "every partition's high and low, and outbound"
    );
    assert!(streams.iter().all(|s| s["length"] == 0), "{report}");
}

/// What a failover cost: events that never reached a final state, and events whose
/// Salesforce write was made more than once.
#[derive(Debug)]
struct FailoverReport {
    events: usize,
    lost: usize,
    written_twice: usize,
}

/// Sends `customers` lifecycles in two halves through a bridge (`BRIDGE_WAIT_REPLICAS` =
/// `wait_replicas`) and two realtime and one bulk replica, SIGKILLs the master holding the
/// most keys once the first half is in flight, and reports what came through.
async fn run_failover(customers: usize, wait_replicas: &str) -> FailoverReport {
    let mut stack = BridgeStack::start_on_cluster().await;
    let sim = Sim::start().await;
    let _bridge = stack
        .start_bridge(&[("BRIDGE_WAIT_REPLICAS", wait_replicas)])
        .await;
    let _realtime_a = stack.start_consumer("realtime", &sim, &[]).await;
    let _realtime_b = stack.start_consumer("realtime", &sim, &[]).await;
    let _bulk = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "500")])
        .await;
    let events = lifecycles(customers);
    let (first, second) = events.split_at(events.len() / 2);
    stack.send_events(first).await;
    testkit::harness::wait_for("the first event settled", WAIT, || async {
        let lifecycle = stack.lifecycle(&first[0].id).await;
        DONE.contains(&lifecycle.get("state").map_or("", String::as_str))
            .then_some(())
    })
    .await
    .expect("the fleet applies events before the failover");

    let cluster = stack.cluster.as_mut().expect("a cluster stack");
    let masters = cluster.master_ports().await;
    let mut busiest = (0, 0);
    for port in masters {
        let output = tokio::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "DBSIZE"])
            .output()
            .await
            .expect("redis-cli runs");
        let size: u64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        if size >= busiest.1 {
            busiest = (port, size);
        }
    }
    eprintln!(
        "killing the master on port {} ({} keys)",
        busiest.0, busiest.1
    );
    cluster.kill(busiest.0);
    stack.send_events(second).await;
    eprintln!("second half sent");
    let cluster = stack.cluster.as_ref().expect("a cluster stack");
    cluster
        .wait_healthy()
        .await
        .expect("the replica takes over");
    eprintln!("cluster healthy again");
    // The killed node comes back (as its supervisor would restart it) and rejoins as the
    // new master's replica: until then `WAIT 1` cannot be met on its slots.
    let cluster = stack.cluster.as_mut().expect("a cluster stack");
    cluster
        .restart(busiest.0)
        .await
        .expect("the old master rejoins");
    eprintln!("old master back as a replica");

    let done = testkit::harness::wait_for("every event settled", WAIT, || async {
        for event in &events {
            let state = stack.lifecycle(&event.id).await;
            if !DONE.contains(&state.get("state").map_or("", String::as_str)) {
                return None;
            }
        }
        Some(())
    })
    .await;
    let mut lost = 0;
    if done.is_err() {
        for event in &events {
            let state = stack.lifecycle(&event.id).await;
            if !DONE.contains(&state.get("state").map_or("", String::as_str)) {
                eprintln!("not settled: {} {} {state:?}", event.id, event.event_type);
                lost += 1;
            }
        }
    }
    let mut written_twice = 0;
    for event in events
        .iter()
        .filter(|e| e.event_type == "payment_intent.succeeded")
    {
        // An event that never settled may have no transaction at all: no writes, and it
        // is counted in `lost`.
        let writes = sim
            .admin
            .writes(
                "Payment_Transaction__c",
                "Stripe_Payment_Intent_ID__c",
                &event.object_id,
            )
            .await
            .unwrap_or_default();
        if writes.len() > 1 {
            written_twice += 1;
        }
    }
    FailoverReport {
        events: events.len(),
        lost,
        written_twice,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_under_load_fails_over_and_nothing_is_lost_with_wait() {
    let report = run_failover(20, "1").await;
    println!(
        "failover with BRIDGE_WAIT_REPLICAS=1: {} events, {} lost, {} written twice",
        report.events, report.lost, report.written_twice
    );
    assert_eq!(report.lost, 0, "{report:?}");
    assert!(report.events > 0);
}

/// The same failover without `WAIT`: what the fleet loses depends on the writes the master
/// acknowledged but had not replicated when it died, so this only reports (`cargo test -p
/// workers --test cluster -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a report, not a pass/fail check"]
async fn report_a_master_killed_under_load_without_wait() {
    let report = run_failover(20, "0").await;
    println!(
        "failover with BRIDGE_WAIT_REPLICAS=0: {} events, {} lost, {} written twice",
        report.events, report.lost, report.written_twice
    );
}
