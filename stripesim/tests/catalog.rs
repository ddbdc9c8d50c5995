//! Products and prices over HTTP: create, update, list filters, delete rules, tiered prices
//! whose `tiers` show only when expanded (and never in events), and their events.

#[path = "support/mod.rs"]
mod support;

use serde_json::{json, Value};
use support::{ids, Sim};

const TIERED: [(&str, &str); 9] = [
    ("product", "prod_plan"),
    ("currency", "eur"),
    ("billing_scheme", "tiered"),
    ("tiers_mode", "graduated"),
    ("tiers[0][up_to]", "10"),
    ("tiers[0][unit_amount]", "500"),
    ("tiers[1][up_to]", "inf"),
    ("tiers[1][unit_amount]", "400"),
    ("recurring[interval]", "month"),
];

async fn latest_event(sim: &Sim, kind: &str) -> Value {
    let events = sim
        .get("/v1/events", &[("type", kind), ("limit", "1")])
        .await
        .body;
    events["data"][0].clone()
}

#[tokio::test]
async fn products_are_created_updated_listed_and_deleted() {
    let sim = Sim::start().await;
    let unnamed = sim
        .post("/v1/products", &[("description", "no name")])
        .await;
    assert_eq!(unnamed.status, 400);
    assert_eq!(unnamed.error().1, "parameter_missing");

    let created = sim
        .post(
            "/v1/products",
            &[
                ("id", "prod_plan"),
                ("name", "Plan"),
                ("metadata[sf]", "01t"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["object"], "product");
    assert_eq!(created.body["active"], true);
    let duplicate = sim
        .post("/v1/products", &[("id", "prod_plan"), ("name", "Again")])
        .await;
    assert_eq!(duplicate.error().1, "resource_already_exists");

    let updated = sim
        .post(
            "/v1/products/prod_plan",
            &[("name", "Plan Pro"), ("active", "false")],
        )
        .await;
    assert_eq!(updated.body["name"], "Plan Pro");
    let event = latest_event(&sim, "product.updated").await;
    assert_eq!(
        event["data"]["previous_attributes"],
        json!({"name": "Plan", "active": true})
    );

    let other = sim.post("/v1/products", &[("name", "Other")]).await.id();
    assert!(other.starts_with("prod_"));
    assert_eq!(
        ids(&sim.get("/v1/products", &[("active", "true")]).await.body),
        vec![other.clone()]
    );
    assert_eq!(
        ids(&sim.get("/v1/products", &[]).await.body),
        vec![other.clone(), "prod_plan".to_string()]
    );

    let deleted = sim.delete(&format!("/v1/products/{other}")).await;
    assert_eq!(
        deleted.body,
        json!({"id": other, "object": "product", "deleted": true})
    );
    assert_eq!(
        latest_event(&sim, "product.deleted").await["data"]["object"]["name"],
        "Other"
    );
    assert_eq!(
        sim.get(&format!("/v1/products/{other}"), &[]).await.status,
        404
    );
}

#[tokio::test]
async fn tiered_prices_show_tiers_only_when_expanded() {
    let sim = Sim::start().await;
    sim.post("/v1/products", &[("id", "prod_plan"), ("name", "Plan")])
        .await;
    let created = sim.post("/v1/prices", &TIERED).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.id();
    assert!(id.starts_with("price_"));
    assert_eq!(created.body["billing_scheme"], "tiered");
    assert_eq!(created.body["tiers_mode"], "graduated");
    assert_eq!(created.body["type"], "recurring");
    assert_eq!(created.body["unit_amount"], Value::Null);
    assert!(created.body.get("tiers").is_none());

    let expanded = sim
        .get(&format!("/v1/prices/{id}"), &[("expand[]", "tiers")])
        .await
        .body;
    assert_eq!(expanded["tiers"][0]["up_to"], 10);
    assert_eq!(expanded["tiers"][0]["unit_amount"], 500);
    assert_eq!(expanded["tiers"][1]["up_to"], Value::Null);
    let listed = sim
        .get(
            "/v1/prices",
            &[("product", "prod_plan"), ("expand[]", "data.tiers")],
        )
        .await
        .body;
    assert_eq!(listed["data"][0]["tiers"], expanded["tiers"]);
    let event = latest_event(&sim, "price.created").await;
    assert_eq!(event["data"]["object"]["id"], id.as_str());
    assert!(
        event["data"]["object"].get("tiers").is_none(),
        "events carry no tiers"
    );
}

#[tokio::test]
async fn prices_update_only_what_stripe_allows_and_guard_their_product() {
    let sim = Sim::start().await;
    sim.post("/v1/products", &[("id", "prod_plan"), ("name", "Plan")])
        .await;
    let orphan = sim
        .post(
            "/v1/prices",
            &[
                ("product", "prod_missing"),
                ("currency", "usd"),
                ("unit_amount", "100"),
            ],
        )
        .await;
    assert_eq!(orphan.status, 400);
    assert_eq!(orphan.error().1, "resource_missing");
    assert_eq!(orphan.body["error"]["param"], "product");
    let bad_tiers = sim.post("/v1/prices", &TIERED[..6]).await;
    assert_eq!(bad_tiers.status, 400);
    assert_eq!(bad_tiers.body["error"]["param"], "tiers[0][up_to]");

    let id = sim
        .post(
            "/v1/prices",
            &[
                ("product", "prod_plan"),
                ("currency", "usd"),
                ("unit_amount", "1999"),
            ],
        )
        .await
        .id();
    let amount = sim
        .post(&format!("/v1/prices/{id}"), &[("unit_amount", "5")])
        .await;
    assert_eq!(amount.error().1, "parameter_unknown");
    let archived = sim
        .post(
            &format!("/v1/prices/{id}"),
            &[("active", "false"), ("nickname", "old")],
        )
        .await;
    assert_eq!(archived.body["active"], false);
    let event = latest_event(&sim, "price.updated").await;
    assert_eq!(
        event["data"]["previous_attributes"],
        json!({"active": true, "nickname": null})
    );
    assert_eq!(
        ids(&sim.get("/v1/prices", &[("active", "true")]).await.body).len(),
        0
    );
    assert_eq!(
        ids(&sim
            .get("/v1/prices", &[("type", "one_time"), ("currency", "USD")])
            .await
            .body),
        vec![id]
    );

    let refused = sim.delete("/v1/products/prod_plan").await;
    assert_eq!(refused.status, 400);
    assert_eq!(sim.get("/v1/products/prod_plan", &[]).await.status, 200);
}
