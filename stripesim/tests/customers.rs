//! Customers over HTTP: create, retrieve, update with metadata merge, delete and the deleted
//! stub, errors (404, unknown parameter, bad limit), list with `email` and cursor pagination.

#[path = "support/mod.rs"]
mod support;

use serde_json::json;
use support::{ids, Sim};

#[tokio::test]
async fn create_retrieve_update_delete() {
    let sim = Sim::start().await;
    let created = sim
        .post(
            "/v1/customers",
            &[
                ("email", "ann@example.com"),
                ("name", "Ann"),
                ("metadata[sf_id]", "001"),
                ("metadata[tier]", "gold"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let customer = &created.body;
    let id = created.id();
    assert!(id.starts_with("cus_"));
    assert_eq!(customer["object"], "customer");
    assert_eq!(customer["livemode"], false);
    assert_eq!(customer["email"], "ann@example.com");
    assert_eq!(customer["phone"], json!(null));
    assert_eq!(
        customer["metadata"],
        json!({"sf_id": "001", "tier": "gold"})
    );
    assert!(customer["created"].as_i64().unwrap() > 1_700_000_000);

    let fetched = sim.get(&format!("/v1/customers/{id}"), &[]).await;
    assert_eq!(&fetched.body, customer);

    let updated = sim
        .post(
            &format!("/v1/customers/{id}"),
            &[
                ("metadata[tier]", ""),
                ("metadata[new]", "x"),
                ("phone", "+4912345"),
            ],
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.body["metadata"],
        json!({"sf_id": "001", "new": "x"}),
        "merged; empty string deletes a key"
    );
    assert_eq!(updated.body["phone"], "+4912345");
    assert_eq!(
        updated.body["email"], "ann@example.com",
        "fields not sent are kept"
    );

    let deleted = sim.delete(&format!("/v1/customers/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.body,
        json!({"id": id, "object": "customer", "deleted": true})
    );
    let after = sim.get(&format!("/v1/customers/{id}"), &[]).await;
    assert_eq!(
        after.body, deleted.body,
        "a deleted customer retrieves as the stub"
    );
    assert_eq!(
        sim.post(&format!("/v1/customers/{id}"), &[("name", "x")])
            .await
            .status,
        404
    );
    assert_eq!(sim.delete(&format!("/v1/customers/{id}")).await.status, 404);
}

#[tokio::test]
async fn errors_have_stripe_shape() {
    let sim = Sim::start().await;
    let missing = sim.get("/v1/customers/cus_missing", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.error(),
        ("invalid_request_error", "resource_missing")
    );
    assert_eq!(
        missing.body["error"]["message"],
        "No such customer: 'cus_missing'"
    );
    assert_eq!(missing.body["error"]["param"], "id");

    let unknown = sim
        .post("/v1/customers", &[("emial", "x@example.com")])
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.error(),
        ("invalid_request_error", "parameter_unknown")
    );
    assert_eq!(unknown.body["error"]["param"], "emial");

    let limit = sim.get("/v1/customers", &[("limit", "101")]).await;
    assert_eq!(limit.status, 400);
    assert_eq!(limit.body["error"]["param"], "limit");
}

#[tokio::test]
async fn list_filters_by_email_and_pages_with_cursors() {
    let sim = Sim::start().await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(
            sim.customer(&[("email", "same@example.com"), ("name", &format!("n{n}"))])
                .await,
        );
    }
    let other = sim.customer(&[("email", "other@example.com")]).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let all = sim.get("/v1/customers", &[]).await.body;
    assert_eq!(all["url"], "/v1/customers");
    assert_eq!(all["has_more"], false);
    assert_eq!(ids(&all)[0], other, "newest first");

    let first = sim
        .get(
            "/v1/customers",
            &[("email", "same@example.com"), ("limit", "2")],
        )
        .await
        .body;
    assert_eq!(ids(&first), newest_first[..2]);
    assert_eq!(first["has_more"], true);
    let second = sim
        .get(
            "/v1/customers",
            &[
                ("email", "same@example.com"),
                ("limit", "2"),
                ("starting_after", &newest_first[1]),
            ],
        )
        .await
        .body;
    assert_eq!(ids(&second), newest_first[2..4]);
    let last = sim
        .get(
            "/v1/customers",
            &[
                ("email", "same@example.com"),
                ("limit", "2"),
                ("starting_after", &newest_first[3]),
            ],
        )
        .await
        .body;
    assert_eq!(ids(&last), newest_first[4..]);
    assert_eq!(last["has_more"], false);
    let back = sim
        .get(
            "/v1/customers",
            &[
                ("email", "same@example.com"),
                ("limit", "2"),
                ("ending_before", &newest_first[4]),
            ],
        )
        .await
        .body;
    assert_eq!(ids(&back), newest_first[2..4]);
    assert_eq!(back["has_more"], true);
}
