//! The whole Stripe → Salesforce loop offline, through the real binaries: objects made in
//! `stripesim` (by the fleet's own Stripe client, and by a customer paying on a Checkout
//! page) → signed webhooks from `stripesim` → `ingress` (its own signature verifier) → SQS
//! emulator → `workers bridge` → `workers realtime` / `workers bulk` → records in `sfsim`.

mod support;

use std::sync::Arc;

use serde_json::Value;
use stripe_client::checkout::{CheckoutMode, CreateCheckoutSession, LineItem};
use stripe_client::customers::CustomerParams;
use stripe_client::{ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
use support::outbound::{Inbound, Org, KEY, SETTLE};
use testkit::harness;

/// Everything between Stripe and Salesforce, started on free ports, and the fleet's own
/// Stripe client.
struct Loop {
    org: Org,
    inbound: Inbound,
    client: StripeClient,
}

impl Loop {
    async fn start() -> Self {
        let org = Org::start().await;
        let inbound = org.start_inbound().await;
        let settings = StripeSettings::new(ApiKey::new(KEY).expect("a secret key"))
            .with_api_base(org.stripe.base_url());
        let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
        Self {
            org,
            inbound,
            client,
        }
    }

    /// Waits until `object` holds a record whose `field` is `value`, and returns it.
    async fn record(&self, object: &str, field: &str, value: &str) -> Value {
        self.record_where(object, field, value, |_| true).await
    }

    /// Waits until the record of `object` with `field` = `value` satisfies `done`.
    async fn record_where(
        &self,
        object: &str,
        field: &str,
        value: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        self.org
            .record_where(object, field, value, done, || self.inbound.logs())
            .await
    }
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
    let product = fleet
        .org
        .stripe_form("/v1/products", &[("name", "Pro")])
        .await;
    let product = product["id"].as_str().expect("product id");
    let price = fleet
        .org
        .stripe_form(
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
        .org
        .http
        .post(format!(
            "{}/__sim/checkout/sessions/{}/complete",
            fleet.org.stripe.base_url(),
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
        let all = fleet.org.salesforce.records("Payment_Transaction__c").await;
        (all.len() >= 2).then_some(all)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; {}", fleet.inbound.logs()));
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
