//! sObject Collections: a refused record fails alone with `allOrNone:false`; with
//! `allOrNone:true` every record rolls back.

use reqwest::Method;
use serde_json::json;

use crate::{org, refusal, run_table, with};

#[tokio::test]
async fn collections_fail_only_the_refused_record() {
    let org = org().await;
    run_table("collections", |number, insert, body| {
        let org = &org;
        async move {
            let record = with(body, &[("attributes", json!({"type": "Invoice__c"})), ("Number__c", json!(number))]);
            let companion = json!({"attributes": {"type": "Invoice__c"}, "Number__c": format!("{number}-ok"), "Code__c": if insert { "new" } else { "changed" }});
            let body = json!({"allOrNone": false, "records": [record, companion]});
            let reply = if insert {
                org.post("/composite/sobjects", &body).await
            } else {
                org.patch("/composite/sobjects/Invoice__c/Number__c", &body).await
            };
            assert_eq!(reply.status, 200, "{}", reply.text);
            assert_eq!(reply.body[1]["success"], true, "the other record is written: {}", reply.text);
            if reply.body[0]["success"] == true {
                Ok(())
            } else {
                refusal(&reply.body[0]["errors"][0])
            }
        }
    })
    .await;
}

#[tokio::test]
async fn collections_all_or_none_rolls_every_record_back() {
    let org = org().await;
    let body = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Invoice__c"}, "Number__c": "good", "Case__c": "none"},
        {"attributes": {"type": "Invoice__c"}, "Number__c": "bad", "Case__c": "isnew", "Active__c": false},
    ]});
    let reply = org.post("/composite/sobjects", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        reply.body[1]["errors"][0]["statusCode"],
        "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    );
    assert_eq!(reply.body[1]["errors"][0]["fields"], json!(["Active__c"]));
    let stored = org
        .admin(Method::GET, "/__sim/records/Invoice__c", None)
        .await;
    assert_eq!(stored.body["totalSize"], 0, "{}", stored.text);
}
