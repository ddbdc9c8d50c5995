//! Idempotent requests over HTTP: a retry with the same key and parameters replays the first
//! response (`Idempotent-Replayed: true`, nothing done twice), other parameters are a 400
//! `idempotency_error`, a retry while the first is in flight is a 409, and a request that
//! failed validation saves nothing.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use reqwest::Method;
use stripesim::SimConfig;
use support::{ids, Sim};

#[tokio::test]
async fn same_key_and_parameters_replay_the_first_response() {
    let sim = Sim::start().await;
    let form = [("email", "a@example.com"), ("metadata[k]", "v")];
    let first = sim
        .send(Method::POST, "/v1/customers", &form, Some("key-1"))
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = sim
        .send(Method::POST, "/v1/customers", &form, Some("key-1"))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("original-request"), first.header("request-id"));
    assert_eq!(
        ids(&sim.get("/v1/customers", &[]).await.body).len(),
        1,
        "created once"
    );
    let events = sim.get("/v1/events", &[]).await.body;
    assert_eq!(ids(&events).len(), 1);
    assert_eq!(events["data"][0]["request"]["idempotency_key"], "key-1");
}

#[tokio::test]
async fn same_key_with_other_parameters_is_an_idempotency_error() {
    let sim = Sim::start().await;
    sim.send(
        Method::POST,
        "/v1/customers",
        &[("email", "a@example.com")],
        Some("key-2"),
    )
    .await;
    let other = sim
        .send(
            Method::POST,
            "/v1/customers",
            &[("email", "b@example.com")],
            Some("key-2"),
        )
        .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.error().0, "idempotency_error");
    let elsewhere = sim
        .send(
            Method::POST,
            "/v1/webhook_endpoints",
            &[("url", "http://x")],
            Some("key-2"),
        )
        .await;
    assert_eq!(
        elsewhere.error().0,
        "idempotency_error",
        "a key belongs to one endpoint"
    );
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_is_a_409() {
    let config = SimConfig {
        mutation_delay: Duration::from_millis(700),
        ..SimConfig::on_free_port()
    };
    let sim = Sim::start_with(config).await;
    let form = [("email", "a@example.com")];
    let (one, two) = tokio::join!(
        sim.send(Method::POST, "/v1/customers", &form, Some("key-3")),
        sim.send(Method::POST, "/v1/customers", &form, Some("key-3")),
    );
    let mut statuses = [one.status, two.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let conflict = if one.status == 409 { &one } else { &two };
    assert_eq!(conflict.error().0, "idempotency_error");
    let replay = sim
        .send(Method::POST, "/v1/customers", &form, Some("key-3"))
        .await;
    assert_eq!(
        replay.header("idempotent-replayed"),
        Some("true"),
        "the finished first request is saved"
    );
}

#[tokio::test]
async fn failed_validation_saves_nothing_and_gets_ignore_keys() {
    let sim = Sim::start().await;
    let invalid = sim
        .send(
            Method::POST,
            "/v1/customers",
            &[("emial", "a@example.com")],
            Some("key-4"),
        )
        .await;
    assert_eq!(invalid.status, 400);
    let fixed = sim
        .send(
            Method::POST,
            "/v1/customers",
            &[("email", "a@example.com")],
            Some("key-4"),
        )
        .await;
    assert_eq!(fixed.status, 200, "{:?}", fixed.body);
    assert_eq!(fixed.header("idempotent-replayed"), None);
    let get = sim
        .send(Method::GET, "/v1/customers", &[], Some("key-4"))
        .await;
    assert_eq!(get.status, 200);
    assert_eq!(get.body["object"], "list");
}
