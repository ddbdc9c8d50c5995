//! `workers reconcile` through the real binary, against `stripesim` and `sfsim`: a record
//! changed by hand in Salesforce is reported, `--repair` puts Stripe's state back through
//! the pipeline (a synthetic event, the bulk consumer), and a second run reports nothing.

mod support;

use std::{process::Output, sync::Arc, time::Duration};

use serde_json::{json, Value};
use stripe_client::customers::CustomerParams;
use stripe_client::{ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
use support::{sim::Sim, BridgeStack};
use testkit::harness;

const KEY: &str = "sk_test_reconcile_tests";
const SETTLE: Duration = Duration::from_secs(60);

/// Runs `workers <command> ARGS` against Redis, stripesim and sfsim; answers its output.
fn workers(
    command: &str,
    stack: &BridgeStack,
    stripe: &stripesim::RunningSimulator,
    salesforce: &Sim,
    args: &[&str],
) -> Output {
    let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_workers"));
    process
        .arg(command)
        .args(args)
        .env("REDIS_URL", stack.redis.url())
        .env("STRIPE_API_KEY", KEY)
        .env("STRIPE_API_BASE", stripe.base_url());
    for (key, value) in salesforce.env() {
        process.env(key, value);
    }
    process.output().expect("workers runs")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_by_hand_is_reported_then_repaired() {
    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let mut config = stripesim::SimConfig::on_free_port();
    config.api_key = Some(KEY.into());
    let stripe = stripesim::Simulator::start(config)
        .await
        .expect("stripesim starts");
    let settings =
        StripeSettings::new(ApiKey::new(KEY).expect("key")).with_api_base(stripe.base_url());
    let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
    let mut ids = Vec::new();
    for name in ["Ada", "Grace"] {
        let customer = client
            .create_customer(
                &CustomerParams {
                    name: Some(name.into()),
                    email: Some(format!("{}@example.com", name.to_lowercase())),
                    ..CustomerParams::default()
                },
                &IdempotencyKey::derive("customer.create", &[name]),
            )
            .await
            .expect("customer");
        ids.push(customer.id);
    }

    // Salesforce gets the customers through the fleet (a backfill, the bulk consumer).
    let backfilled = workers("backfill", &stack, &stripe, &salesforce, &["--since", "1h"]);
    assert!(backfilled.status.success(), "{backfilled:?}");
    let _bulk = stack
        .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "200")])
        .await;
    for id in &ids {
        harness::wait_for(&format!("{id} in Salesforce"), SETTLE, || async {
            salesforce
                .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", id)
                .await
        })
        .await
        .expect("written");
    }
    let in_sync = workers(
        "reconcile",
        &stack,
        &stripe,
        &salesforce,
        &["--objects", "customers", "--json"],
    );
    let report = json_of(&in_sync);
    assert_eq!(report["objects"][0]["findings"], json!([]), "{report}");
    assert_eq!(report["objects"][0]["in_stripe"], 2, "{report}");
    assert!(in_sync.status.success(), "{in_sync:?}");

    // Someone edits Grace's record in Salesforce.
    let grace = salesforce
        .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", &ids[1])
        .await
        .expect("record");
    let edited = harness::http_client()
        .patch(format!(
            "{}/services/data/v62.0/sobjects/Stripe_Customer__c/{}",
            salesforce.sim.base_url(),
            grace["Id"].as_str().expect("Id")
        ))
        .bearer_auth(salesforce.access_token().await)
        .json(&json!({ "Customer_Name__c": "Edited by hand" }))
        .send()
        .await
        .expect("sfsim answers");
    assert!(edited.status().is_success(), "{}", edited.status());

    let found = workers(
        "reconcile",
        &stack,
        &stripe,
        &salesforce,
        &["--objects", "customers", "--json"],
    );
    assert_eq!(found.status.code(), Some(1), "{found:?}");
    let report = json_of(&found);
    assert_eq!(
        report["objects"][0]["findings"],
        json!([{
            "kind": "different",
            "key": ids[1],
            "fields": [{"field": "Customer_Name__c", "salesforce": "Edited by hand", "stripe": "Grace"}],
        }]),
        "{report}"
    );

    // The repair event must be newer than the customer's own (Stripe's time has seconds).
    let created = grace["Last_Stripe_Event_At__c"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    harness::wait_for("a new second", Duration::from_secs(3), || async {
        let now = jiff::Timestamp::now();
        let then: jiff::Timestamp = created
            .parse()
            .or_else(|_| {
                jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", &created)?.to_timestamp()
            })
            .ok()?;
        (now.as_second() > then.as_second()).then_some(())
    })
    .await
    .expect("the clock moves");
    let repaired = workers(
        "reconcile",
        &stack,
        &stripe,
        &salesforce,
        &["--objects", "customers", "--repair", "--json"],
    );
    let report = json_of(&repaired);
    assert_eq!(report["objects"][0]["repairs_enqueued"], 1, "{report}");
    harness::wait_for("Grace's name back from Stripe", SETTLE, || async {
        salesforce
            .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", &ids[1])
            .await
            .filter(|r| r["Customer_Name__c"] == "Grace")
    })
    .await
    .expect("repaired");

    // Every kind (subscriptions and prices too, none here): nothing to report.
    let again = workers("reconcile", &stack, &stripe, &salesforce, &[]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("OK: Salesforce matches Stripe"), "{text}");
}

/// `POST` to stripesim with the key, as a Stripe user would in the dashboard.
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
async fn a_subscription_and_its_price_applied_by_the_fleet_reconcile_clean() {
    use stripe_client::checkout::{CheckoutMode, CreateCheckoutSession, LineItem};

    let stack = BridgeStack::start(false).await;
    let salesforce = Sim::start().await;
    let mut config = stripesim::SimConfig::on_free_port();
    config.api_key = Some(KEY.into());
    let stripe = stripesim::Simulator::start(config)
        .await
        .expect("stripesim starts");
    let base = stripe.base_url().to_owned();
    let product = stripe_post(&base, "/v1/products", &[("name", "Pro")]).await;
    let price = stripe_post(
        &base,
        "/v1/prices",
        &[
            ("product", product["id"].as_str().expect("product")),
            ("currency", "eur"),
            ("unit_amount", "1500"),
            ("nickname", "Pro monthly"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let settings =
        StripeSettings::new(ApiKey::new(KEY).expect("key")).with_api_base(stripe.base_url());
    let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
    let customer = client
        .create_customer(
            &CustomerParams {
                email: Some("grace@example.com".into()),
                ..CustomerParams::default()
            },
            &IdempotencyKey::derive("customer.create", &["grace"]),
        )
        .await
        .expect("customer");
    let session = client
        .create_checkout_session(
            &CreateCheckoutSession {
                mode: CheckoutMode::Subscription,
                customer: Some(customer.id.clone()),
                line_items: vec![LineItem {
                    price: price["id"].as_str().expect("price").to_owned(),
                    quantity: 2,
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

    let backfilled = workers("backfill", &stack, &stripe, &salesforce, &["--since", "1h"]);
    assert!(backfilled.status.success(), "{backfilled:?}");
    let _realtime = stack.start_consumer("realtime", &salesforce, &[]).await;
    let _bulk = stack
        .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "200")])
        .await;
    harness::wait_for("every event applied", SETTLE, || async {
        let high = stack.entries("high").await.len();
        let low = stack.entries("low").await.len();
        let subscriptions = salesforce.records("Stripe_Subscription__c").await.len();
        (high + low == 0 && subscriptions == 1).then_some(())
    })
    .await
    .expect("applied");

    let output = workers("reconcile", &stack, &stripe, &salesforce, &["--json"]);
    let report = json_of(&output);
    for object in report["objects"].as_array().expect("objects") {
        assert_eq!(object["findings"], json!([]), "{object}");
        assert_eq!(object["in_stripe"], 1, "{object}");
    }
    assert!(output.status.success(), "{report}");
}
