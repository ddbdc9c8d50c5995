//! Single-record upsert by external id against the simulator: 201 / 200 with `created` from
//! v46 and 204 before, 300 when several records match, case-insensitive matching of
//! URL-encoded values, and lookups set through the parent's external id
//! (docs/salesforce-api.md §3).

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::json;
use support::Org;

#[tokio::test]
async fn upsert_creates_then_updates_with_v46_status_codes() {
    let org = Org::start().await;
    let created = org
        .upsert_customer(
            "cus_1",
            &json!({"Customer_Name__c": "Jenny Rosen", "Customer_Email__c": "jenny@example.com"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["success"], true);
    assert_eq!(created.body["created"], true);
    assert_eq!(created.body["errors"], json!([]));
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("a01"));
    assert_eq!(
        created.header("location").unwrap(),
        format!("/services/data/v62.0/sobjects/Stripe_Customer__c/{id}")
    );
    assert!(created
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));

    let updated = org
        .upsert_customer("cus_1", &json!({"Subscription_Status__c": "Active"}))
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );

    let record = org
        .get("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_1")
        .await;
    assert_eq!(record.status, 200);
    assert_eq!(record.body["Id"], id.as_str());
    assert_eq!(record.body["Customer_Name__c"], "Jenny Rosen");
    assert_eq!(record.body["Subscription_Status__c"], "Active");
    assert_eq!(record.body["Name"], "SC-000001");
    assert_eq!(record.body["attributes"]["type"], "Stripe_Customer__c");
    assert_eq!(record.body["Contact__c"], serde_json::Value::Null);
}

#[tokio::test]
async fn upsert_before_v46_answers_204_on_update_and_omits_created() {
    let org = Org::start().await;
    let url =
        org.url("/services/data/v45.0/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_old");
    let first = org
        .send(Method::PATCH, &url, Some(&json!({"Customer_Name__c": "A"})))
        .await;
    assert_eq!(first.status, 201);
    assert!(first.body.get("created").is_none());
    let second = org
        .send(Method::PATCH, &url, Some(&json!({"Customer_Name__c": "B"})))
        .await;
    assert_eq!(second.status, 204);
    assert!(second.text.is_empty());
}

#[tokio::test]
async fn external_id_matching_several_records_answers_300_with_urls() {
    let org = Org::start().await;
    for last_name in ["One", "Two"] {
        let reply = org
            .post(
                "/sobjects/Contact",
                &json!({"LastName": last_name, "Stripe_Customer_ID__c": "cus_dup"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let upsert = org
        .patch(
            "/sobjects/Contact/Stripe_Customer_ID__c/cus_dup",
            &json!({"FirstName": "X"}),
        )
        .await;
    assert_eq!(upsert.status, 300);
    let urls = upsert.body.as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(urls[0]
        .as_str()
        .unwrap()
        .starts_with("/services/data/v62.0/sobjects/Contact/003"));
    let read = org
        .get("/sobjects/Contact/Stripe_Customer_ID__c/cus_dup")
        .await;
    assert_eq!(read.status, 300);
}

#[tokio::test]
async fn external_id_matching_ignores_case_and_decodes_the_path() {
    let org = Org::start().await;
    assert_eq!(
        org.upsert_customer("cus_ABC%2Fx", &json!({})).await.status,
        201
    );
    let again = org
        .upsert_customer("CUS_abc%2FX", &json!({"Customer_Name__c": "same"}))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    let records = org
        .admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
        .await;
    assert_eq!(records.body["totalSize"], 1);
    assert_eq!(
        records.body["records"][0]["Stripe_Customer_ID__c"],
        "cus_ABC/x"
    );
}

#[tokio::test]
async fn lookups_resolve_through_the_parents_external_id() {
    let org = Org::start().await;
    let parent = org.upsert_customer("cus_parent", &json!({})).await;
    let parent_id = parent.body["id"].as_str().unwrap().to_string();
    let child = org
        .patch("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_1", &json!({"Amount__c": 12.5, "Status__c": "succeeded", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_parent"}}))
        .await;
    assert_eq!(child.status, 201, "{}", child.text);
    let read = org
        .get("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_1")
        .await;
    assert_eq!(read.body["Stripe_Customer__c"], parent_id.as_str());

    let orphan = org
        .patch(
            "/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_2",
            &json!({"Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_missing"}}),
        )
        .await;
    assert_eq!(orphan.status, 400);
    assert_eq!(orphan.error_code(), "INVALID_FIELD");
    assert_eq!(orphan.message(), "Foreign key external ID: cus_missing not found for field Stripe_Customer_ID__c in entity Stripe_Customer__c");
    let by_id = org
        .patch(
            "/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_3",
            &json!({"Stripe_Customer__c": parent_id}),
        )
        .await;
    assert_eq!(by_id.status, 201);
    let unknown_relationship = org
        .patch(
            "/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_4",
            &json!({"Customer__r": {"Stripe_Customer_ID__c": "cus_parent"}}),
        )
        .await;
    assert_eq!(unknown_relationship.error_code(), "INVALID_FIELD");
}
