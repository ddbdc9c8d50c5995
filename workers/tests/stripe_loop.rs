//! The whole Stripe → Salesforce loop offline, through the real binaries: objects made in
//! `stripesim` (by the fleet's own Stripe client, and by a customer paying on a Checkout
//! page) → signed webhooks from `stripesim` → `ingress` (its own signature verifier) → SQS
//! emulator → `workers bridge` → `workers realtime` / `workers bulk` → records in `sfsim`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use stripe_client::checkout::{CheckoutMode, CreateCheckoutSession, LineItem};
use stripe_client::customers::CustomerParams;
use stripe_client::{ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
use support::{sim::Sim, BridgeStack};
use testkit::harness::{self, ServiceProcess};

const KEY: &str = "sk_test_stripe_loop";
const SETTLE: Duration = Duration::from_secs(60);

/// Everything between Stripe and Salesforce, started on free ports.
struct Loop {
    _stack: BridgeStack,
    salesforce: Sim,
    stripe: stripesim::RunningSimulator,
    client: StripeClient,
    http: reqwest::Client,
    processes: Vec<ServiceProcess>,
}

impl Loop {
    async fn start() -> Self {
        let stack = BridgeStack::start(false).await;
        let salesforce = Sim::start().await;
        let mut config = stripesim::SimConfig::on_free_port();
        config.api_key = Some(KEY.into());
        let stripe = stripesim::Simulator::start(config)
            .await
            .expect("stripesim starts");
        let http = harness::http_client();

        // Stripe's dashboard step: a webhook endpoint for the ingress; its secret is shown once.
        let ingress_port = harness::free_port();
        let url = format!("http://127.0.0.1:{ingress_port}/webhook/stripe");
        let endpoint = stripe_post(
            &http,
            stripe.base_url(),
            "/v1/webhook_endpoints",
            &[("url", url.as_str()), ("enabled_events[]", "*")],
        )
        .await;
        let secret = endpoint["secret"]
            .as_str()
            .expect("the signing secret")
            .to_string();

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

        let bridge = stack.start_bridge(&[]).await;
        let realtime = stack.start_consumer("realtime", &salesforce, &[]).await;
        let bulk = stack
            .start_consumer("bulk", &salesforce, &[("BULK_BATCH_AGE_MS", "300")])
            .await;
        let settings = StripeSettings::new(ApiKey::new(KEY).expect("a secret key"))
            .with_api_base(stripe.base_url());
        let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
        Self {
            _stack: stack,
            salesforce,
            stripe,
            client,
            http,
            processes: vec![ingress, bridge, realtime, bulk],
        }
    }

    /// Waits until `object` holds a record whose `field` is `value`, and returns it.
    async fn record(&self, object: &str, field: &str, value: &str) -> Value {
        harness::wait_for(
            &format!("{object} with {field} = {value}"),
            SETTLE,
            || async { self.salesforce.record_by(object, field, value).await },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; processes: {}", self.logs()))
    }

    /// Waits until the record of `object` with `field` = `value` satisfies `done`.
    async fn record_where(
        &self,
        object: &str,
        field: &str,
        value: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        harness::wait_for(&format!("{object} {value} as expected"), SETTLE, || async {
            self.salesforce
                .record_by(object, field, value)
                .await
                .filter(|record| done(record))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; processes: {}", self.logs()))
    }

    fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|process| {
                format!(
                    "\n--- {}:\n{}",
                    process.name(),
                    tail(&process.log_contents())
                )
            })
            .collect()
    }
}

/// `POST` to stripesim with the key: what the fleet's client does not offer (a webhook
/// endpoint, the catalogue), as a Stripe user would do it in the dashboard.
async fn stripe_post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Value {
    let reply = http
        .post(format!("{base}{path}"))
        .bearer_auth(KEY)
        .form(form)
        .send()
        .await
        .expect("stripesim answers");
    assert!(reply.status().is_success(), "{path}: {}", reply.status());
    reply.json().await.expect("JSON")
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_created_through_the_fleets_client_becomes_a_salesforce_record() {
    let fleet = Loop::start().await;
    let customer = fleet
        .client
        .create_customer(
            &CustomerParams {
                email: Some("ada@example.com".into()),
                name: Some("Ada Lovelace".into()),
                ..CustomerParams::default()
            },
            &IdempotencyKey::derive("customer.create", &["003000000000001AAA", "change-1"]),
        )
        .await
        .expect("customer created");
    let record = fleet
        .record("Stripe_Customer__c", "Stripe_Customer_ID__c", &customer.id)
        .await;
    assert_eq!(record["Customer_Email__c"], "ada@example.com");
    assert_eq!(record["Customer_Name__c"], "Ada Lovelace");

    fleet
        .client
        .update_customer(
            &customer.id,
            &CustomerParams {
                name: Some("Ada King".into()),
                ..CustomerParams::default()
            },
            &IdempotencyKey::derive("customer.update", &[&customer.id, "change-2"]),
        )
        .await
        .expect("customer updated");
    fleet
        .record_where(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &customer.id,
            |r| r["Customer_Name__c"] == "Ada King",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_checkout_session_becomes_subscription_payment_and_plan_records() {
    let fleet = Loop::start().await;
    let product = stripe_post(
        &fleet.http,
        fleet.stripe.base_url(),
        "/v1/products",
        &[("name", "Pro")],
    )
    .await;
    let product = product["id"].as_str().expect("product id");
    let price = stripe_post(
        &fleet.http,
        fleet.stripe.base_url(),
        "/v1/prices",
        &[
            ("product", product),
            ("currency", "eur"),
            ("unit_amount", "1500"),
            ("nickname", "Pro monthly"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let price = price["id"].as_str().expect("price id").to_string();
    let customer = fleet
        .client
        .create_customer(
            &CustomerParams {
                email: Some("grace@example.com".into()),
                ..CustomerParams::default()
            },
            &IdempotencyKey::derive("customer.create", &["003000000000002AAA", "change-1"]),
        )
        .await
        .expect("customer");
    let session = fleet
        .client
        .create_checkout_session(
            &CreateCheckoutSession {
                mode: CheckoutMode::Subscription,
                customer: Some(customer.id.clone()),
                line_items: vec![LineItem {
                    price: price.clone(),
                    quantity: 2,
                }],
                success_url: "https://example.com/thanks".into(),
                cancel_url: None,
                client_reference_id: None,
                metadata: Default::default(),
                subscription_data: None,
            },
            &IdempotencyKey::derive("checkout.create", &["a0X000000000001AAA", "change-1"]),
        )
        .await
        .expect("session");
    assert!(session.url.is_some());

    let paid: Value = fleet
        .http
        .post(format!(
            "{}/__sim/checkout/sessions/{}/complete",
            fleet.stripe.base_url(),
            session.id
        ))
        .send()
        .await
        .expect("stripesim answers")
        .json()
        .await
        .expect("JSON");
    let subscription = paid["subscription"]
        .as_str()
        .expect("a subscription")
        .to_string();
    let in_stripe = fleet
        .client
        .retrieve_subscription(&subscription)
        .await
        .expect("the subscription");
    assert_eq!(in_stripe.status, "active");

    let record = fleet
        .record_where(
            "Stripe_Subscription__c",
            "Stripe_Subscription_ID__c",
            &subscription,
            |r| r["Sync_Status__c"] == "Completed" && r["Stripe_Price_ID__c"] == price.as_str(),
        )
        .await;
    assert_eq!(record["Stripe_Checkout_Session_ID__c"], session.id.as_str());
    assert_eq!(record["Amount__c"].as_f64(), Some(30.0));
    assert_eq!(record["Currency__c"], "EUR");
    let plan = fleet
        .record("Pricing_Plan__c", "Stripe_Price_ID__c", &price)
        .await;
    assert_eq!(plan["Name"], "Pro monthly");

    // The first invoice and its PaymentIntent: two transactions of 30.00 (see the mapping's
    // note on basil-era invoices), both succeeded.
    let payments = harness::wait_for("two transactions", SETTLE, || async {
        let all = fleet.salesforce.records("Payment_Transaction__c").await;
        (all.len() >= 2).then_some(all)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; {}", fleet.logs()));
    assert_eq!(payments.len(), 2, "{payments:?}");
    for payment in &payments {
        assert_eq!(payment["Amount__c"].as_f64(), Some(30.0), "{payment:?}");
        assert_eq!(payment["Status__c"], "succeeded", "{payment:?}");
    }
    let keys: Vec<&str> = payments
        .iter()
        .filter_map(|p| p["Stripe_Payment_Intent_ID__c"].as_str())
        .collect();
    assert!(
        keys.iter().any(|k| k.starts_with("pi_")) && keys.iter().any(|k| k.starts_with("in_")),
        "{keys:?}"
    );
    // customer.created (bulk, low priority) lands after the subscription events of the same
    // second, which write the customer's status: each keeps its own fields (aspects).
    let customer = fleet
        .record_where(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &customer.id,
            |r| {
                r["Customer_Email__c"] == "grace@example.com"
                    && r["Subscription_Status__c"] == "Active"
            },
        )
        .await;
    assert_eq!(customer["Customer_Email__c"], "grace@example.com");
}
