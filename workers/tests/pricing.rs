//! Pricing plans, their tiers and customers' Contact links end to end: `workers bulk` (the
//! catalogue and customer events' stream) against real Redis and the Salesforce simulator,
//! through sObject Collections and through Bulk API jobs.

mod support;

use std::time::Duration;

use reqwest::Method;
use salesforce_client::{
    Body, ClientCredentials, Coordination, Grant, SalesforceClient, SalesforceSettings,
};
use serde_json::{json, Value};
use support::{sim::Sim, BridgeStack};
use testkit::stripe::{unix_now, EventFactory, Pricing, StripeEvent};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);

/// Enqueues `event` and waits until it is applied (events of one price are sent one at a
/// time: in one batch they would be coalesced to the newest).
async fn apply(stack: &BridgeStack, event: &StripeEvent) {
    stack
        .enqueue(Priority::Low, std::slice::from_ref(event))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(event), &["applied"], WAIT)
        .await;
}

/// The tiers in Salesforce of the plan with record id `plan`, by tier number.
async fn tiers_of(sim: &Sim, plan: &Value) -> Vec<Value> {
    let mut tiers: Vec<Value> = sim
        .records("Pricing_Tier__c")
        .await
        .into_iter()
        .filter(|tier| tier["Pricing_Plan__c"] == plan["Id"])
        .collect();
    tiers.sort_by_key(|tier| tier["Tier_Number__c"].as_f64().map(|n| n as i64));
    tiers
}

/// (From, To, Unit price, Flat amount) of each tier.
fn shape(tiers: &[Value]) -> Vec<(Value, Value, Value, Value)> {
    tiers
        .iter()
        .map(|t| {
            let number = |field: &str| json!(t[field].as_f64());
            (
                number("From_Quantity__c"),
                number("To_Quantity__c"),
                number("Unit_Price__c"),
                number("Flat_Amount__c"),
            )
        })
        .collect()
}

async fn plan(sim: &Sim, price_id: &str) -> Value {
    sim.record_by("Pricing_Plan__c", "Stripe_Price_ID__c", price_id)
        .await
        .unwrap_or_else(|| panic!("a plan for {price_id}"))
}

fn calls_to(calls: &Value, endpoint: &str) -> u64 {
    calls["by_endpoint"][endpoint].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiered_price_becomes_a_plan_whose_tiers_follow_the_price() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "200")])
        .await;
    let events = EventFactory::new().catalog("usd", unix_now());
    let price_id = events[0].object_id.clone();

    apply(&stack, &events[0]).await;
    let created = plan(&sim, &price_id).await;
    assert_eq!(created["Name"], "Seats");
    assert_eq!(created["Recurrency_Type__c"], "Monthly");
    assert_eq!(created["Currency__c"], "USD");
    assert_eq!(created["Amount__c"], Value::Null, "tiered: no unit amount");
    let tiers = tiers_of(&sim, &created).await;
    assert_eq!(
        shape(&tiers),
        [
            (json!(1.0), json!(5.0), json!(10.0), json!(null)),
            (json!(6.0), json!(10.0), json!(8.0), json!(5.0)),
            (json!(11.0), json!(null), json!(6.0), json!(null)),
        ]
    );
    assert_eq!(tiers[2]["Stripe_Tier_Key__c"], format!("{price_id}#3"));

    // The price now lists two tiers: the third is deleted, the second has no end any more.
    apply(&stack, &events[1]).await;
    let tiers = tiers_of(&sim, &created).await;
    assert_eq!(
        shape(&tiers),
        [
            (json!(1.0), json!(5.0), json!(10.0), json!(null)),
            (json!(6.0), json!(null), json!(8.0), json!(5.0)),
        ]
    );
    assert_eq!(calls_to(&sim.calls().await, "collections.delete"), 1);

    // As webhooks send it, without tiers: the plan changes, its tiers stay.
    apply(&stack, &events[2]).await;
    assert_eq!(plan(&sim, &price_id).await["Name"], "Seats (2027)");
    assert_eq!(tiers_of(&sim, &created).await.len(), 2, "tiers left alone");

    // The product is renamed: so is every plan of it.
    apply(&stack, &events[3]).await;
    assert_eq!(plan(&sim, &price_id).await["Name"], "Team plan (2027)");
    assert_eq!(calls_to(&sim.calls().await, "collections.delete"), 1);
}

/// Creates Contacts `(last name, Stripe customer id)` in the simulator, in order, and
/// returns their record ids.
async fn create_contacts(sim: &Sim, contacts: &[(&str, &str)]) -> Vec<String> {
    let settings = SalesforceSettings {
        credentials: ClientCredentials {
            login_url: sim.sim.base_url().to_owned(),
            client_id: sim.sim.client_id().to_owned(),
            grant: Grant::ClientSecret(sim.sim.client_secret().to_owned()),
        },
        api_version: "v62.0".into(),
        request_timeout: Duration::from_secs(10),
        token_lifetime: Duration::from_secs(3600),
    };
    let client = SalesforceClient::new(settings, Coordination::in_process()).expect("client");
    let mut ids = Vec::new();
    for (name, customer) in contacts {
        let record = json!({"LastName": name, "Stripe_Customer_ID__c": customer});
        let answer = client
            .call(
                Method::POST,
                "/services/data/v62.0/sobjects/Contact",
                Some(Body::Json(record)),
            )
            .await
            .expect("Contact created");
        let body: Value = serde_json::from_str(&answer.body).expect("JSON");
        ids.push(body["id"].as_str().expect("an id").to_owned());
    }
    ids
}

fn customer_update(factory: &EventFactory) -> StripeEvent {
    factory.event(
        "customer.updated",
        factory.customer(unix_now()),
        None,
        unix_now(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_link_to_their_contact_with_one_query_per_batch() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let (linked, alone) = (customer_update(&factory), customer_update(&factory));
    let contacts = create_contacts(
        &sim,
        &[
            ("Rosen", linked.object_id.as_str()),
            ("Rosen (duplicate)", linked.object_id.as_str()),
            ("Someone else", "cus_unrelated"),
        ],
    )
    .await;
    let queries_before = calls_to(&sim.calls().await, "query");
    let events = [linked.clone(), alone.clone()];
    stack.enqueue(Priority::Low, &events).await;
    let _worker = stack
        .start_consumer("bulk", &sim, &[("BULK_BATCH_AGE_MS", "500")])
        .await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;

    let record = |event: &StripeEvent| {
        let id = event.object_id.clone();
        let sim = &sim;
        async move {
            sim.record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", &id)
                .await
                .expect("the customer")
        }
    };
    assert_eq!(
        record(&linked).await["Contact__c"],
        contacts[0].as_str(),
        "the first Contact created (smallest id) of the two with this customer id"
    );
    assert_eq!(record(&alone).await["Contact__c"], Value::Null);
    assert_eq!(
        calls_to(&sim.calls().await, "query") - queries_before,
        1,
        "one query found the Contacts of the whole batch"
    );
    assert_eq!(sim.records("Contact").await.len(), 3, "no Contact created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_bulk_jobs_contacts_link_and_a_rename_still_reaches_the_plans() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let (linked, alone) = (customer_update(&factory), customer_update(&factory));
    let contacts = create_contacts(&sim, &[("Rosen", linked.object_id.as_str())]).await;
    let now = unix_now();
    let product = factory.product("Starter", now);
    let product_id = product["id"].as_str().unwrap_or_default().to_owned();
    let price = factory.price(&product_id, "jpy", &Pricing::PerUnit(4_900), None, now);
    let mut renamed = product;
    renamed["name"] = json!("Starter (2027)");
    let events = [
        linked.clone(),
        alone.clone(),
        factory.event("price.created", price.clone(), None, now),
        factory.event("product.updated", renamed, None, now + 1),
    ];
    stack.enqueue(Priority::Low, &events).await;
    let queries_before = calls_to(&sim.calls().await, "query");
    let _worker = stack
        .start_consumer(
            "bulk",
            &sim,
            &[
                ("BULK_COLLECTIONS_THRESHOLD", "0"),
                ("BULK_BATCH_AGE_MS", "500"),
            ],
        )
        .await;
    stack.wait_for_states(&events, &["applied"], WAIT).await;

    let calls = sim.calls().await;
    assert!(calls_to(&calls, "bulk.create_job") >= 2, "{calls}");
    let customer = sim
        .record_by(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &linked.object_id,
        )
        .await
        .expect("the customer");
    assert_eq!(customer["Contact__c"], contacts[0].as_str());
    let other = sim
        .record_by(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &alone.object_id,
        )
        .await
        .expect("the other customer");
    assert_eq!(other["Contact__c"], Value::Null);
    // The price was a job row; the rename went through Collections after the jobs.
    let plan = plan(&sim, price["id"].as_str().unwrap_or_default()).await;
    assert_eq!(plan["Name"], "Starter (2027)");
    assert_eq!(
        plan["Amount__c"].as_f64(),
        Some(4900.0),
        "JPY has no minor unit"
    );
    assert_eq!(
        calls_to(&calls, "query") - queries_before,
        2,
        "one for the Contacts, one for the product's plans: {calls}"
    );
}
