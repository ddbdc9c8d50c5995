//! Webhook deliveries misbehaving on demand through `/__sim/webhooks`, seen by a receiver
//! in the test: a share of deliveries sent twice (both signed, the event counted once),
//! and deliveries held back and released in reverse or original order.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use common::stripe::signature::{SignatureVerifier, Tolerance};
use reqwest::Method;
use serde_json::{json, Value};
use stripesim::state::unix_now;
use support::{Received, Receiver, Sim};
use testkit::harness::wait_for;

/// An endpoint for `customer.created` at the receiver; returns its secret.
async fn endpoint(sim: &Sim, url: &str) -> String {
    let form = [("url", url), ("enabled_events[]", "customer.created")];
    let reply = sim.post("/v1/webhook_endpoints", &form).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["secret"].as_str().expect("a secret").to_string()
}

async fn received(receiver: &Receiver, count: usize) -> Vec<Received> {
    wait_for("webhook deliveries", Duration::from_secs(10), || async {
        let received = receiver.received();
        (received.len() >= count).then_some(received)
    })
    .await
    .expect("the deliveries arrive")
}

/// The customer id of each delivery, in arrival order, every signature verified.
fn customers(deliveries: &[Received], secret: &str) -> Vec<String> {
    let verifier = SignatureVerifier::new(&[secret], Tolerance::MaxAgeSecs(300));
    deliveries
        .iter()
        .map(|delivery| {
            verifier
                .verify(&delivery.body, &delivery.signature, unix_now())
                .expect("the signature verifies");
            let event: Value = serde_json::from_slice(&delivery.body).expect("an event");
            event["data"]["object"]["id"]
                .as_str()
                .expect("an id")
                .to_string()
        })
        .collect()
}

async fn control(sim: &Sim, body: Value) -> support::Reply {
    sim.admin(Method::PUT, "/__sim/webhooks", Some(&body)).await
}

async fn settled(sim: &Sim) {
    wait_for("deliveries finished", Duration::from_secs(10), || async {
        let deliveries = sim.admin(Method::GET, "/__sim/deliveries", None).await;
        (deliveries.body["in_progress"] == 0).then_some(())
    })
    .await
    .expect("every delivery finishes");
}

#[tokio::test]
async fn duplicated_deliveries_arrive_twice_and_count_once() {
    let sim = Sim::start().await;
    let receiver = Receiver::start(0).await;
    let secret = endpoint(&sim, &receiver.url).await;
    let set = control(&sim, json!({"duplicate_rate": 1.0})).await;
    assert_eq!(set.body["duplicate_rate"], 1.0);
    assert_eq!(set.body["paused"], false);
    let mut created = Vec::new();
    for n in 0..3 {
        created.push(sim.customer(&[("name", &format!("c{n}"))]).await);
    }
    let mut seen = customers(&received(&receiver, 6).await, &secret);
    seen.sort();
    let mut expected: Vec<String> = created.iter().chain(&created).cloned().collect();
    expected.sort();
    assert_eq!(seen, expected, "each event exactly twice");
    settled(&sim).await;
    let attempts = sim.admin(Method::GET, "/__sim/deliveries", None).await.body;
    let duplicates = attempts["data"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter(|attempt| attempt["duplicate"] == true)
        .count();
    assert_eq!(duplicates, 3);
    let events = sim.get("/v1/events", &[]).await.body;
    for event in events["data"].as_array().expect("events") {
        assert_eq!(event["pending_webhooks"], 0, "counted once, not below 0");
    }

    control(&sim, json!({"duplicate_rate": 0.0})).await;
    let single = sim.customer(&[("name", "once")]).await;
    settled(&sim).await;
    let all = customers(&receiver.received(), &secret);
    assert_eq!(all.len(), 7);
    assert_eq!(all.iter().filter(|id| **id == single).count(), 1);
}

#[tokio::test]
async fn held_deliveries_are_released_in_reverse_order() {
    let sim = Sim::start().await;
    let receiver = Receiver::start(0).await;
    let secret = endpoint(&sim, &receiver.url).await;
    assert_eq!(
        control(&sim, json!({"hold": true})).await.body["hold"],
        true
    );
    let mut created = Vec::new();
    for n in 0..4 {
        created.push(sim.customer(&[("name", &format!("c{n}"))]).await);
    }
    let state = sim.admin(Method::GET, "/__sim/webhooks", None).await.body;
    assert_eq!(state["held"], 4);
    assert!(receiver.received().is_empty(), "nothing sent while held");

    let released = sim
        .admin(
            Method::POST,
            "/__sim/webhooks/release",
            Some(&json!({"order": "reverse"})),
        )
        .await;
    assert_eq!(released.body["released"], 4);
    let seen = customers(&received(&receiver, 4).await, &secret);
    created.reverse();
    assert_eq!(seen, created, "newest first");
    settled(&sim).await;
    assert_eq!(
        sim.admin(Method::GET, "/__sim/webhooks", None).await.body["hold"],
        false
    );
}

#[tokio::test]
async fn ending_the_hold_releases_in_original_order_and_failures_retry() {
    let sim = Sim::start().await;
    let receiver = Receiver::start(1).await;
    let secret = endpoint(&sim, &receiver.url).await;
    control(&sim, json!({"hold": true})).await;
    let first = sim.customer(&[("name", "first")]).await;
    let second = sim.customer(&[("name", "second")]).await;
    let state = control(&sim, json!({"hold": false})).await;
    assert_eq!(
        (state.body["hold"].clone(), state.body["held"].clone()),
        (json!(false), json!(0))
    );
    let seen = customers(&received(&receiver, 3).await, &secret);
    assert_eq!(seen[..2], [first.clone(), second], "released in order");
    assert_eq!(seen[2], first, "the failed first attempt is retried");
    settled(&sim).await;
}

#[tokio::test]
async fn nonsense_controls_are_refused() {
    let sim = Sim::start().await;
    assert_eq!(
        control(&sim, json!({"duplicate_rate": 2.0})).await.status,
        400
    );
    assert!(control(&sim, json!({"reorder": true})).await.status >= 400);
    let bad = sim
        .admin(
            Method::POST,
            "/__sim/webhooks/release",
            Some(&json!({"order": "sideways"})),
        )
        .await;
    assert_eq!(bad.status, 400);
}
