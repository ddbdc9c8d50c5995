//! sObject Collections: upsert, create, update, delete; allOrNone; limits
//! (docs/salesforce-api.md §4).

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::Org;

fn customer(external_id: &str, extra: Value) -> Value {
    let mut record =
        json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": external_id});
    if let (Value::Object(record), Value::Object(extra)) = (&mut record, extra) {
        record.extend(extra);
    }
    record
}

const UPSERT: &str = "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c";

#[tokio::test]
async fn upsert_returns_one_result_per_record_in_order() {
    let org = Org::start().await;
    let existing = org.upsert_customer("cus_b", &json!({})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"allOrNone": false, "records": [
        customer("cus_a", json!({"Customer_Name__c": "A"})),
        customer("cus_b", json!({"Customer_Name__c": "B"})),
        customer("cus_c", json!({"Customer_Email__c": "bad"})),
    ]});
    let reply = org.patch(UPSERT, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let results = reply.body.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[0]["created"], true);
    assert_eq!(
        results[1],
        json!({"id": existing, "success": true, "errors": [], "created": false})
    );
    assert_eq!(results[2]["success"], false);
    assert_eq!(
        results[2]["created"], true,
        "created is present on failed items too"
    );
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "INVALID_EMAIL_ADDRESS"
    );
    assert_eq!(
        results[2]["errors"][0]["fields"],
        json!(["Customer_Email__c"])
    );
    let records = org
        .admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
        .await;
    assert_eq!(
        records.body["totalSize"], 2,
        "the failed record was not written"
    );
    let calls = org.admin(Method::GET, "/__sim/calls", None).await;
    assert_eq!(
        calls.body["by_endpoint"]["collections.upsert"], 1,
        "one request is one API call"
    );
}

#[tokio::test]
async fn all_or_none_rolls_everything_back() {
    let org = Org::start().await;
    let existing = org
        .upsert_customer("cus_keep", &json!({"Customer_Name__c": "Before"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"allOrNone": true, "records": [
        customer("cus_new", json!({})),
        customer("cus_keep", json!({"Customer_Name__c": "After"})),
        customer("cus_bad", json!({"Subscription_Status__c": "nope"})),
    ]});
    let reply = org.patch(UPSERT, &body).await;
    assert_eq!(reply.status, 200);
    let results = reply.body.as_array().unwrap();
    let rolled_back = json!({"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []});
    assert_eq!(
        results[0],
        json!({"success": false, "errors": [rolled_back], "created": true})
    );
    assert_eq!(
        results[1]["id"],
        existing.as_str(),
        "matched records keep their id"
    );
    assert_eq!(
        results[1]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    let records = org
        .admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
        .await;
    assert_eq!(records.body["totalSize"], 1);
    assert_eq!(records.body["records"][0]["Customer_Name__c"], "Before");
    let history = org
        .admin(
            Method::GET,
            &format!("/__sim/history/Stripe_Customer__c/{existing}"),
            None,
        )
        .await;
    assert_eq!(
        history.body["writes"].as_array().unwrap().len(),
        1,
        "rolled-back writes leave no history"
    );
}

#[tokio::test]
async fn request_level_errors() {
    let org = Org::start().await;
    let too_many: Vec<Value> = (0..201)
        .map(|i| customer(&format!("cus_{i}"), json!({})))
        .collect();
    let reply = org.patch(UPSERT, &json!({"records": too_many})).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!([{"message": "record limit reached. cannot submit more than 200 records into this call", "errorCode": "EXCEEDED_ID_LIMIT"}])
    );
    let exactly_200: Vec<Value> = (0..200)
        .map(|i| customer(&format!("cus_{i}"), json!({})))
        .collect();
    assert_eq!(
        org.patch(UPSERT, &json!({"records": exactly_200}))
            .await
            .status,
        200
    );
    let unknown_field = org
        .patch(
            UPSERT,
            &json!({"records": [customer("x", json!({"Nope__c": 1}))]}),
        )
        .await;
    assert_eq!(unknown_field.status, 400);
    assert_eq!(unknown_field.error_code(), "INVALID_FIELD");
    let no_type = org
        .patch(
            UPSERT,
            &json!({"records": [{"Stripe_Customer_ID__c": "x"}]}),
        )
        .await;
    assert_eq!(no_type.status, 400);
    let old_version = org
        .send(
            Method::PATCH,
            &org.url(&format!("/services/data/v45.0{UPSERT}")),
            Some(&json!({"records": []})),
        )
        .await;
    assert_eq!(old_version.status, 404, "collections upsert needs v46");
}

#[tokio::test]
async fn duplicate_external_ids_in_one_request_fail_both() {
    let org = Org::start().await;
    let reply = org.patch(UPSERT, &json!({"records": [customer("cus_d", json!({})), customer("CUS_D", json!({})), customer("cus_e", json!({}))]})).await;
    let results = reply.body.as_array().unwrap();
    assert_eq!(
        results[0]["errors"][0]["statusCode"],
        "DUPLICATE_EXTERNAL_ID"
    );
    assert_eq!(
        results[1]["errors"][0]["statusCode"],
        "DUPLICATE_EXTERNAL_ID"
    );
    assert_eq!(results[2]["success"], true);
}

#[tokio::test]
async fn create_update_and_delete_collections() {
    let org = Org::start().await;
    let created = org
        .post("/composite/sobjects", &json!({"allOrNone": false, "records": [
            {"attributes": {"type": "Contact"}, "LastName": "Rosen", "Email": "jenny@example.com"},
            {"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_mixed"},
            {"attributes": {"type": "Contact"}, "FirstName": "NoLastName"},
        ]}))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let results = created.body.as_array().unwrap();
    assert_eq!(results[0]["success"], true);
    assert!(
        results[0].get("created").is_none(),
        "SaveResults have no created flag"
    );
    assert!(results[1]["id"].as_str().unwrap().starts_with("a01"));
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    let contact_id = results[0]["id"].as_str().unwrap().to_string();

    let updated = org
        .patch(
            "/composite/sobjects",
            &json!({"records": [
                {"attributes": {"type": "Contact"}, "id": contact_id, "Phone": "call me maybe"},
                {"attributes": {"type": "Contact"}, "Phone": "no id"},
            ]}),
        )
        .await;
    let results = updated.body.as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"id": contact_id, "success": true, "errors": []})
    );
    assert_eq!(results[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    let contact = org.get(&format!("/sobjects/Contact/{contact_id}")).await;
    assert_eq!(
        contact.body["Phone"], "call me maybe",
        "phones are not format-checked"
    );

    let deleted = org
        .delete(&format!(
            "/composite/sobjects?ids={contact_id},003Dn0000000000AAA"
        ))
        .await;
    let results = deleted.body.as_array().unwrap();
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[1]["success"], false);
    assert_eq!(
        org.get(&format!("/sobjects/Contact/{contact_id}"))
            .await
            .status,
        404
    );
}
