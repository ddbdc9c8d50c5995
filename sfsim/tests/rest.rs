//! Single-record REST against the simulator: upsert status codes, reads, CRUD by id, and
//! the validation errors of the schema (docs/salesforce-api.md §2.3, §3, §7).
// Helpers outside #[test] functions unwrap too: a failed step should fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
async fn create_read_update_delete_by_id() {
    let org = Org::start().await;
    let created = org.post("/sobjects/Stripe_Subscription__c", &json!({"Stripe_Subscription_ID__c": "sub_1", "Status__c": "active", "Amount__c": 10, "Current_Period_Start__c": "2024-01-15T12:30:00+02:00"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.body.get("created"),
        None,
        "plain create has no created flag"
    );
    let id = created.body["id"].as_str().unwrap().to_string();

    let read = org
        .get(&format!("/sobjects/Stripe_Subscription__c/{id}"))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["Amount__c"], json!(10.0));
    assert!(
        read.text.contains("\"Amount__c\":10.0"),
        "numbers come back as floats: {}",
        read.text
    );
    assert_eq!(
        read.body["Current_Period_Start__c"],
        "2024-01-15T10:30:00.000+0000"
    );
    assert_eq!(read.body["Name"], "SUB-000001");
    // 15-character ids work too.
    assert_eq!(
        org.get(&format!("/sobjects/Stripe_Subscription__c/{}", &id[..15]))
            .await
            .status,
        200
    );

    let updated = org
        .patch(
            &format!("/sobjects/Stripe_Subscription__c/{id}"),
            &json!({"Status__c": "canceled"}),
        )
        .await;
    assert_eq!(updated.status, 204, "{}", updated.text);
    assert_eq!(
        org.get(&format!("/sobjects/Stripe_Subscription__c/{id}"))
            .await
            .body["Status__c"],
        "canceled"
    );

    assert_eq!(
        org.delete(&format!("/sobjects/Stripe_Subscription__c/{id}"))
            .await
            .status,
        204
    );
    let gone = org
        .get(&format!("/sobjects/Stripe_Subscription__c/{id}"))
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.error_code(), "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn missing_records_objects_and_fields_are_404() {
    let org = Org::start().await;
    let unknown_object = org.upsert_customer("x", &json!({})).await;
    assert_eq!(unknown_object.status, 201);
    let reply = org.patch("/sobjects/Nope__c/Ext__c/1", &json!({})).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
    );
    let no_field = org
        .patch("/sobjects/Stripe_Customer__c/Namez/1", &json!({}))
        .await;
    assert_eq!(no_field.status, 404);
    assert_eq!(
        no_field.message(),
        "Provided external ID field does not exist or is not accessible: Namez"
    );
    assert_eq!(
        org.get("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/none")
            .await
            .status,
        404
    );
    assert_eq!(
        org.get("/sobjects/Stripe_Customer__c/a01Dn0000000000AAA")
            .await
            .status,
        404
    );
    let wrong_object = org
        .get("/sobjects/Stripe_Customer__c/003Dn0000000001AAA")
        .await;
    assert_eq!(wrong_object.status, 400);
    assert_eq!(wrong_object.error_code(), "MALFORMED_ID");
    let not_external = org
        .patch(
            "/sobjects/Stripe_Customer__c/Customer_Name__c/x",
            &json!({}),
        )
        .await;
    assert_eq!(not_external.status, 400);
    assert_eq!(not_external.error_code(), "INVALID_FIELD");
    let update_only = org
        .send(
            Method::PATCH,
            &org.api("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/new?updateOnly=true"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(update_only.status, 404);
}

#[tokio::test]
async fn validation_errors_use_salesforce_codes_and_texts() {
    let org = Org::start().await;
    let cases = [
        (
            json!({"Bogus__c": 1}),
            "INVALID_FIELD",
            "No such column 'Bogus__c' on sobject of type Stripe_Customer__c",
            None,
        ),
        (
            json!({"Customer_Email__c": "not-an-email"}),
            "INVALID_EMAIL_ADDRESS",
            "Customer Email: invalid email address: not-an-email",
            Some("Customer_Email__c"),
        ),
        (
            json!({"Subscription_Status__c": "paused"}),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Subscription Status: bad value for restricted picklist field: paused",
            Some("Subscription_Status__c"),
        ),
        (
            json!({"Default_Payment_Method__c": "x".repeat(256)}),
            "STRING_TOO_LONG",
            "",
            Some("Default_Payment_Method__c"),
        ),
        (
            json!({"Contact__c": "garbage"}),
            "MALFORMED_ID",
            "Contact: id value of incorrect type: garbage",
            Some("Contact__c"),
        ),
        (
            json!({"Name": "SC-999"}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "",
            Some("Name"),
        ),
        (
            json!({"Customer_Name__c": {"nested": true}}),
            "JSON_PARSER_ERROR",
            "",
            None,
        ),
    ];
    for (body, code, message, field) in cases {
        let reply = org.upsert_customer("cus_bad", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert_eq!(reply.error_code(), code, "{body}: {}", reply.text);
        if !message.is_empty() {
            assert_eq!(reply.message(), message);
        }
        if let Some(field) = field {
            assert_eq!(reply.body[0]["fields"], json!([field]));
        }
    }
    let too_long = org
        .upsert_customer("cus_bad", &json!({"Currency__c": "EURO"}))
        .await;
    assert_eq!(
        too_long.error_code(),
        "INVALID_FIELD",
        "Currency__c is not a field of Stripe_Customer__c"
    );
    let subscription = org
        .patch(
            "/sobjects/Stripe_Subscription__c/Stripe_Subscription_ID__c/sub_x",
            &json!({"Currency__c": "EURO"}),
        )
        .await;
    assert_eq!(subscription.error_code(), "STRING_TOO_LONG");
    assert_eq!(
        subscription.message(),
        "Currency: data value too large: EURO (max length=3)"
    );
    let required = org
        .post("/sobjects/Contact", &json!({"FirstName": "No"}))
        .await;
    assert_eq!(required.status, 400);
    assert_eq!(
        required.body,
        json!([{"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}])
    );
    let bad_date = org
        .patch(
            "/sobjects/Stripe_Subscription__c/Stripe_Subscription_ID__c/sub_y",
            &json!({"Current_Period_End__c": "2024-07-30 20:54:16 UTC"}),
        )
        .await;
    assert_eq!(bad_date.error_code(), "JSON_PARSER_ERROR");
    assert!(bad_date.message().starts_with(
        "Cannot deserialize instance of datetime from VALUE_STRING value 2024-07-30 20:54:16 UTC"
    ));
    let bad_json = org
        .send(
            Method::PATCH,
            &org.api("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/j"),
            None,
        )
        .await;
    assert_eq!(bad_json.error_code(), "JSON_PARSER_ERROR");
    // Nothing was written by any failed call.
    let records = org
        .admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
        .await;
    assert_eq!(records.body["totalSize"], 0);
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

#[tokio::test]
async fn wrong_methods_answer_405_with_salesforce_body() {
    let org = Org::start().await;
    let reply = org
        .send(
            Method::PUT,
            &org.api("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/x"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "METHOD_NOT_ALLOWED");
    assert!(reply
        .message()
        .starts_with("HTTP Method 'PUT' not allowed. Allowed are"));
}
