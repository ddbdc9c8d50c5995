//! Webhook endpoints and deliveries over HTTP: the secret shown on create only, errors,
//! delete; events delivered to a receiver in the test and verified with the fleet's own
//! `SignatureVerifier`, only to subscribed endpoints; a failing receiver retried until it
//! takes the event; delivery paused and resumed through `/__sim/webhooks`.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use common::stripe::signature::{SignatureVerifier, Tolerance};
use reqwest::Method;
use serde_json::{json, Value};
use stripesim::state::unix_now;
use stripesim::SimConfig;
use support::{ids, Received, Receiver, Sim};
use testkit::harness::wait_for;

/// Creates an endpoint for `url` and `events`; returns (id, secret).
async fn endpoint(sim: &Sim, url: &str, events: &[&str]) -> (String, String) {
    let mut form = vec![("url", url)];
    form.extend(events.iter().map(|event| ("enabled_events[]", *event)));
    let reply = sim.post("/v1/webhook_endpoints", &form).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let secret = reply.body["secret"]
        .as_str()
        .expect("a secret on create")
        .to_string();
    (reply.id(), secret)
}

/// Waits until the receiver holds `count` requests.
async fn received(receiver: &Receiver, count: usize) -> Vec<Received> {
    wait_for("webhook deliveries", Duration::from_secs(10), || async {
        let received = receiver.received();
        (received.len() >= count).then_some(received)
    })
    .await
    .expect("the deliveries arrive")
}

/// Verifies the signature with the fleet's verifier and returns the event.
fn verified(delivery: &Received, secret: &str) -> Value {
    let verifier = SignatureVerifier::new(&[secret], Tolerance::MaxAgeSecs(300));
    verifier
        .verify(&delivery.body, &delivery.signature, unix_now())
        .expect("the signature verifies");
    serde_json::from_slice(&delivery.body).expect("the body is an event")
}

#[tokio::test]
async fn endpoints_show_their_secret_on_create_only() {
    let sim = Sim::start().await;
    let (id, secret) = endpoint(&sim, "https://example.com/hook", &["customer.created"]).await;
    assert!(id.starts_with("we_") && secret.starts_with("whsec_"));
    let fetched = sim
        .get(&format!("/v1/webhook_endpoints/{id}"), &[])
        .await
        .body;
    assert_eq!(fetched["object"], "webhook_endpoint");
    assert_eq!(fetched["enabled_events"], json!(["customer.created"]));
    assert_eq!(fetched["status"], "enabled");
    assert!(fetched.get("secret").is_none());
    let list = sim.get("/v1/webhook_endpoints", &[]).await.body;
    assert_eq!(ids(&list), vec![id.clone()]);
    assert!(list["data"][0].get("secret").is_none());

    let no_url = sim
        .post("/v1/webhook_endpoints", &[("enabled_events[]", "*")])
        .await;
    assert_eq!(no_url.status, 400);
    assert_eq!(no_url.error().1, "parameter_missing");
    assert_eq!(no_url.body["error"]["param"], "url");
    let no_events = sim
        .post("/v1/webhook_endpoints", &[("url", "https://example.com")])
        .await;
    assert_eq!(no_events.body["error"]["param"], "enabled_events");

    let deleted = sim.delete(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(
        deleted.body,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    assert_eq!(
        sim.get(&format!("/v1/webhook_endpoints/{id}"), &[])
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn subscribed_events_arrive_signed() {
    let sim = Sim::start().await;
    let receiver = Receiver::start(0).await;
    let (_, secret) = endpoint(&sim, &receiver.url, &["customer.created"]).await;
    let first = sim.customer(&[("email", "a@example.com")]).await;
    sim.post(
        &format!("/v1/customers/{first}"),
        &[("name", "not subscribed")],
    )
    .await;
    let second = sim.customer(&[("email", "b@example.com")]).await;

    let deliveries = received(&receiver, 2).await;
    let mut customers: Vec<String> = deliveries
        .iter()
        .map(|delivery| {
            let event = verified(delivery, &secret);
            assert_eq!(event["type"], "customer.created");
            event["data"]["object"]["id"]
                .as_str()
                .expect("an id")
                .to_string()
        })
        .collect();
    customers.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(customers, expected);

    let wrong_secret = SignatureVerifier::new(&["whsec_other"], Tolerance::MaxAgeSecs(300));
    assert!(wrong_secret
        .verify(&deliveries[0].body, &deliveries[0].signature, unix_now())
        .is_err());

    wait_for(
        "pending_webhooks back to 0",
        Duration::from_secs(10),
        || async {
            let events = sim
                .get("/v1/events", &[("type", "customer.created")])
                .await
                .body;
            events["data"]
                .as_array()?
                .iter()
                .all(|e| e["pending_webhooks"] == 0)
                .then_some(())
        },
    )
    .await
    .expect("delivered events have no pending webhooks");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_takes_the_event() {
    let config = SimConfig {
        retry_scale: 0.0001,
        ..SimConfig::on_free_port()
    };
    let sim = Sim::start_with(config).await;
    let receiver = Receiver::start(2).await;
    let (endpoint_id, secret) = endpoint(&sim, &receiver.url, &["*"]).await;
    sim.customer(&[("name", "retried")]).await;

    let deliveries = received(&receiver, 3).await;
    let events: Vec<Value> = deliveries
        .iter()
        .map(|delivery| verified(delivery, &secret))
        .collect();
    assert!(
        events.iter().all(|event| event["id"] == events[0]["id"]),
        "the same event each time"
    );
    let attempts = wait_for(
        "three recorded attempts",
        Duration::from_secs(10),
        || async {
            let body = sim.admin(Method::GET, "/__sim/deliveries", None).await.body;
            let attempts = body["data"].as_array()?.clone();
            (attempts.len() >= 3).then_some(attempts)
        },
    )
    .await
    .expect("attempts are recorded");
    let statuses: Vec<&Value> = attempts.iter().map(|attempt| &attempt["status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(attempts[2]["attempt"], 3);
    assert_eq!(attempts[2]["endpoint_id"], endpoint_id);
    assert_eq!(attempts[2]["succeeded"], true);
}

#[tokio::test]
async fn paused_delivery_waits_for_resume() {
    let sim = Sim::start().await;
    let receiver = Receiver::start(0).await;
    let (_, secret) = endpoint(&sim, &receiver.url, &["customer.created"]).await;
    let paused = sim
        .admin(
            Method::PUT,
            "/__sim/webhooks",
            Some(&json!({"paused": true})),
        )
        .await;
    assert_eq!(paused.body["paused"], true);
    let id = sim.customer(&[("name", "held")]).await;
    let events = sim.get("/v1/events", &[]).await.body;
    assert_eq!(events["data"][0]["pending_webhooks"], 1);
    assert!(
        receiver.received().is_empty(),
        "nothing is sent while paused"
    );

    sim.admin(
        Method::PUT,
        "/__sim/webhooks",
        Some(&json!({"paused": false})),
    )
    .await;
    let deliveries = received(&receiver, 1).await;
    assert_eq!(
        verified(&deliveries[0], &secret)["data"]["object"]["id"],
        id
    );
}

#[tokio::test]
async fn retries_stop_when_the_endpoint_is_disabled_and_updates_apply() {
    let config = SimConfig {
        retry_scale: 0.0001,
        ..SimConfig::on_free_port()
    };
    let sim = Sim::start_with(config).await;
    let failing = Receiver::start(usize::MAX).await;
    let (id, _) = endpoint(&sim, &failing.url, &["customer.created"]).await;
    sim.customer(&[("name", "first")]).await;
    received(&failing, 2).await;

    let disabled = sim
        .post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(disabled.body["status"], "disabled");
    assert!(disabled.body.get("secret").is_none());
    wait_for("the delivery to end", Duration::from_secs(10), || async {
        let deliveries = sim.admin(Method::GET, "/__sim/deliveries", None).await.body;
        (deliveries["in_progress"] == 0).then_some(())
    })
    .await
    .expect("disabling the endpoint ends its retries (the whole schedule takes ~26 s here)");
    let attempts = failing.received().len();
    assert!((2..11).contains(&attempts), "{attempts} attempts");

    let working = Receiver::start(0).await;
    let moved = sim
        .post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[
                ("disabled", "false"),
                ("url", &working.url),
                ("enabled_events[]", "customer.*"),
            ],
        )
        .await;
    assert_eq!(moved.body["status"], "enabled");
    assert_eq!(moved.body["enabled_events"], json!(["customer.*"]));
    let bad = sim
        .post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[("url", "ftp://x")],
        )
        .await;
    assert_eq!(bad.error().1, "url_invalid");
    sim.customer(&[("name", "second")]).await;
    let deliveries = received(&working, 1).await;
    assert_eq!(deliveries.len(), 1);
}
