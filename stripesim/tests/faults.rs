//! Stripe's rate limits and the faults of `/__sim/faults`, over HTTP: 429s beyond the
//! endpoint and global budgets, refused requests saving nothing under their idempotency
//! key, `/__sim/` never counted; latency, errors per path prefix (with a rate and
//! `Stripe-Should-Retry`), outages, and clearing them.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use stripesim::config::RateLimits;
use stripesim::SimConfig;
use support::{ids, Reply, Sim};
use testkit::harness::wait_for;

async fn limited(global: u32, endpoint: u32) -> Sim {
    Sim::start_with(SimConfig {
        rate_limits: RateLimits {
            global,
            endpoint,
            search: 0,
        },
        ..SimConfig::on_free_port()
    })
    .await
}

async fn set_faults(sim: &Sim, faults: Value) -> Reply {
    sim.admin(Method::PUT, "/__sim/faults", Some(&faults)).await
}

fn assert_rate_limited(reply: &Reply) {
    assert_eq!(reply.status, 429, "{:?}", reply.body);
    assert_eq!(reply.error(), ("invalid_request_error", ""));
    assert!(reply.body["error"]["message"]
        .as_str()
        .expect("a message")
        .contains("rate limit"));
    assert!(reply.header("request-id").is_some());
    assert_eq!(reply.header("stripe-should-retry"), None);
}

#[tokio::test]
async fn endpoint_budget_refuses_the_excess_and_saves_nothing_under_the_key() {
    let sim = limited(0, 3).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for n in 0..6 {
        let key = format!("burst-{n}");
        let reply = sim
            .send(Method::POST, "/v1/customers", &[("name", "x")], Some(&key))
            .await;
        if reply.status == 429 {
            assert_rate_limited(&reply);
        }
        statuses.push(reply.status);
    }
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let listed = sim.get("/v1/customers", &[("limit", "100")]).await;
    assert_eq!(listed.status, 200, "another endpoint has its own budget");

    // The refused request saved nothing under its key: once the budget has room again,
    // the same key executes (no replay of the 429).
    let retried = wait_for("room in the budget", Duration::from_secs(5), || async {
        let reply = sim
            .send(
                Method::POST,
                "/v1/customers",
                &[("name", "x")],
                Some("burst-5"),
            )
            .await;
        (reply.status == 200).then_some(reply)
    })
    .await
    .expect("the retry runs");
    assert_eq!(retried.header("idempotent-replayed"), None);
    let created = statuses.iter().filter(|status| **status == 200).count() + 1;
    let all = sim.get("/v1/customers", &[("limit", "100")]).await.body;
    assert_eq!(ids(&all).len(), created, "refused requests created nothing");
}

#[tokio::test]
async fn global_budget_spans_endpoints_and_sim_calls_are_not_counted() {
    let sim = limited(2, 0).await;
    let started = Instant::now();
    let first = sim.post("/v1/customers", &[("name", "x")]).await;
    for _ in 0..5 {
        let admin = sim.admin(Method::GET, "/__sim/faults", None).await;
        assert_eq!(admin.status, 200);
    }
    let second = sim.get("/v1/customers", &[]).await;
    let third = sim.get("/v1/events", &[]).await;
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!((first.status, second.status), (200, 200));
        assert_rate_limited(&third);
    }
}

#[tokio::test]
async fn latency_is_added_and_cleared() {
    let sim = Sim::start().await;
    let set = set_faults(&sim, json!({"latency_ms": 400})).await;
    assert_eq!(set.body["latency_ms"], 400);
    let started = Instant::now();
    assert_eq!(sim.get("/v1/customers", &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let cleared = sim.admin(Method::DELETE, "/__sim/faults", None).await;
    assert_eq!(cleared.body["latency_ms"], 0);
    let started = Instant::now();
    sim.get("/v1/customers", &[]).await;
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn errors_hit_their_path_prefix_and_save_nothing_under_the_key() {
    let sim = Sim::start().await;
    let rule = json!({"errors": [{"path": "/v1/customers", "status": 500, "should_retry": true}]});
    assert_eq!(set_faults(&sim, rule).await.status, 200);
    let failed = sim
        .send(Method::POST, "/v1/customers", &[("name", "x")], Some("k1"))
        .await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.error().0, "api_error");
    assert_eq!(failed.header("stripe-should-retry"), Some("true"));
    assert_eq!(sim.get("/v1/customers/cus_x", &[]).await.status, 500);
    let product = sim.post("/v1/products", &[("name", "p")]).await;
    assert_eq!(product.status, 200, "other paths are healthy");

    sim.admin(Method::DELETE, "/__sim/faults", None).await;
    let retried = sim
        .send(Method::POST, "/v1/customers", &[("name", "x")], Some("k1"))
        .await;
    assert_eq!(retried.status, 200, "the key was not used up by the fault");
    assert_eq!(retried.header("idempotent-replayed"), None);
    assert_eq!(ids(&sim.get("/v1/customers", &[]).await.body).len(), 1);
}

#[tokio::test]
async fn an_error_rate_fails_about_that_share() {
    let sim = Sim::start().await;
    let rule = json!({"errors": [{"path": "/v1", "method": "GET", "status": 503, "rate": 0.5}]});
    set_faults(&sim, rule).await;
    let mut failures = 0;
    for _ in 0..200 {
        match sim.get("/v1/customers", &[]).await.status {
            503 => failures += 1,
            200 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!((60..=140).contains(&failures), "{failures} of 200");
    assert_eq!(
        sim.post("/v1/customers", &[]).await.status,
        200,
        "POSTs are not under the GET rule"
    );
}

#[tokio::test]
async fn an_outage_fails_every_api_request_until_cleared() {
    let sim = Sim::start().await;
    let set = set_faults(&sim, json!({"outage": {}})).await;
    assert_eq!(set.body["outage"]["status"], 503);
    for path in ["/v1/customers", "/v1/events", "/v1/nothing"] {
        let reply = sim.get(path, &[]).await;
        assert_eq!(reply.status, 503, "{path}");
        assert_eq!(reply.error().0, "api_error");
    }
    assert_eq!(
        sim.admin(Method::GET, "/__sim/deliveries", None)
            .await
            .status,
        200
    );
    set_faults(&sim, json!({"outage": {"status": 500}})).await;
    assert_eq!(sim.post("/v1/customers", &[]).await.status, 500);
    set_faults(&sim, json!({})).await;
    assert_eq!(sim.post("/v1/customers", &[]).await.status, 200);
}

#[tokio::test]
async fn nonsense_faults_are_refused() {
    let sim = Sim::start().await;
    for body in [
        json!({"errors": [{"path": "/v1", "rate": 1.5}]}),
        json!({"errors": [{"path": "/v1", "status": 200}]}),
        json!({"outage": {"status": 429}}),
    ] {
        assert_eq!(set_faults(&sim, body.clone()).await.status, 400, "{body}");
    }
    let unknown = set_faults(&sim, json!({"latency": 5})).await;
    assert!(unknown.status >= 400, "unknown fields are refused");
}

#[tokio::test]
async fn one_endpoint_is_one_operation_whatever_the_id() {
    let sim = limited(0, 1).await;
    let started = Instant::now();
    let first = sim.get("/v1/customers/cus_a", &[]).await;
    let second = sim.get("/v1/customers/cus_b", &[]).await;
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(first.status, 404);
        assert_rate_limited(&second);
    }
}
