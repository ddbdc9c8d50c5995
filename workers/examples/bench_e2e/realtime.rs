//! The realtime benchmark: open-loop POSTs of `payment_intent.succeeded` events (each a new
//! customer) against the whole realtime path, then POST → record latency from the
//! simulator's write histories, where the time goes (lifecycle stages in Redis), calls per
//! 1,000 events and the lost / twice / wrong checks.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::json;
use testkit::{
    harness,
    stripe::{sign, unix_now, EventFactory, StripeEvent},
};
use tokio::sync::Mutex;

use crate::{
    fleet::{sim_get, RealtimeFleet},
    Args, SECRET,
};

/// Runs the realtime benchmark and prints its numbers; exits 1 if a check fails.
pub async fn realtime(args: &Args) {
    let fleet = RealtimeFleet::start(args).await;
    let (redis, sim_url, base) = (&fleet.redis, &fleet.sim_url, &fleet.base);

    let factory = EventFactory::new();
    let total = args.rate * args.duration;
    let events: Vec<StripeEvent> = (0..total)
        .map(|i| {
            let currency = ["usd", "eur", "jpy", "kwd"][(i % 4) as usize];
            let intent = factory.payment_intent(
                &format!("cus_bench{i}"),
                testkit::stripe::sample_amount(currency, 1),
                currency,
                unix_now(),
                None,
            );
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    let http = harness::http_client();
    let due_at: Arc<Mutex<HashMap<String, i64>>> = Arc::new(Mutex::new(HashMap::new()));
    let acks = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    let redis_before = redis_commands(&redis.node_urls()).await;
    let calls_before = sim_get(&http, format!("{sim_url}/__sim/calls")).await["total"]
        .as_u64()
        .unwrap_or(0);
    println!(
        "sending {total} events at {}/s for {} s (simulated Salesforce latency {} ms)",
        args.rate, args.duration, args.latency_ms
    );
    let started = Instant::now();
    let wall_start = common::time::unix_millis();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, event) in events.iter().enumerate() {
        let offset = Duration::from_secs_f64(i as f64 / args.rate as f64);
        let due = started + offset;
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let due_ms = wall_start + i64::try_from(offset.as_millis()).unwrap_or(0);
        due_at.lock().await.insert(event.object_id.clone(), due_ms);
        let body = event.body();
        let request = http
            .post(format!("{base}/webhook/stripe"))
            .header("stripe-signature", sign(SECRET, unix_now(), &body))
            .body(body);
        let acks = acks.clone();
        tasks.spawn(async move {
            let response = request.send().await;
            let ok = response.map(|r| r.status().is_success()).unwrap_or(false);
            let micros = u64::try_from(due.elapsed().as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            if ok {
                acks.lock().await.saturating_record(micros);
            }
            ok
        });
    }
    let mut accepted = 0;
    while let Some(ok) = tasks.join_next().await {
        if ok.unwrap_or(false) {
            accepted += 1;
        }
    }
    println!(
        "accepted {accepted}/{total} in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Wait for every transaction in the simulator.
    let deadline = Instant::now() + Duration::from_secs(120);
    let records = loop {
        let records = sim_get(
            &http,
            format!("{sim_url}/__sim/records/Payment_Transaction__c"),
        )
        .await["records"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if records.len() >= events.len() || Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let drained = started.elapsed();
    let calls = sim_get(&http, format!("{sim_url}/__sim/calls")).await["total"]
        .as_u64()
        .unwrap_or(0)
        - calls_before;

    let mut e2e = Histogram::<u64>::new_with_bounds(1, 600_000, 3).expect("histogram");
    let mut written_twice = 0;
    let mut wrong = 0;
    let due_at = due_at.lock().await;
    let by_intent: HashMap<String, &StripeEvent> =
        events.iter().map(|e| (e.object_id.clone(), e)).collect();
    for record in &records {
        let intent = record["Stripe_Payment_Intent_ID__c"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let history = sim_get(&http, format!("{sim_url}/__sim/history/Payment_Transaction__c/{intent}?by=Stripe_Payment_Intent_ID__c")).await;
        let writes = history["writes"].as_array().cloned().unwrap_or_default();
        if writes.len() > 1 {
            written_twice += 1;
        }
        if let (Some(first), Some(due)) = (
            writes.first().and_then(|w| w["at_ms"].as_i64()),
            due_at.get(&intent),
        ) {
            e2e.saturating_record(u64::try_from(first - due).unwrap_or(1).max(1));
        }
        if let Some(event) = by_intent.get(&intent) {
            if record["Status__c"] != json!("succeeded")
                || record["Currency__c"].as_str()
                    != event.json["data"]["object"]["currency"]
                        .as_str()
                        .map(str::to_uppercase)
                        .as_deref()
            {
                wrong += 1;
            }
        }
    }
    let lost = events.len().saturating_sub(records.len());
    // Where the time goes: the stages recorded in a sample of lifecycle records.
    let mut conn = workers::store::connect(&redis.url()).expect("redis");
    let keys = workers::keys::KeySpace::partitioned("fleet", workers::keys::DEFAULT_PARTITIONS);
    let mut stages: Vec<Histogram<u64>> = (0..3)
        .map(|_| Histogram::new_with_bounds(1, 600_000, 3).expect("histogram"))
        .collect();
    for event in events.iter().step_by(10) {
        let customer = event.json["data"]["object"]["customer"]
            .as_str()
            .unwrap_or_default();
        let lifecycle: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(
                keys.partition(keys.partition_of(customer))
                    .lifecycle(&event.id),
            )
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        let Some(due) = due_at.get(&event.object_id) else {
            continue;
        };
        for (i, field) in ["enqueued_at", "processing_at", "finished_at"]
            .iter()
            .enumerate()
        {
            if let Some(at) = lifecycle.get(*field).and_then(|v| v.parse::<i64>().ok()) {
                stages[i].saturating_record(u64::try_from(at - due).unwrap_or(1).max(1));
            }
        }
    }
    for (name, histogram) in [
        "in the stream (bridge done)",
        "claimed by a worker",
        "acknowledged",
    ]
    .iter()
    .zip(&stages)
    {
        println!(
            "  {name:<28} p50 {} ms  p95 {} ms after the POST was due",
            histogram.value_at_quantile(0.5),
            histogram.value_at_quantile(0.95)
        );
    }
    let acks = acks.lock().await;
    println!(
        "ack latency      p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms",
        acks.value_at_quantile(0.5) as f64 / 1000.0,
        acks.value_at_quantile(0.95) as f64 / 1000.0,
        acks.value_at_quantile(0.99) as f64 / 1000.0
    );
    println!(
        "POST → record    p50 {} ms  p95 {} ms  p99 {} ms  max {} ms",
        e2e.value_at_quantile(0.5),
        e2e.value_at_quantile(0.95),
        e2e.value_at_quantile(0.99),
        e2e.max()
    );
    println!("drained after    {:.1} s", drained.as_secs_f64());
    println!(
        "Salesforce calls {calls} = {:.1} per 1,000 events",
        calls as f64 * 1000.0 / events.len() as f64
    );
    let redis_after = redis_commands(&redis.node_urls()).await;
    println!(
        "Redis commands {:.1} per event (all nodes, scripts' inner calls included)",
        redis_after.saturating_sub(redis_before) as f64 / events.len().max(1) as f64
    );
    println!("lost {lost}, written twice {written_twice}, wrong final record {wrong}");
    if lost + written_twice + wrong > 0 {
        println!("!!! CHECK FAILED: events lost, applied twice or wrong");
        std::process::exit(1);
    }
}

/// Commands executed by every node of `urls`, summed.
async fn redis_commands(urls: &[String]) -> u64 {
    let mut total = 0;
    for url in urls {
        total += crate::fleet::redis_stats(url).await.commands;
    }
    total
}
