//! Customer search over HTTP: `email` and `metadata['k']` clauses with AND/OR, the
//! `search_result` envelope and its `next_page` cursor, eventual consistency (a change
//! shows only after the indexing delay), Stripe's 400 for a bad query, and the search
//! rate limit.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use stripesim::config::RateLimits;
use stripesim::SimConfig;
use support::{ids, Sim};
use testkit::harness::wait_for;

#[tokio::test]
async fn search_by_email_and_metadata_with_pages() {
    let sim = Sim::start().await;
    let jane = sim
        .customer(&[("email", "jane@example.com"), ("metadata[sf_id]", "001A")])
        .await;
    let other = sim
        .customer(&[("email", "other@example.com"), ("metadata[sf_id]", "001B")])
        .await;
    let third = sim
        .customer(&[("email", "third@example.com"), ("metadata[sf_id]", "001A")])
        .await;

    let by_email = sim
        .get(
            "/v1/customers/search",
            &[("query", "email:'jane@example.com'")],
        )
        .await;
    assert_eq!(by_email.status, 200, "{:?}", by_email.body);
    assert_eq!(by_email.body["object"], "search_result");
    assert_eq!(by_email.body["url"], "/v1/customers/search");
    assert_eq!(by_email.body["has_more"], false);
    assert!(by_email.body["next_page"].is_null());
    assert_eq!(ids(&by_email.body), [jane.as_str()]);
    assert_eq!(by_email.body["data"][0]["object"], "customer");

    let both = "metadata['sf_id']:'001A' AND email:'third@example.com'";
    let found = sim.get("/v1/customers/search", &[("query", both)]).await;
    assert_eq!(ids(&found.body), [third.as_str()]);
    let either = "email:'jane@example.com' OR email:'other@example.com'";
    let found = sim.get("/v1/customers/search", &[("query", either)]).await;
    assert_eq!(ids(&found.body), [other, jane.clone()], "newest first");

    let first_page = sim
        .get(
            "/v1/customers/search",
            &[("query", "metadata['sf_id']:'001A'"), ("limit", "1")],
        )
        .await
        .body;
    assert_eq!(ids(&first_page), [third]);
    assert_eq!(first_page["has_more"], true);
    let page = first_page["next_page"].as_str().expect("a cursor");
    let second_page = sim
        .get(
            "/v1/customers/search",
            &[
                ("query", "metadata['sf_id']:'001A'"),
                ("limit", "1"),
                ("page", page),
            ],
        )
        .await
        .body;
    assert_eq!(ids(&second_page), [jane]);
    assert_eq!(second_page["has_more"], false);
}

#[tokio::test]
async fn changes_show_in_search_only_after_the_indexing_delay() {
    let delay = Duration::from_millis(1000);
    let sim = Sim::start_with(SimConfig {
        search_delay: delay,
        ..SimConfig::on_free_port()
    })
    .await;
    let query = [("query", "email:'late@example.com'")];
    let made = Instant::now();
    let id = sim.customer(&[("email", "late@example.com")]).await;
    let early = sim.get("/v1/customers/search", &query).await;
    if made.elapsed() < delay {
        assert!(ids(&early.body).is_empty(), "not searchable at once");
    }
    assert_eq!(
        ids(&sim
            .get("/v1/customers", &[("email", "late@example.com")])
            .await
            .body),
        [id.as_str()],
        "the list is consistent at once"
    );
    let found = wait_for("indexed", Duration::from_secs(10), || async {
        let reply = sim.get("/v1/customers/search", &query).await;
        (!ids(&reply.body).is_empty()).then_some(reply)
    })
    .await
    .expect("searchable after the delay");
    assert_eq!(ids(&found.body), [id.as_str()]);
    assert!(made.elapsed() >= delay);

    let changed = Instant::now();
    sim.post(
        &format!("/v1/customers/{id}"),
        &[("email", "new@example.com")],
    )
    .await;
    let stale = sim.get("/v1/customers/search", &query).await;
    if changed.elapsed() < delay {
        assert_eq!(ids(&stale.body), [id.as_str()], "the old state is searched");
    }
    wait_for("re-indexed", Duration::from_secs(10), || async {
        let reply = sim
            .get(
                "/v1/customers/search",
                &[("query", "email:'new@example.com'")],
            )
            .await;
        (ids(&reply.body) == [id.as_str()]).then_some(())
    })
    .await
    .expect("the update is searchable after the delay");
    assert!(ids(&sim.get("/v1/customers/search", &query).await.body).is_empty());
}

#[tokio::test]
async fn bad_queries_are_stripe_400s() {
    let sim = Sim::start().await;
    for query in [
        "address:'x'",
        "email:unquoted",
        "email:'a' AND name:'b' OR phone:'c'",
    ] {
        let reply = sim.get("/v1/customers/search", &[("query", query)]).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.error().0, "invalid_request_error");
        assert_eq!(reply.body["error"]["param"], "query");
    }
    let missing = sim.get("/v1/customers/search", &[]).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"]["param"], "query");
}

#[tokio::test]
async fn search_has_its_own_rate_limit() {
    let sim = Sim::start_with(SimConfig {
        rate_limits: RateLimits {
            global: 0,
            endpoint: 0,
            search: 2,
        },
        ..SimConfig::on_free_port()
    })
    .await;
    let query = [("query", "email:'a@example.com'")];
    let started = Instant::now();
    let statuses = [
        sim.get("/v1/customers/search", &query).await.status,
        sim.get("/v1/customers/search", &query).await.status,
        sim.get("/v1/customers/search", &query).await.status,
        sim.get("/v1/customers", &[]).await.status,
    ];
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(statuses, [200, 200, 429, 200]);
    }
}
