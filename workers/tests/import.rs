//! `workers import` through the real binary: an account's objects in `stripesim` become
//! records in `sfsim` through the low stream and the bulk consumer, parents first; a
//! second import adds nothing. Plus the import benchmark (ignored; run by hand, see the
//! README): 100,000 customers, time and Salesforce calls measured.

mod support;

use std::{
    process::Output,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::Value;
use stripe_client::customers::CustomerParams;
use stripe_client::{ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
use support::{sim::Sim, BridgeStack};
use testkit::harness;

const KEY: &str = "sk_test_import_tests";
const SETTLE: Duration = Duration::from_secs(60);

fn import(
    stack: &BridgeStack,
    stripe: &stripesim::RunningSimulator,
    env: &[(&str, &str)],
) -> Output {
    let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_workers"));
    process
        .args(["import", "--json"])
        .env("REDIS_URL", stack.redis.url())
        .env("STRIPE_API_KEY", KEY)
        .env("STRIPE_API_BASE", stripe.base_url());
    for (key, value) in env {
        process.env(key, value);
    }
    process.output().expect("workers import runs")
}

fn summary(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON summary")
}

fn kind<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["objects"]
        .as_array()
        .and_then(|kinds| kinds.iter().find(|k| k["object"] == name))
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

async fn stripesim(rate_limited: bool) -> stripesim::RunningSimulator {
    let mut config = stripesim::SimConfig::on_free_port();
    config.api_key = Some(KEY.into());
    if !rate_limited {
        config.rate_limits.global = 0;
        config.rate_limits.endpoint = 0;
    }
    stripesim::Simulator::start(config)
        .await
        .expect("stripesim starts")
}

fn client(stripe: &stripesim::RunningSimulator) -> StripeClient {
    let settings =
        StripeSettings::new(ApiKey::new(KEY).expect("key")).with_api_base(stripe.base_url());
    StripeClient::new(settings, Arc::new(Unmetered)).expect("client")
}

async fn stripe_post(base: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let reply = harness::http_client()
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .expect("stripesim answers");
    assert!(reply.status().is_success(), "{path}: {}", reply.status());
    reply.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_objects_are_imported_through_the_bulk_path_once() {
    use stripe_client::checkout::{CheckoutMode, CreateCheckoutSession, LineItem};

    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let stripe = stripesim(true).await;
    let base = stripe.base_url().to_owned();
    let client = client(&stripe);
    let product = stripe_post(&base, "/v1/products", &[("name", "Pro")]).await;
    let price = stripe_post(
        &base,
        "/v1/prices",
        &[
            ("product", product["id"].as_str().expect("product")),
            ("currency", "eur"),
            ("unit_amount", "1500"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let price = price["id"].as_str().expect("price").to_owned();
    let mut customers = Vec::new();
    for name in ["Ada", "Grace", "Edsger"] {
        let customer = client
            .create_customer(
                &CustomerParams {
                    name: Some(name.into()),
                    ..CustomerParams::default()
                },
                &IdempotencyKey::derive("customer.create", &[name]),
            )
            .await
            .expect("customer");
        customers.push(customer.id);
    }
    let session = client
        .create_checkout_session(
            &CreateCheckoutSession {
                mode: CheckoutMode::Subscription,
                customer: Some(customers[0].clone()),
                line_items: vec![LineItem {
                    price: price.clone(),
                    quantity: 1,
                }],
                success_url: "https://example.com/thanks".into(),
                cancel_url: None,
                client_reference_id: None,
                metadata: Default::default(),
                subscription_data: None,
            },
            &IdempotencyKey::derive("checkout.create", &["session-1"]),
        )
        .await
        .expect("session");
    let paid = harness::http_client()
        .post(format!(
            "{base}/__sim/checkout/sessions/{}/complete",
            session.id
        ))
        .send()
        .await
        .expect("stripesim answers");
    assert!(paid.status().is_success());

    let first = summary(&import(&stack, &stripe, &[]));
    assert_eq!(kind(&first, "customers")["enqueued"], 3, "{first}");
    assert_eq!(kind(&first, "prices")["enqueued"], 1, "{first}");
    assert_eq!(kind(&first, "subscriptions")["enqueued"], 1, "{first}");
    assert_eq!(kind(&first, "payment_intents")["enqueued"], 1, "{first}");
    assert_eq!(
        stack.entries("high").await.len(),
        0,
        "all through the bulk path"
    );
    let low = stack.entries("low").await;
    assert_eq!(low.len(), 6, "{low:?}");
    // Entries are spread over partitions, so the order shows in when each was enqueued.
    let enqueued_at = |prefix: &str| -> Vec<i64> {
        low.iter()
            .filter(|e| e["object_id"].starts_with(prefix))
            .map(|e| e["received_at"].parse().unwrap_or(0))
            .collect()
    };
    let (customers, prices, subscriptions) = (
        enqueued_at("cus_"),
        enqueued_at("price_"),
        enqueued_at("sub_"),
    );
    assert!(
        customers.iter().max() <= prices.iter().min()
            && prices.iter().max() <= subscriptions.iter().min(),
        "parents first: {low:?}"
    );

    let again = summary(&import(&stack, &stripe, &[]));
    assert_eq!(kind(&again, "customers")["enqueued"], 0, "{again}");
    assert_eq!(kind(&again, "customers")["skipped"], 3, "{again}");
    assert_eq!(
        stack.entries("low").await.len(),
        6,
        "the second import added nothing"
    );

    let _bulk = stack
        .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "200")])
        .await;
    harness::wait_for("every record in Salesforce", SETTLE, || async {
        let ok = salesforce.records("Stripe_Customer__c").await.len() == 3
            && salesforce.records("Pricing_Plan__c").await.len() == 1
            && salesforce.records("Stripe_Subscription__c").await.len() == 1
            && !salesforce
                .records("Payment_Transaction__c")
                .await
                .is_empty();
        ok.then_some(())
    })
    .await
    .expect("imported");
}

/// The import benchmark: `IMPORT_BENCH_CUSTOMERS` (default 100,000) customers in stripesim
/// (its rate limits off), `workers import` with the fleet's Stripe budget
/// (`STRIPE_REQUESTS_PER_SECOND`, default 80 here), and one bulk consumer with the defaults;
/// prints the time until every record is in sfsim and the Salesforce calls made.
/// `cargo test --release -p workers --test import -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: run by hand (README, Catch-up)"]
async fn import_benchmark() {
    let count: usize = std::env::var("IMPORT_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rate = std::env::var("STRIPE_REQUESTS_PER_SECOND").unwrap_or_else(|_| "80".into());
    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let stripe = stripesim(false).await;
    let client = Arc::new(client(&stripe));
    let seeding = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let workers_count = 32;
    for worker in 0..workers_count {
        let client = client.clone();
        tasks.spawn(async move {
            for n in (worker..count).step_by(workers_count) {
                client
                    .create_customer(
                        &CustomerParams {
                            name: Some(format!("Customer {n}")),
                            email: Some(format!("c{n}@example.com")),
                            ..CustomerParams::default()
                        },
                        &IdempotencyKey::derive("bench.customer", &[&n.to_string()]),
                    )
                    .await
                    .expect("customer");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    println!(
        "seeded {count} customers in {:.1}s",
        seeding.elapsed().as_secs_f64()
    );

    let calls_before = salesforce.calls().await["total"].as_u64().unwrap_or(0);
    let started = Instant::now();
    let _bulk = stack.start_consumer("bulk", &salesforce, &[]).await;
    let output = import(
        &stack,
        &stripe,
        &[("STRIPE_REQUESTS_PER_SECOND", rate.as_str())],
    );
    let listed = started.elapsed();
    let report = summary(&output);
    println!(
        "import listed and enqueued in {:.1}s: {report}",
        listed.as_secs_f64()
    );
    harness::wait_for(
        "every customer written",
        Duration::from_secs(900),
        || async { (stack.entries("low").await.is_empty()).then_some(()) },
    )
    .await
    .expect("the low stream drains");
    let elapsed = started.elapsed();
    let records = salesforce.records("Stripe_Customer__c").await.len();
    let calls = salesforce.calls().await;
    let total = calls["total"].as_u64().unwrap_or(0) - calls_before;
    println!(
        "{records} customers in Salesforce {:.1}s after the import started; {total} Salesforce calls ({:.1} per 10,000 records); by endpoint: {}",
        elapsed.as_secs_f64(),
        total as f64 * 10_000.0 / records.max(1) as f64,
        calls["by_endpoint"]
    );
    assert_eq!(records, count);
}
