//! Outbound: Contacts inserted over REST by a person at `--rate` per second for
//! `--duration` seconds, both simulators adding `--latency-ms` to every API call; one
//! `workers outbound` replica turns them into Stripe customers. Latency is each Contact's
//! commit (`CreatedDate`) to the write-back of its customer id (`LastModifiedDate`), both
//! stamped by the simulator in milliseconds. Reports Salesforce calls per 1,000 Contacts
//! (the fleet's: the inserts are subtracted), the Stripe requests by outcome from the
//! replica's metrics, and checks one customer per Contact.

use std::{collections::HashSet, sync::Arc, time::Duration};

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use sfsim::{FaultConfig, SimConfig, Simulator};
use testkit::harness::{self, RedisServer};
use tokio::time::Instant;

use crate::{
    fleet::{sim_get, spawn},
    Args,
};

/// A live-mode key: Stripe's live budget (100 requests/s; the fleet allows itself 80).
const KEY: &str = "sk_live_bench_outbound";

/// Runs the benchmark and prints the numbers.
pub async fn outbound(args: &Args) {
    let redis = RedisServer::start().await.expect("redis");
    let mut sf_config = SimConfig::on_free_port();
    sf_config.faults = FaultConfig {
        latency_ms: args.latency_ms,
        ..FaultConfig::default()
    };
    sf_config.pubsub.keepalive = Duration::from_secs(1);
    let salesforce = Simulator::start(sf_config).await.expect("sfsim");
    let mut stripe_config = stripesim::SimConfig::on_free_port();
    stripe_config.api_key = Some(KEY.into());
    stripe_config.rate_limits = stripesim::config::RateLimits {
        global: 100,
        endpoint: 100,
        search: 20,
    };
    let stripe = stripesim::Simulator::start(stripe_config)
        .await
        .expect("stripesim");
    let http = harness::http_client();
    let reply = http
        .put(format!("{}/__sim/faults", stripe.base_url()))
        .json(&json!({"latency_ms": args.latency_ms}))
        .send()
        .await
        .expect("stripesim");
    assert!(reply.status().is_success());
    let cert = std::env::temp_dir().join(format!("bench-pubsub-{}.pem", harness::free_port()));
    std::fs::write(&cert, salesforce.pubsub_cert_pem().expect("Pub/Sub")).expect("cert");
    let metrics_port = harness::free_port();
    let env: Vec<(String, String)> = vec![
        ("REDIS_URL".into(), redis.url()),
        ("METRICS_ADDR".into(), format!("127.0.0.1:{metrics_port}")),
        ("RUST_LOG".into(), "warn".into()),
        ("SALESFORCE_LOGIN_URL".into(), salesforce.base_url().into()),
        ("SALESFORCE_CLIENT_ID".into(), salesforce.client_id().into()),
        (
            "SALESFORCE_CLIENT_SECRET".into(),
            salesforce.client_secret().into(),
        ),
        ("STRIPE_API_KEY".into(), KEY.into()),
        ("STRIPE_API_BASE".into(), stripe.base_url().into()),
        (
            "PUBSUB_URL".into(),
            salesforce.pubsub_url().expect("Pub/Sub URL"),
        ),
        ("PUBSUB_CA_FILE".into(), cert.display().to_string()),
        ("PUBSUB_TLS_DOMAIN".into(), "localhost".into()),
    ];
    let _outbound = spawn("outbound", "workers", &["outbound"], &env);
    harness::wait_for_http(
        &format!("http://127.0.0.1:{metrics_port}/health/live"),
        Duration::from_secs(30),
    )
    .await
    .expect("outbound is up");
    wait_subscribed(&redis.url()).await;

    let token: Value = http
        .post(salesforce.token_url())
        .form(&[
            ("grant_type", "password"),
            ("client_id", salesforce.client_id()),
            ("client_secret", salesforce.client_secret()),
            ("username", sfsim::config::ADMIN_USERNAME),
            ("password", sfsim::config::ADMIN_PASSWORD),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let person = Arc::new(token["access_token"].as_str().expect("token").to_owned());
    let calls_before = sim_get(&http, format!("{}/__sim/calls", salesforce.base_url())).await;
    let count = args.rate * args.duration;
    println!(
        "outbound: {count} Contacts at {}/s, {} ms latency on both simulators",
        args.rate, args.latency_ms
    );
    let started = Instant::now();
    let mut inserts = tokio::task::JoinSet::new();
    for n in 0..count {
        let due = started + Duration::from_micros(n * 1_000_000 / args.rate);
        let (http, person) = (http.clone(), person.clone());
        let url = format!(
            "{}/services/data/v62.0/sobjects/Contact",
            salesforce.base_url()
        );
        inserts.spawn(async move {
            tokio::time::sleep_until(due).await;
            let reply = http
                .post(url)
                .bearer_auth(person.as_str())
                .json(&json!({"LastName": format!("Bench {n}"), "Email": format!("bench{n}@example.com")}))
                .send()
                .await
                .expect("insert");
            assert!(reply.status().is_success(), "insert: {}", reply.status());
        });
    }
    while inserts.join_next().await.is_some() {}
    let admin = sfsim::SimAdmin::new(http.clone(), salesforce.base_url());
    let deadline = Instant::now() + Duration::from_secs(120);
    let contacts = loop {
        let contacts = admin.records("Contact").await.expect("records");
        let done = contacts
            .iter()
            .filter(|c| c["Stripe_Customer_ID__c"].is_string())
            .count();
        if done as u64 >= count || Instant::now() > deadline {
            break contacts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let drained = started.elapsed();
    let calls_after = sim_get(&http, format!("{}/__sim/calls", salesforce.base_url())).await;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000, 3).expect("histogram");
    let mut customers = HashSet::new();
    let mut missing = 0;
    for contact in &contacts {
        let Some(customer) = contact["Stripe_Customer_ID__c"].as_str() else {
            missing += 1;
            continue;
        };
        customers.insert(customer.to_owned());
        if let (Some(created), Some(written)) = (
            millis(&contact["CreatedDate"]),
            millis(&contact["LastModifiedDate"]),
        ) {
            latency.saturating_record(u64::try_from(written - created).unwrap_or(1).max(1));
        }
    }
    let total = |calls: &Value| calls["total"].as_u64().unwrap_or(0);
    let fleet_calls = total(&calls_after) - total(&calls_before) - count;
    let stripe_customers = count_customers(&http, stripe.base_url()).await;
    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    println!(
        "commit → customer id on the Contact  p50 {} ms  p95 {} ms  p99 {} ms  max {} ms",
        latency.value_at_quantile(0.5),
        latency.value_at_quantile(0.95),
        latency.value_at_quantile(0.99),
        latency.max()
    );
    println!("drained after    {:.1} s", drained.as_secs_f64());
    println!(
        "Salesforce calls {fleet_calls} by the fleet = {:.1} per 1,000 Contacts",
        fleet_calls as f64 * 1000.0 / count as f64
    );
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("stripe_requests_total"))
    {
        println!("  {line}");
    }
    println!(
        "Contacts without a customer {missing}; Stripe customers {stripe_customers}; distinct ids on Contacts {}",
        customers.len()
    );
    if missing > 0 || stripe_customers != count || customers.len() as u64 != count {
        println!("!!! CHECK FAILED: a Contact without a customer, or not exactly one each");
        std::process::exit(1);
    }
    let _ = std::fs::remove_file(cert);
}

/// A simulator datetime (`2026-12-04T10:00:00.250+0000`) in Unix ms.
fn millis(value: &Value) -> Option<i64> {
    let text = value.as_str()?;
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
        .ok()?
        .to_timestamp()
        .ok()
        .map(|t| t.as_millisecond())
}

async fn wait_subscribed(url: &str) {
    let client = redis::Client::open(url).expect("redis URL");
    harness::wait_for("the subscription", Duration::from_secs(30), || async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        let replay: Option<String> = redis::cmd("HGET")
            .arg("{fleet}:outbound:replay:/data/ContactChangeEvent")
            .arg("replay_id")
            .query_async(&mut conn)
            .await
            .ok()?;
        replay
    })
    .await
    .expect("subscribed");
}

async fn count_customers(http: &reqwest::Client, base: &str) -> u64 {
    let mut count = 0;
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/customers?limit=100");
        if let Some(after) = &after {
            url.push_str(&format!("&starting_after={after}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(KEY)
            .send()
            .await
            .expect("stripesim")
            .json()
            .await
            .expect("list");
        let data = page["data"].as_array().cloned().unwrap_or_default();
        count += data.len() as u64;
        after = data
            .last()
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned);
        if page["has_more"] != true {
            return count;
        }
    }
}
