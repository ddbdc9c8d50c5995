//! End-to-end benchmarks of the fleet on this machine (not tests: they print numbers).
//!
//! ```text
//! scripts/bench-fleet.sh realtime   # signed POSTs → ingress → SQS → bridge → realtime → sfsim
//! scripts/bench-fleet.sh bulk       # 100,000 queued low-priority events → bulk → sfsim
//! ```
//!
//! Realtime: open-loop POSTs of `payment_intent.succeeded` events (each a new customer, so
//! each creates a customer stub and a transaction) at `--rate` for `--duration` seconds,
//! with the simulator adding `--latency-ms` to every API call. End-to-end latency of an
//! event is the simulator's time of the transaction's first write minus the time its POST
//! was due. Bulk: the low stream is filled first (with the bridge's own enqueue script),
//! then one `workers bulk` replica drains it; the time is from its start to the last record.
//! Both report Salesforce API calls per 1,000 events and check that nothing was lost or
//! written twice.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use sfsim::{FaultConfig, SimConfig, Simulator};
use testkit::{
    harness::{self, RedisServer, ServiceProcess, SqsEmulator},
    stripe::{sign, unix_now, EventFactory, StripeEvent},
};
use tokio::sync::Mutex;
use workers::store::{EventStore, KeySpace, Priority, StreamEntry};

const SECRET: &str = "whsec_bench_fleet";

#[derive(Debug)]
struct Args {
    mode: String,
    rate: u64,
    duration: u64,
    latency_ms: u64,
    events: usize,
    replicas: usize,
}

fn args() -> Args {
    let mut args = Args {
        mode: "realtime".into(),
        rate: 500,
        duration: 20,
        latency_ms: 50,
        events: 100_000,
        replicas: 2,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        match raw[i].as_str() {
            "--rate" => args.rate = value.parse().expect("--rate N"),
            "--duration" => args.duration = value.parse().expect("--duration SECS"),
            "--latency-ms" => args.latency_ms = value.parse().expect("--latency-ms N"),
            "--events" => args.events = value.parse().expect("--events N"),
            "--replicas" => args.replicas = value.parse().expect("--replicas N"),
            mode => {
                args.mode = mode.to_owned();
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    args
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    match args.mode.as_str() {
        "realtime" => realtime(&args).await,
        "bulk" => bulk(&args).await,
        other => panic!("unknown mode {other}: realtime | bulk"),
    }
}

fn worker_env(redis: &RedisServer, sim_url: &str, role: &str, n: usize) -> Vec<(String, String)> {
    vec![
        ("REDIS_URL".into(), redis.url()),
        (
            "METRICS_ADDR".into(),
            format!("127.0.0.1:{}", harness::free_port()),
        ),
        ("WORKER_ID".into(), format!("{role}-{n}")),
        ("SALESFORCE_LOGIN_URL".into(), sim_url.to_owned()),
        (
            "SALESFORCE_CLIENT_ID".into(),
            sfsim::DEFAULT_CLIENT_ID.into(),
        ),
        (
            "SALESFORCE_CLIENT_SECRET".into(),
            sfsim::DEFAULT_CLIENT_SECRET.into(),
        ),
        ("SF_CALLS_PER_WINDOW".into(), "100".into()),
        ("RUST_LOG".into(), "warn".into()),
    ]
}

fn spawn(name: &str, binary: &str, args: &[&str], env: &[(String, String)]) -> ServiceProcess {
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ServiceProcess::spawn(name, harness::binary(binary), args, &refs).expect("process starts")
}

async fn sim_get(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("sfsim")
        .json()
        .await
        .expect("json")
}

async fn realtime(args: &Args) {
    let redis = RedisServer::start().await.expect("redis");
    let sqs = SqsEmulator::start().await.expect("emulator");
    let queue = sqs.create_queue("bench-events").await.expect("queue");
    let mut config = SimConfig::on_free_port();
    config.faults = FaultConfig {
        latency_ms: args.latency_ms,
        ..FaultConfig::default()
    };
    let sim = Simulator::start(config).await.expect("sfsim");
    let sim_url = sim.base_url().to_owned();
    let mut aws: Vec<(String, String)> = sqs
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    aws.push(("SQS_QUEUE_URL".into(), queue.clone()));
    aws.push(("RUST_LOG".into(), "warn".into()));
    let ingress_port = harness::free_port();
    let mut ingress_env = aws.clone();
    ingress_env.push(("LISTEN_ADDR".into(), format!("127.0.0.1:{ingress_port}")));
    ingress_env.push(("STRIPE_WEBHOOK_SECRETS".into(), SECRET.into()));
    let _ingress = spawn("ingress", "ingress", &[], &ingress_env);
    let mut bridge_env = aws.clone();
    bridge_env.extend(worker_env(&redis, &sim_url, "bridge", 0));
    // The emulator does not end a long poll when a message arrives (real SQS does).
    let wait = std::env::var("SQS_WAIT_SECS").unwrap_or_else(|_| "1".into());
    bridge_env.push(("SQS_WAIT_SECS".into(), wait));
    let _bridge = spawn("bridge", "workers", &["bridge"], &bridge_env);
    let _realtime: Vec<ServiceProcess> = (0..args.replicas)
        .map(|n| {
            spawn(
                "realtime",
                "workers",
                &["realtime"],
                &worker_env(&redis, &sim_url, "realtime", n),
            )
        })
        .collect();
    let base = format!("http://127.0.0.1:{ingress_port}");
    harness::wait_for_http(&format!("{base}/health/ready"), Duration::from_secs(30))
        .await
        .expect("ingress ready");

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
    let mut conn = redis::Client::open(redis.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let mut stages: Vec<Histogram<u64>> = (0..3)
        .map(|_| Histogram::new_with_bounds(1, 600_000, 3).expect("histogram"))
        .collect();
    for event in events.iter().step_by(10) {
        let lifecycle: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(format!("{{fleet}}:event:{}", event.id))
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
    println!("lost {lost}, written twice {written_twice}, wrong final record {wrong}");
    if lost + written_twice + wrong > 0 {
        println!("!!! CHECK FAILED: events lost, applied twice or wrong");
        std::process::exit(1);
    }
}

async fn bulk(args: &Args) {
    let redis = RedisServer::start().await.expect("redis");
    let sim = Simulator::start(SimConfig::on_free_port())
        .await
        .expect("sfsim");
    let sim_url = sim.base_url().to_owned();
    let store = EventStore::new(
        workers::store::connect(&redis.url()).expect("redis"),
        KeySpace::new("fleet"),
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
    let started = Instant::now();
    let _bulk: Vec<ServiceProcess> = (0..args.replicas)
        .map(|n| {
            spawn(
                "bulk",
                "workers",
                &["bulk"],
                &worker_env(&redis, &sim_url, "bulk", n),
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
    if (count as usize) < args.events {
        println!(
            "!!! CHECK FAILED: {} events not in Salesforce",
            args.events - count as usize
        );
        std::process::exit(1);
    }
}
