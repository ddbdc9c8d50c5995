//! What every request passes: the API key (Bearer or Basic, any `sk_test_…` or only the
//! configured one), 401 in Stripe's error shape, `Request-Id` and `Stripe-Version` headers,
//! Stripe's 404 for unknown URLs.

#[path = "support/mod.rs"]
mod support;

use base64::Engine as _;
use stripesim::SimConfig;
use support::{read, Sim, KEY};

#[tokio::test]
async fn no_key_and_wrong_keys_are_401_with_stripe_error() {
    let sim = Sim::start().await;
    let none = read(
        sim.client
            .get(sim.url("/v1/customers"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(none.status, 401);
    assert_eq!(none.error().0, "invalid_request_error");
    assert!(none.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("You did not provide an API key"));
    assert!(none.header("request-id").unwrap().starts_with("req_"));
    for key in ["sk_live_abcdefghijkl", "pk_test_abcdefghijkl"] {
        let reply = read(
            sim.client
                .get(sim.url("/v1/customers"))
                .bearer_auth(key)
                .send()
                .await
                .expect("answered"),
        )
        .await;
        assert_eq!(reply.status, 401, "{key}");
        assert!(reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid API Key provided"));
        assert!(!reply.body.to_string().contains(key), "the key is redacted");
    }
}

#[tokio::test]
async fn basic_auth_with_the_key_as_user_is_accepted() {
    let sim = Sim::start().await;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
    let reply = read(
        sim.client
            .get(sim.url("/v1/customers"))
            .header("authorization", format!("Basic {credentials}"))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["object"], "list");
}

#[tokio::test]
async fn a_configured_key_is_the_only_one_accepted() {
    let config = SimConfig {
        api_key: Some("sk_test_only_this_one".into()),
        ..SimConfig::on_free_port()
    };
    let sim = Sim::start_with(config).await;
    assert_eq!(sim.get("/v1/customers", &[]).await.status, 401);
    let reply = read(
        sim.client
            .get(sim.url("/v1/customers"))
            .bearer_auth("sk_test_only_this_one")
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn request_id_is_unique_and_stripe_version_is_echoed() {
    let sim = Sim::start().await;
    let default = sim.get("/v1/customers", &[]).await;
    assert_eq!(
        default.header("stripe-version"),
        Some(stripesim::config::DEFAULT_API_VERSION)
    );
    let pinned = read(
        sim.client
            .get(sim.url("/v1/customers"))
            .bearer_auth(KEY)
            .header("Stripe-Version", "2024-06-20")
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(pinned.header("stripe-version"), Some("2024-06-20"));
    assert_ne!(default.header("request-id"), pinned.header("request-id"));
}

#[tokio::test]
async fn unknown_urls_are_stripe_404s() {
    let sim = Sim::start().await;
    let reply = sim.get("/v1/nothing_here", &[]).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error().0, "invalid_request_error");
    assert_eq!(
        reply.body["error"]["message"],
        "Unrecognized request URL (GET: /v1/nothing_here)."
    );
}

#[tokio::test]
async fn rate_limit_fault_answers_429_then_clears() {
    let sim = Sim::start().await;
    let set = sim
        .admin(
            reqwest::Method::PUT,
            "/__sim/faults",
            Some(&serde_json::json!({"rate_limit_next": 2})),
        )
        .await;
    assert_eq!(set.body["rate_limit_next"], 2);
    for _ in 0..2 {
        let limited = sim.post("/v1/customers", &[("name", "x")]).await;
        assert_eq!(limited.status, 429);
        assert_eq!(limited.error().0, "invalid_request_error");
        assert!(limited.header("request-id").is_some());
    }
    assert_eq!(
        sim.post("/v1/customers", &[("name", "x")]).await.status,
        200
    );
    let customers = sim.get("/v1/customers", &[]).await.body;
    assert_eq!(
        customers["data"].as_array().unwrap().len(),
        1,
        "refused requests did nothing"
    );
}
