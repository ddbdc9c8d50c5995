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
