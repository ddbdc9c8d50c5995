//! Single-record REST: create and update by id, upsert by external id, and the fence rule
//! on datetimes.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{org, refusal, run_table, with};

#[tokio::test]
async fn rest_create_and_update_by_id() {
    let org = org().await;
    let ids = std::sync::Mutex::new(BTreeMap::new());
    run_table("rest", |number, insert, body| {
        let (org, ids) = (&org, &ids);
        async move {
            let reply = if insert {
                let body = with(body, &[("Number__c", json!(number))]);
                org.post("/sobjects/Invoice__c", &body).await
            } else {
                let id = ids.lock().unwrap().get(&number).cloned().expect("inserted");
                org.patch(&format!("/sobjects/Invoice__c/{id}"), &body)
                    .await
            };
            match reply.status {
                201 => {
                    let id = reply.body["id"].as_str().unwrap().to_owned();
                    ids.lock().unwrap().insert(number, id);
                    Ok(())
                }
                204 => Ok(()),
                400 => refusal(&reply.body[0]),
                other => panic!("{number}: HTTP {other}: {}", reply.text),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn rest_upsert_by_external_id() {
    let org = org().await;
    run_table("upsert", |number, insert, body| {
        let org = &org;
        async move {
            let reply = org
                .patch(&format!("/sobjects/Invoice__c/Number__c/{number}"), &body)
                .await;
            match (reply.status, insert) {
                (201, true) | (200, false) => Ok(()),
                (400, _) => refusal(&reply.body[0]),
                (other, _) => panic!("{number}: HTTP {other}: {}", reply.text),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_fence_refuses_an_older_event_time() {
    let org = org().await;
    let path = "/sobjects/Subscription__c/Stripe_Subscription_ID__c/sub_1";
    let at = |time: &str| json!({"Last_Stripe_Event_At__c": time});
    assert_eq!(
        org.patch(path, &at("2026-05-01T10:00:00.000Z"))
            .await
            .status,
        201
    );
    let older = org.patch(path, &at("2026-05-01T09:59:59.999Z")).await;
    assert_eq!(older.status, 400, "{}", older.text);
    assert_eq!(
        older.body,
        json!([{"message": "An older Stripe event cannot overwrite a newer one.", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": ["Last_Stripe_Event_At__c"]}])
    );
    // The same instant in another offset is not older.
    assert_eq!(
        org.patch(path, &at("2026-05-01T12:00:00.000+02:00"))
            .await
            .status,
        200
    );
    assert_eq!(
        org.patch(path, &at("2026-05-01T10:00:01.000Z"))
            .await
            .status,
        200
    );
    // Clearing it: a blank operand makes the comparison blank, so the rule does not fire.
    assert_eq!(
        org.patch(path, &json!({"Last_Stripe_Event_At__c": null}))
            .await
            .status,
        200
    );
    let stored = org
        .admin(Method::GET, "/__sim/records/Subscription__c", None)
        .await;
    assert_eq!(
        stored.body["records"][0]["Last_Stripe_Event_At__c"],
        Value::Null
    );
}
