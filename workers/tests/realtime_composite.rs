//! One Salesforce round trip per batch: a realtime batch's parent stubs and children go in
//! one Composite request (docs/salesforce-api.md §4.4), stubs first, each record's result
//! mapped back to its event.

mod support;

use std::time::Duration;

use support::{
    sim::{new_customer_payments, Sim},
    BridgeStack,
};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);

fn calls_to(calls: &serde_json::Value, endpoint: &str) -> u64 {
    calls["by_endpoint"][endpoint].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_payments_for_new_customers_is_one_call() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let mut events = new_customer_payments("new", 30, "usd");
    // One payment refused by Salesforce (Payment_Method_Type__c is Text 255): its batch mates
    // are still applied, and it alone is dead-lettered.
    let mut bad_intent = factory.payment_intent("cus_bad", 1000, "usd", unix_now(), None);
    bad_intent["payment_method_types"] = serde_json::json!(["x".repeat(300)]);
    let bad = factory.event("payment_intent.succeeded", bad_intent, None, unix_now());
    events.insert(7, bad.clone());
    // Queued before the worker starts: they make one batch.
    stack.enqueue(Priority::High, &events).await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    let good: Vec<StripeEvent> = events.iter().filter(|e| e.id != bad.id).cloned().collect();
    stack.wait_for_states(&good, &["applied"], WAIT).await;
    stack
        .wait_for_states(std::slice::from_ref(&bad), &["dead"], WAIT)
        .await;

    let calls = sim.calls().await;
    assert_eq!(calls_to(&calls, "composite"), 1, "{calls}");
    assert_eq!(calls_to(&calls, "collections.upsert"), 0, "{calls}");
    for (i, event) in good.iter().enumerate().step_by(7) {
        let payment = sim
            .record_by(
                "Payment_Transaction__c",
                "Stripe_Payment_Intent_ID__c",
                &event.object_id,
            )
            .await
            .unwrap_or_else(|| panic!("payment {i} written"));
        let customer_id = payment["Stripe_Customer__c"].as_str().unwrap_or_default();
        let customer = sim
            .records("Stripe_Customer__c")
            .await
            .into_iter()
            .find(|c| c["Id"] == customer_id)
            .unwrap_or_else(|| panic!("payment {i} links to its customer stub"));
        assert!(customer["Stripe_Customer_ID__c"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cus_new"));
    }
    assert!(sim
        .record_by(
            "Payment_Transaction__c",
            "Stripe_Payment_Intent_ID__c",
            &bad.object_id
        )
        .await
        .is_none());
}
