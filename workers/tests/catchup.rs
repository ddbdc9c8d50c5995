//! Nothing missed: Stripe's event list as a second source, through the real binaries.
//!
//! - Webhook deliveries held back in `stripesim` (as when an endpoint is down): `workers
//!   catchup` lists the events, enqueues them through the bridge's dedupe, and the
//!   consumers write them to `sfsim`; the webhooks released later add nothing.
//! - `workers backfill` run twice enqueues each event once; an interrupted run resumes
//!   after its cursor.

mod support;

use std::{process::Output, sync::Arc, time::Duration};

use serde_json::Value;
use stripe_client::customers::CustomerParams;
use stripe_client::{ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
use support::{sim::Sim, BridgeStack, PREFIX};
use testkit::harness::{self, ServiceProcess};

const KEY: &str = "sk_test_catchup_tests";
const SETTLE: Duration = Duration::from_secs(60);

/// stripesim with the fleet's client for it.
struct Stripe {
    sim: stripesim::RunningSimulator,
    client: StripeClient,
    http: reqwest::Client,
}

impl Stripe {
    async fn start() -> Self {
        let mut config = stripesim::SimConfig::on_free_port();
        config.api_key = Some(KEY.into());
        let sim = stripesim::Simulator::start(config)
            .await
            .expect("stripesim starts");
        let settings = StripeSettings::new(ApiKey::new(KEY).expect("a secret key"))
            .with_api_base(sim.base_url());
        let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
        Self {
            sim,
            client,
            http: harness::http_client(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STRIPE_API_KEY", KEY.to_owned()),
            ("STRIPE_API_BASE", self.sim.base_url().to_owned()),
        ]
    }

    /// Creates a customer named `name`; answers its id.
    async fn customer(&self, name: &str) -> String {
        self.client
            .create_customer(
                &CustomerParams {
                    name: Some(name.into()),
                    email: Some(format!("{}@example.com", name.to_lowercase())),
                    ..CustomerParams::default()
                },
                &IdempotencyKey::derive("customer.create", &[name]),
            )
            .await
            .expect("customer created")
            .id
    }

    async fn post(&self, path: &str, body: Option<Value>, form: &[(&str, &str)]) -> Value {
        let request = self.http.post(format!("{}{path}", self.sim.base_url()));
        let request = match body {
            Some(body) => request.json(&body),
            None => request.bearer_auth(KEY).form(form),
        };
        let reply = request.send().await.expect("stripesim answers");
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.expect("JSON")
    }

    async fn webhooks(&self) -> Value {
        self.http
            .get(format!("{}/__sim/webhooks", self.sim.base_url()))
            .send()
            .await
            .expect("stripesim answers")
            .json()
            .await
            .expect("JSON")
    }
}

/// Runs `workers backfill ARGS --json` to its end; answers its output.
fn backfill(stack: &BridgeStack, stripe: &Stripe, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_workers"));
    command
        .arg("backfill")
        .args(args)
        .arg("--json")
        .env("REDIS_URL", stack.redis.url());
    for (key, value) in stripe.env() {
        command.env(key, value);
    }
    command.output().expect("workers backfill runs")
}

fn summary(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "backfill failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON summary")
}

async fn stream_length(stack: &BridgeStack) -> usize {
    stack.entries("high").await.len() + stack.entries("low").await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_run_twice_enqueues_each_event_once() {
    let stack = BridgeStack::start(false).await;
    let stripe = Stripe::start().await;
    for name in ["Ada", "Grace", "Edsger"] {
        stripe.customer(name).await;
    }

    let first = summary(&backfill(&stack, &stripe, &["--since", "1h"]));
    assert_eq!(first["listed"], 3, "{first}");
    assert_eq!(first["enqueued_low"], 3, "{first}");
    assert_eq!(first["already_seen"], 0, "{first}");
    assert_eq!(stream_length(&stack).await, 3);

    let second = summary(&backfill(&stack, &stripe, &["--since", "1h"]));
    assert_eq!(second["listed"], 3, "{second}");
    assert_eq!(second["enqueued_low"], 0, "{second}");
    assert_eq!(second["enqueued_high"], 0, "{second}");
    assert_eq!(second["already_seen"], 3, "{second}");
    assert_eq!(second["resumed"], false, "{second}");
    assert_eq!(
        stream_length(&stack).await,
        3,
        "the second run added nothing"
    );

    // Consumed, the three customers are written once each.
    let salesforce = Sim::start().await;
    let _bulk = stack
        .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "200")])
        .await;
    let records = harness::wait_for("three customers in Salesforce", SETTLE, || async {
        let records = salesforce.records("Stripe_Customer__c").await;
        (records.len() >= 3).then_some(records)
    })
    .await
    .expect("records written");
    assert_eq!(records.len(), 3, "{records:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_backfill_resumes_after_its_cursor() {
    let stack = BridgeStack::start(false).await;
    let stripe = Stripe::start().await;
    for name in ["Ada", "Grace", "Edsger", "Barbara"] {
        stripe.customer(name).await;
    }
    // The events oldest first, as the backfill walks them.
    let mut listed = stripe
        .client
        .list_events(&stripe_client::events::ListEvents::default())
        .await
        .expect("events")
        .data;
    listed.reverse();
    assert_eq!(listed.len(), 4);
    // A run interrupted after the second event, as `{fleet}:backfill` keeps it.
    let types = support_types();
    let mut conn = stack.redis().await;
    let _: () = redis::cmd("HSET")
        .arg(format!("{{{PREFIX}}}:backfill"))
        .arg(&[
            ("from", "0"),
            ("types", types.as_str()),
            ("cursor", listed[1].id.as_str()),
            ("listed", "2"),
            ("enqueued_low", "2"),
        ])
        .query_async(&mut conn)
        .await
        .expect("HSET");

    let resumed = summary(&backfill(&stack, &stripe, &["--since", "1h"]));
    assert_eq!(resumed["resumed"], true, "{resumed}");
    assert_eq!(resumed["listed"], 4, "{resumed}");
    assert_eq!(resumed["enqueued_low"], 4, "{resumed}");
    // Only the two events after the cursor were enqueued by this run.
    let mut enqueued: Vec<String> = stack
        .entries("low")
        .await
        .into_iter()
        .map(|e| e["event_id"].clone())
        .collect();
    enqueued.sort();
    let mut expected = vec![listed[2].id.clone(), listed[3].id.clone()];
    expected.sort();
    assert_eq!(enqueued, expected);
    let left: Option<String> = redis::cmd("HGET")
        .arg(format!("{{{PREFIX}}}:backfill"))
        .arg("cursor")
        .query_async(&mut conn)
        .await
        .expect("HGET");
    assert_eq!(left, None, "a finished run is forgotten");
}

/// The types a backfill lists by default: the built-in mapping's, as it stores them.
fn support_types() -> String {
    let source = workers::catchup::EventSource::default();
    source.types(None).expect("the mapping's types").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_webhooks_are_recovered_by_the_catch_up() {
    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let stripe = Stripe::start().await;

    // The fleet's webhook path: endpoint → ingress → SQS → bridge.
    let ingress_port = harness::free_port();
    let url = format!("http://127.0.0.1:{ingress_port}/webhook/stripe");
    let endpoint = stripe
        .post(
            "/v1/webhook_endpoints",
            None,
            &[("url", url.as_str()), ("enabled_events[]", "*")],
        )
        .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let mut env: Vec<(&str, String)> = stack.sqs.env();
    env.push(("SQS_QUEUE_URL", stack.queue_url.clone()));
    env.push(("LISTEN_ADDR", format!("127.0.0.1:{ingress_port}")));
    env.push(("STRIPE_WEBHOOK_SECRETS", secret));
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ingress = ServiceProcess::spawn("ingress", harness::binary("ingress"), &[], &env_refs)
        .expect("ingress starts");
    harness::wait_for_http(
        &format!("http://127.0.0.1:{ingress_port}/health/ready"),
        Duration::from_secs(30),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", ingress.log_contents()));
    let _bridge = stack.start_bridge(&[]).await;
    let _realtime = stack.start_consumer("realtime", &salesforce, &[]).await;
    let _bulk = stack
        .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "200")])
        .await;

    // The endpoint goes dark: every delivery is held back.
    stripe
        .http
        .put(format!("{}/__sim/webhooks", stripe.sim.base_url()))
        .json(&serde_json::json!({ "hold": true }))
        .send()
        .await
        .expect("stripesim answers");
    let mut customers = Vec::new();
    for name in ["Ada", "Grace", "Edsger"] {
        customers.push(stripe.customer(name).await);
    }

    let stripe_env = stripe.env();
    let mut catchup_env: Vec<(&str, &str)> =
        stripe_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    catchup_env.push(("CATCHUP_INTERVAL_SECS", "1"));
    let (catchup, metrics_port) = stack
        .start_consumer_with_port("catchup", &salesforce, &catchup_env)
        .await;
    for id in &customers {
        harness::wait_for(&format!("customer {id} in Salesforce"), SETTLE, || async {
            salesforce
                .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", id)
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; catchup log: {}", catchup.log_contents()));
    }
    let held = stripe.webhooks().await;
    assert_eq!(held["held"], 3, "the webhooks are still held: {held}");
    let metrics = harness::http_client()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("catchup_events_recovered_total 3"),
        "{metrics}"
    );

    // The endpoint is back: the late webhooks are duplicates, nothing is written again.
    stripe
        .post(
            "/__sim/webhooks/release",
            Some(serde_json::json!({ "order": "original" })),
            &[],
        )
        .await;
    harness::wait_for("the late webhooks deduplicated", SETTLE, || async {
        let deliveries: Value = stripe
            .http
            .get(format!("{}/__sim/deliveries", stripe.sim.base_url()))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let delivered = deliveries["data"]
            .as_array()?
            .iter()
            .filter(|d| d["succeeded"] == true)
            .count();
        (delivered >= 3).then_some(())
    })
    .await
    .expect("deliveries succeed");
    stack.wait_for_empty_queue(SETTLE).await;
    for id in &customers {
        let writes = salesforce
            .writes("Stripe_Customer__c", "Stripe_Customer_ID__c", id)
            .await;
        assert_eq!(writes.len(), 1, "{id} written once: {writes:?}");
    }
}

/// `catchup_lease_held` of the catch-up serving metrics on `port` (None if it does not
/// answer).
async fn lease_held(port: u16) -> Option<bool> {
    let text = harness::http_client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("catchup_lease_held "))
        .map(|value| value.trim() == "1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_catch_up_replica_lists_and_another_takes_over_when_it_stops() {
    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let stripe = Stripe::start().await;
    let stripe_env = stripe.env();
    let mut env: Vec<(&str, &str)> = stripe_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("CATCHUP_INTERVAL_SECS", "1"), ("CATCHUP_LEASE_MS", "2000")]);
    let (first, first_port) = stack
        .start_consumer_with_port("catchup", &salesforce, &env)
        .await;
    let (second, second_port) = stack
        .start_consumer_with_port("catchup", &salesforce, &env)
        .await;
    let holder = harness::wait_for("one replica holding the lease", SETTLE, || async {
        let a = lease_held(first_port).await?;
        let b = lease_held(second_port).await?;
        match (a, b) {
            (true, false) => Some(1),
            (false, true) => Some(2),
            _ => None,
        }
    })
    .await
    .expect("a holder");
    // Never both: sampled over a few intervals (a sampling period, not a synchronisation).
    for _ in 0..3 {
        let both = lease_held(first_port).await == Some(true)
            && lease_held(second_port).await == Some(true);
        assert!(!both, "two replicas hold the lease");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The holder stops; the other takes over and recovers what is new.
    let (mut stopped, other_port, other) = if holder == 1 {
        (first, second_port, second)
    } else {
        (second, first_port, first)
    };
    stopped.kill();
    let customer = stripe.customer("Ada").await;
    harness::wait_for("the other replica takes over", SETTLE, || async {
        lease_held(other_port).await.filter(|held| *held)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", other.log_contents()));
    harness::wait_for("the new customer's event enqueued", SETTLE, || async {
        let low = stack.entries("low").await;
        low.iter().any(|e| e["object_id"] == customer).then_some(())
    })
    .await
    .expect("enqueued by the new holder");
}

#[tokio::test]
async fn the_lease_is_held_renewed_and_released_only_by_its_holder() {
    use workers::store::{connect, CatchupStore, KeySpace};

    let redis = testkit::harness::RedisServer::start()
        .await
        .expect("redis starts");
    let state = CatchupStore::new(connect(&redis.url()).expect("url"), KeySpace::new(PREFIX));
    let ttl = Duration::from_secs(30);
    assert!(state.hold_lease("a", ttl).await.expect("redis"));
    assert!(!state.hold_lease("b", ttl).await.expect("redis"), "taken");
    assert!(state.hold_lease("a", ttl).await.expect("redis"), "renewed");
    state.release_lease("b").await.expect("redis");
    assert!(
        !state.hold_lease("b", ttl).await.expect("redis"),
        "only the holder releases"
    );
    state.release_lease("a").await.expect("redis");
    assert!(
        state.hold_lease("b", ttl).await.expect("redis"),
        "free again"
    );
}
