//! Events over HTTP: the events customer changes emit (with `previous_attributes` and the
//! causing request), listing newest first with `type` (wildcards), `types[]`,
//! `created[...]` and pagination, retrieval and its 404.

#[path = "support/mod.rs"]
mod support;

use serde_json::{json, Value};
use support::{ids, Sim};

fn types(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("text")
        .iter()
        .map(|e| e["type"].as_str().expect("text").to_string())
        .collect()
}

#[tokio::test]
async fn customer_changes_emit_stripe_events() {
    let sim = Sim::start().await;
    let created = sim
        .post(
            "/v1/customers",
            &[("email", "a@example.com"), ("metadata[k]", "1")],
        )
        .await;
    let id = created.id();
    sim.post(
        &format!("/v1/customers/{id}"),
        &[("email", "b@example.com"), ("metadata[k]", "2")],
    )
    .await;
    sim.post(
        &format!("/v1/customers/{id}"),
        &[("email", "b@example.com")],
    )
    .await;
    sim.delete(&format!("/v1/customers/{id}")).await;

    let list = sim.get("/v1/events", &[]).await.body;
    assert_eq!(
        types(&list),
        ["customer.deleted", "customer.updated", "customer.created"],
        "an update that changes nothing emits nothing"
    );
    let [deleted, updated, first] = [&list["data"][0], &list["data"][1], &list["data"][2]];
    assert!(first["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(first["object"], "event");
    assert_eq!(first["livemode"], false);
    assert_eq!(first["api_version"], stripesim::config::DEFAULT_API_VERSION);
    assert_eq!(first["data"]["object"], created.body);
    assert_eq!(
        first["request"]["id"],
        created.header("request-id").unwrap()
    );
    assert_eq!(first["pending_webhooks"], 0);
    assert_eq!(updated["data"]["object"]["email"], "b@example.com");
    assert_eq!(
        updated["data"]["previous_attributes"],
        json!({"email": "a@example.com", "metadata": {"k": "1"}})
    );
    assert_eq!(
        deleted["data"]["object"]["email"], "b@example.com",
        "the deleted customer as it was"
    );

    let fetched = sim
        .get(
            &format!("/v1/events/{}", first["id"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(&fetched.body, first);
    let missing = sim.get("/v1/events/evt_missing", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error().1, "resource_missing");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let sim = Sim::start().await;
    for n in 0..3 {
        let id = sim.customer(&[("name", &format!("n{n}"))]).await;
        sim.post(&format!("/v1/customers/{id}"), &[("name", "renamed")])
            .await;
    }
    let all = sim.get("/v1/events", &[]).await.body;
    assert_eq!(all["url"], "/v1/events");
    assert_eq!(ids(&all).len(), 6);

    let created = sim
        .get("/v1/events", &[("type", "customer.created")])
        .await
        .body;
    assert_eq!(types(&created), ["customer.created"; 3]);
    let wildcard = sim.get("/v1/events", &[("type", "customer.*")]).await.body;
    assert_eq!(ids(&wildcard), ids(&all));
    let none = sim.get("/v1/events", &[("type", "product.*")]).await.body;
    assert!(ids(&none).is_empty());
    let both = sim
        .get(
            "/v1/events",
            &[
                ("types[]", "customer.updated"),
                ("types[]", "customer.deleted"),
            ],
        )
        .await
        .body;
    assert_eq!(types(&both), ["customer.updated"; 3]);
    let conflict = sim
        .get(
            "/v1/events",
            &[
                ("type", "customer.created"),
                ("types[]", "customer.updated"),
            ],
        )
        .await;
    assert_eq!(conflict.status, 400);

    let newest = all["data"][0]["created"].as_i64().unwrap().to_string();
    let oldest = all["data"][5]["created"].as_i64().unwrap().to_string();
    assert_eq!(
        ids(&sim
            .get("/v1/events", &[("created[lte]", &newest)])
            .await
            .body)
        .len(),
        6
    );
    assert!(ids(&sim
        .get("/v1/events", &[("created[gt]", &newest)])
        .await
        .body)
    .is_empty());
    assert!(ids(&sim
        .get("/v1/events", &[("created[lt]", &oldest)])
        .await
        .body)
    .is_empty());
    assert_eq!(
        ids(&sim
            .get("/v1/events", &[("created[gte]", &oldest)])
            .await
            .body)
        .len(),
        6
    );

    let page = sim.get("/v1/events", &[("limit", "4")]).await.body;
    assert_eq!(page["has_more"], true);
    let cursor = ids(&page)[3].clone();
    let rest = sim
        .get("/v1/events", &[("limit", "4"), ("starting_after", &cursor)])
        .await
        .body;
    assert_eq!(rest["has_more"], false);
    assert_eq!([ids(&page), ids(&rest)].concat(), ids(&all));
}
