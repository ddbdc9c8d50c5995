//! The bulk benchmark: fill the low-priority stream with `customer.updated` events (with
//! the bridge's own enqueue script), then time `workers bulk` replicas draining it into the
//! simulator, and count the API calls.

use std::time::{Duration, Instant};

use sfsim::{SimConfig, Simulator};
use testkit::{
    harness::{self, RedisServer, ServiceProcess},
    stripe::{unix_now, EventFactory},
};
use workers::store::{EventStore, KeySpace, Priority, StreamEntry};

use crate::{
    fleet::{redis_stats, sim_get, spawn, worker_env},
    Args,
};

/// Runs the bulk benchmark and prints its numbers; exits 1 if events are missing.
pub async fn bulk(args: &Args) {
    let redis = RedisServer::start().await.expect("redis");
    let sim = Simulator::start(SimConfig::on_free_port())
        .await
        .expect("sfsim");
    let sim_url = sim.base_url().to_owned();
    let store = EventStore::new(
        workers::store::connect(&redis.url()).expect("redis"),
        KeySpace::partitioned("fleet", workers::keys::DEFAULT_PARTITIONS),
        Duration::from_secs(86_400),
        Duration::from_secs(86_400),
    );
    let factory = EventFactory::new();
    println!(
        "queueing {} customer.updated events on the low stream",
        args.events
    );
    let mut ids = Vec::with_capacity(args.events);
    for _ in 0..args.events {
        let customer = factory.customer(unix_now());
        let event = factory.event("customer.updated", customer, None, unix_now());
        ids.push(event.object_id.clone());
        let entry = StreamEntry {
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            object_id: event.object_id.clone(),
            created: event.created,
            attempts: 0,
            received_at: common::time::unix_millis(),
            payload: serde_json::to_string(&event.json).expect("json"),
        };
        store.enqueue(Priority::Low, &entry).await.expect("enqueue");
    }
    let http = harness::http_client();
    let redis_before = redis_stats(&redis.url()).await;
    let started = Instant::now();
    let _bulk: Vec<ServiceProcess> = (0..args.replicas)
        .map(|n| {
            spawn(
                "bulk",
                "workers",
                &["bulk"],
                &worker_env(&redis.url(), &sim_url, "bulk", n),
            )
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    let count = loop {
        let count = sim_get(&http, format!("{sim_url}/__sim/records/Stripe_Customer__c")).await
            ["totalSize"]
            .as_u64()
            .unwrap_or(0);
        if count as usize >= args.events || Instant::now() > deadline {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let elapsed = started.elapsed();
    // Records are written before their events are settled: wait for the stream to empty.
    let store_conn = workers::store::connect(&redis.url()).expect("redis");
    let settled = harness::wait_for("the low stream to empty", Duration::from_secs(120), || {
        let mut conn = store_conn.clone();
        async move {
            let keys = KeySpace::partitioned("fleet", workers::keys::DEFAULT_PARTITIONS);
            let [_, low] = workers::store::stream_lengths(&mut conn, &keys)
                .await
                .ok()?;
            (low == 0).then_some(())
        }
    })
    .await;
    let redis_after = redis_stats(&redis.url()).await;
    let calls = sim_get(&http, format!("{sim_url}/__sim/calls")).await;
    let total = calls["total"].as_u64().unwrap_or(0);
    println!(
        "drained {count}/{} events in {:.1} s with {} bulk replica(s)",
        args.events,
        elapsed.as_secs_f64(),
        args.replicas
    );
    println!(
        "Salesforce calls {total} = {:.2} per 1,000 events",
        total as f64 * 1000.0 / args.events as f64
    );
    println!("calls by endpoint {}", calls["by_endpoint"]);
    println!(
        "Redis per event (all replicas): {:.2} commands (scripts' inner calls included), {:.2} round trips (requests read)",
        (redis_after.commands - redis_before.commands) as f64 / args.events as f64,
        (redis_after.reads - redis_before.reads) as f64 / args.events as f64
    );
    if let Err(error) = settled {
        println!("!!! {error}");
    }
    if (count as usize) < args.events {
        println!(
            "!!! CHECK FAILED: {} events not in Salesforce",
            args.events - count as usize
        );
        std::process::exit(1);
    }
}
