//! The `/__sim/` inspection API: records, write history, call counts, timeline, busiest
//! window, tokens, reset.

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::json;
use support::Org;

#[tokio::test]
async fn records_and_write_history() {
    let org = Org::start().await;
    let created = org
        .upsert_customer("cus_h", &json!({"Customer_Name__c": "First"}))
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let request_id = created.header("x-sfsim-request-id").unwrap().to_string();
    org.patch("/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c", &json!({"records": [{"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": "cus_h", "Customer_Name__c": "Second"}]})).await;

    let records = org
        .admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
        .await;
    assert_eq!(records.body["totalSize"], 1);
    assert_eq!(records.body["records"][0]["Customer_Name__c"], "Second");
    let history = org
        .admin(
            Method::GET,
            &format!("/__sim/history/Stripe_Customer__c/{id}"),
            None,
        )
        .await;
    let writes = history.body["writes"].as_array().unwrap();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0]["request_id"], request_id.as_str());
    assert_eq!(writes[0]["api"], "sobject.upsert");
    assert_eq!(writes[0]["operation"], "insert");
    assert_eq!(writes[0]["fields"]["Customer_Name__c"], "First");
    assert_eq!(writes[0]["fields"]["Stripe_Customer_ID__c"], "cus_h");
    assert_eq!(writes[1]["api"], "collections.upsert");
    assert_eq!(writes[1]["operation"], "update");
    assert_eq!(
        writes[1]["fields"],
        json!({"Customer_Name__c": "Second", "Stripe_Customer_ID__c": "cus_h"})
    );
    assert!(writes[0]["at_ms"].as_i64().unwrap() <= writes[1]["at_ms"].as_i64().unwrap());
    let by_external = org
        .admin(
            Method::GET,
            "/__sim/history/Stripe_Customer__c/CUS_H?by=Stripe_Customer_ID__c",
            None,
        )
        .await;
    assert_eq!(by_external.body["id"], id.as_str());
    let one = org
        .admin(
            Method::GET,
            &format!("/__sim/records/Stripe_Customer__c/{id}"),
            None,
        )
        .await;
    assert_eq!(one.body["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        org.admin(Method::GET, "/__sim/records/Nope__c", None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn call_counts_timeline_and_busiest_window() {
    let org = Org::start().await;
    for i in 0..5 {
        org.upsert_customer(&format!("cus_{i}"), &json!({})).await;
    }
    org.get("/limits").await;
    let calls = org.admin(Method::GET, "/__sim/calls", None).await;
    assert_eq!(calls.body["by_endpoint"]["sobject.upsert"], 5);
    assert_eq!(calls.body["by_endpoint"]["limits"], 1);
    assert_eq!(calls.body["by_endpoint"]["oauth.token"], 1);
    assert_eq!(calls.body["by_status"]["201"], 5);
    let timeline = org.admin(Method::GET, "/__sim/calls/timeline", None).await;
    let total: u64 = timeline.body["seconds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|second| second["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total, 6,
        "the timeline holds counted API calls (not the login)"
    );
    let window = org
        .admin(
            Method::GET,
            "/__sim/calls/max-window?window_ms=3600000",
            None,
        )
        .await;
    assert_eq!(window.body["max_calls"], 6);
    assert_eq!(window.body["window_ms"], 3_600_000);
    assert_eq!(
        org.admin(Method::GET, "/__sim/calls/max-window?window_ms=0", None)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn reset_empties_the_org() {
    let org = Org::start().await;
    org.upsert_customer("cus_r", &json!({})).await;
    let reset = org.admin(Method::POST, "/__sim/reset", None).await;
    assert_eq!(reset.body, json!({"reset": true}));
    assert_eq!(
        org.admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
            .await
            .body["totalSize"],
        0
    );
    assert_eq!(
        org.admin(Method::GET, "/__sim/calls", None).await.body["total"],
        0
    );
    assert_eq!(
        org.admin(Method::GET, "/__sim/tokens", None).await.body["issued"],
        0
    );
    assert_eq!(
        org.get("/limits").await.status,
        401,
        "sessions are gone unless keep_sessions=true"
    );
    let token = support::login(&org.client, &org.sim).await;
    let again = org
        .client
        .patch(org.api("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_r"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let again = support::read(again).await;
    assert_eq!(again.body["created"], true);
    assert_eq!(
        org.admin(Method::GET, "/__sim/health", None).await.body["status"],
        "ok"
    );
}
