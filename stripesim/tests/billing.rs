//! Checkout and what paying creates, over HTTP: a subscription-mode session completed by
//! `/__sim/` → customer, PaymentIntent, subscription, paid invoice and their events; a
//! declined first payment → no subscription; renewals (paid and declined → `past_due`);
//! payment mode; expiry; cancelling; refusals Stripe makes.

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::Sim;

/// A product and a monthly price of 15.00 EUR; returns the price id.
async fn monthly_price(sim: &Sim) -> String {
    let product = sim.post("/v1/products", &[("name", "Plan")]).await.id();
    let price = sim
        .post(
            "/v1/prices",
            &[
                ("product", product.as_str()),
                ("currency", "eur"),
                ("unit_amount", "1500"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    assert_eq!(price.status, 200, "{:?}", price.body);
    price.id()
}

/// `customer` subscribes to one of `price` through a paid Checkout session; returns the
/// subscription's id.
async fn subscribe(sim: &Sim, customer: &str, price: &str) -> String {
    let open = session(
        sim,
        &[
            ("mode", "subscription"),
            ("customer", customer),
            ("line_items[0][price]", price),
            ("line_items[0][quantity]", "1"),
        ],
    )
    .await;
    let path = format!(
        "/__sim/checkout/sessions/{}/complete",
        open["id"].as_str().expect("id")
    );
    let done = pay(sim, &path, false).await;
    done.body["subscription"]
        .as_str()
        .expect("a subscription")
        .to_string()
}

async fn session(sim: &Sim, form: &[(&str, &str)]) -> Value {
    let reply = sim.post("/v1/checkout/sessions", form).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// The types of every event so far, oldest first.
async fn event_types(sim: &Sim) -> Vec<String> {
    let events = sim.get("/v1/events", &[("limit", "100")]).await.body;
    let mut types: Vec<String> = events["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|event| event["type"].as_str().unwrap_or_default().to_string())
        .collect();
    types.reverse();
    types
}

async fn latest_event(sim: &Sim, kind: &str) -> Value {
    sim.get("/v1/events", &[("type", kind), ("limit", "1")])
        .await
        .body["data"][0]
        .clone()
}

async fn pay(sim: &Sim, path: &str, fail: bool) -> support::Reply {
    let body = json!({ "fail_payment": fail });
    sim.admin(Method::POST, path, Some(&body)).await
}

#[tokio::test]
async fn paying_a_subscription_session_creates_the_subscription_invoice_and_payment() {
    let sim = Sim::start().await;
    let price = monthly_price(&sim).await;
    let customer = sim.customer(&[("email", "ann@example.com")]).await;
    let open = session(
        &sim,
        &[
            ("mode", "subscription"),
            ("customer", customer.as_str()),
            ("line_items[0][price]", price.as_str()),
            ("line_items[0][quantity]", "2"),
            ("success_url", "https://example.com/ok"),
            ("client_reference_id", "a0X000000000001AAA"),
            (
                "subscription_data[metadata][salesforce_id]",
                "a0X000000000001AAA",
            ),
        ],
    )
    .await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["amount_total"], 3000);
    assert!(open["url"]
        .as_str()
        .is_some_and(|url| url.contains(open["id"].as_str().unwrap_or("?"))));
    assert!(
        open.get("line_items").is_none(),
        "line items only when expanded"
    );
    let id = open["id"].as_str().expect("id").to_string();
    let items = sim
        .get(&format!("/v1/checkout/sessions/{id}/line_items"), &[])
        .await;
    assert_eq!(items.body["data"][0]["price"]["id"], price.as_str());

    let done = pay(
        &sim,
        &format!("/__sim/checkout/sessions/{id}/complete"),
        false,
    )
    .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["status"], "complete");
    assert_eq!(done.body["payment_status"], "paid");
    assert_eq!(done.body["url"], Value::Null);
    let subscription_id = done.body["subscription"]
        .as_str()
        .expect("a subscription")
        .to_string();

    let subscription = sim
        .get(&format!("/v1/subscriptions/{subscription_id}"), &[])
        .await
        .body;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["customer"], customer.as_str());
    assert_eq!(
        subscription["metadata"]["salesforce_id"],
        "a0X000000000001AAA"
    );
    let item = &subscription["items"]["data"][0];
    assert_eq!(item["price"]["id"], price.as_str());
    assert_eq!(item["quantity"], 2);
    assert!(item["current_period_end"].as_i64() > item["current_period_start"].as_i64());

    let invoice_id = subscription["latest_invoice"].as_str().expect("an invoice");
    let invoice = sim
        .get(
            &format!("/v1/invoices/{invoice_id}"),
            &[("expand[]", "payments")],
        )
        .await
        .body;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 3000);
    assert_eq!(invoice["billing_reason"], "subscription_create");
    assert_eq!(
        invoice["parent"]["subscription_details"]["subscription"],
        subscription_id.as_str()
    );
    let intent_id = invoice["payments"]["data"][0]["payment"]["payment_intent"]
        .as_str()
        .expect("the payment");
    let intent = sim
        .get(&format!("/v1/payment_intents/{intent_id}"), &[])
        .await
        .body;
    assert_eq!(
        (intent["status"].clone(), intent["amount"].clone()),
        (json!("succeeded"), json!(3000))
    );

    let types = event_types(&sim).await;
    for kind in [
        "payment_intent.created",
        "payment_intent.succeeded",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ] {
        assert_eq!(
            types.iter().filter(|t| *t == kind).count(),
            1,
            "{kind} in {types:?}"
        );
    }
    let completed = latest_event(&sim, "checkout.session.completed").await;
    assert_eq!(
        completed["data"]["object"]["client_reference_id"],
        "a0X000000000001AAA"
    );
    assert_eq!(
        completed["request"]["id"],
        Value::Null,
        "no API request caused it"
    );
    let paid = latest_event(&sim, "invoice.payment_succeeded").await;
    assert!(
        paid["data"]["object"].get("payments").is_none(),
        "events carry unexpanded objects"
    );

    let again = pay(
        &sim,
        &format!("/__sim/checkout/sessions/{id}/complete"),
        false,
    )
    .await;
    assert_eq!(again.status, 400, "a complete session cannot be paid again");
    let listed = sim
        .get("/v1/subscriptions", &[("customer", customer.as_str())])
        .await
        .body;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_declined_first_payment_creates_no_subscription_and_a_guest_gets_a_customer() {
    let sim = Sim::start().await;
    let price = monthly_price(&sim).await;
    let open = session(
        &sim,
        &[
            ("mode", "subscription"),
            ("customer_email", "guest@example.com"),
            ("line_items[0][price]", price.as_str()),
            ("line_items[0][quantity]", "1"),
        ],
    )
    .await;
    let path = format!(
        "/__sim/checkout/sessions/{}/complete",
        open["id"].as_str().expect("id")
    );
    let declined = pay(&sim, &path, true).await;
    assert_eq!(declined.status, 200, "{:?}", declined.body);
    assert_eq!(declined.body["status"], "open");
    assert_eq!(declined.body["subscription"], Value::Null);
    let failed = latest_event(&sim, "payment_intent.payment_failed").await;
    let intent = &failed["data"]["object"];
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["last_payment_error"]["code"], "card_declined");
    let none = sim.get("/v1/subscriptions", &[]).await.body;
    assert_eq!(none["data"], json!([]));

    let paid = pay(&sim, &path, false).await;
    assert_eq!(paid.body["status"], "complete");
    let customer = paid.body["customer"]
        .as_str()
        .expect("a customer was created");
    let created = latest_event(&sim, "customer.created").await;
    assert_eq!(created["data"]["object"]["id"], customer);
    assert_eq!(created["data"]["object"]["email"], "guest@example.com");
    assert_eq!(paid.body["customer_details"]["email"], "guest@example.com");
}

#[tokio::test]
async fn renewals_bill_the_next_period_and_a_declined_one_makes_the_subscription_past_due() {
    let sim = Sim::start().await;
    let price = monthly_price(&sim).await;
    let customer = sim.customer(&[]).await;
    let id = subscribe(&sim, &customer, &price).await;
    let first = sim.get(&format!("/v1/subscriptions/{id}"), &[]).await.body;
    let first_end = first["items"]["data"][0]["current_period_end"].clone();

    let renewed = pay(&sim, &format!("/__sim/subscriptions/{id}/renew"), false).await;
    assert_eq!(renewed.status, 200, "{:?}", renewed.body);
    let item = &renewed.body["items"]["data"][0];
    assert_eq!(item["current_period_start"], first_end);
    assert_ne!(renewed.body["latest_invoice"], first["latest_invoice"]);
    let updated = latest_event(&sim, "customer.subscription.updated").await;
    assert_eq!(
        updated["data"]["previous_attributes"]["items"]["data"][0]["current_period_end"],
        first_end
    );
    assert!(updated["data"]["previous_attributes"]
        .get("status")
        .is_none());

    let declined = pay(&sim, &format!("/__sim/subscriptions/{id}/renew"), true).await;
    assert_eq!(declined.body["status"], "past_due");
    let updated = latest_event(&sim, "customer.subscription.updated").await;
    assert_eq!(updated["data"]["previous_attributes"]["status"], "active");
    let failed = latest_event(&sim, "invoice.payment_failed").await;
    let invoice = &failed["data"]["object"];
    assert_eq!(
        (
            invoice["status"].clone(),
            invoice["amount_due"].clone(),
            invoice["amount_paid"].clone()
        ),
        (json!("open"), json!(1500), json!(0))
    );
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    let invoices = sim
        .get("/v1/invoices", &[("subscription", id.as_str())])
        .await
        .body;
    assert_eq!(invoices["data"].as_array().map(Vec::len), Some(3));

    let canceled = sim.delete(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(canceled.body["status"], "canceled");
    assert_eq!(
        latest_event(&sim, "customer.subscription.deleted").await["data"]["object"]["id"],
        id.as_str()
    );
    let live = sim
        .get("/v1/subscriptions", &[("customer", customer.as_str())])
        .await
        .body;
    assert_eq!(
        live["data"],
        json!([]),
        "canceled subscriptions are listed only on request"
    );
    let all = sim
        .get("/v1/subscriptions", &[("status", "all")])
        .await
        .body;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(1));
    let renew_canceled = pay(&sim, &format!("/__sim/subscriptions/{id}/renew"), false).await;
    assert_eq!(renew_canceled.status, 400);
}

#[tokio::test]
async fn payment_mode_pays_once_and_sessions_expire() {
    let sim = Sim::start().await;
    let product = sim
        .post("/v1/products", &[("name", "Setup fee")])
        .await
        .id();
    let fee = sim
        .post(
            "/v1/prices",
            &[
                ("product", product.as_str()),
                ("currency", "usd"),
                ("unit_amount", "4900"),
            ],
        )
        .await
        .id();
    let open = session(
        &sim,
        &[
            ("mode", "payment"),
            ("line_items[0][price]", fee.as_str()),
            ("line_items[0][quantity]", "1"),
        ],
    )
    .await;
    let done = pay(
        &sim,
        &format!(
            "/__sim/checkout/sessions/{}/complete",
            open["id"].as_str().expect("id")
        ),
        false,
    )
    .await;
    assert_eq!(done.body["subscription"], Value::Null);
    assert_eq!(
        done.body["customer"],
        Value::Null,
        "a guest in payment mode stays a guest"
    );
    let intent = done.body["payment_intent"].as_str().expect("a payment");
    let paid = sim
        .get(&format!("/v1/payment_intents/{intent}"), &[])
        .await
        .body;
    assert_eq!(
        (paid["amount"].clone(), paid["currency"].clone()),
        (json!(4900), json!("usd"))
    );

    let other = session(
        &sim,
        &[
            ("mode", "payment"),
            ("line_items[0][price]", fee.as_str()),
            ("line_items[0][quantity]", "1"),
        ],
    )
    .await;
    let path = format!(
        "/v1/checkout/sessions/{}/expire",
        other["id"].as_str().expect("id")
    );
    let expired = sim.post(&path, &[]).await;
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(
        latest_event(&sim, "checkout.session.expired").await["data"]["object"]["id"],
        other["id"]
    );
    let twice = sim.post(&path, &[]).await;
    assert_eq!(twice.status, 400);
    let listed = sim
        .get("/v1/checkout/sessions", &[("status", "expired")])
        .await
        .body;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn sessions_stripe_would_refuse_are_refused_and_deleting_a_customer_cancels_its_subscriptions(
) {
    let sim = Sim::start().await;
    let price = monthly_price(&sim).await;
    let one_time = sim
        .post(
            "/v1/prices",
            &[
                ("product", "prod_x"),
                ("currency", "eur"),
                ("unit_amount", "1"),
            ],
        )
        .await;
    assert_eq!(one_time.status, 400, "prices need an existing product");
    let wrong_mode = sim
        .post(
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(
        (wrong_mode.status, wrong_mode.body["error"]["param"].clone()),
        (400, json!("line_items"))
    );
    let unknown = sim
        .post(
            "/v1/checkout/sessions",
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", "price_nope"),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    assert_eq!(
        unknown.error(),
        ("invalid_request_error", "resource_missing")
    );

    let customer = sim.customer(&[]).await;
    let subscription = subscribe(&sim, &customer, &price).await;
    assert_eq!(
        sim.delete(&format!("/v1/customers/{customer}"))
            .await
            .status,
        200
    );
    let after = sim
        .get(&format!("/v1/subscriptions/{subscription}"), &[])
        .await
        .body;
    assert_eq!(after["status"], "canceled");
    let types = event_types(&sim).await;
    let position = |kind: &str| types.iter().position(|t| t == kind);
    let (canceled, deleted) = (
        position("customer.subscription.deleted"),
        position("customer.deleted"),
    );
    assert!(
        canceled.is_some() && deleted.is_some() && canceled < deleted,
        "{types:?}"
    );
}
