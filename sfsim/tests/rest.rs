//! Single records by id over REST against the simulator: create, read, update and delete,
//! 404s for missing records, objects and fields, the validation errors of the schema, and
//! 405 for wrong methods (docs/salesforce-api.md §2.3, §3.5, §7). Upserts by external id are
//! in `upsert.rs`.

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::json;
use support::Org;

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
