//! The Composite resource: subrequests through the standalone handlers, references,
//! limits, allOrNone, one API call (docs/salesforce-api.md §4.4).

#[path = "support/mod.rs"]
mod support;

#[path = "support/cdc.rs"]
mod cdc;

use cdc::{connect, fetch};
use reqwest::Method;
use serde_json::{json, Value};
use sfsim::pubsub::proto::ReplayPreset;
use support::Org;

const V: &str = "/services/data/v62.0";

fn customers_upsert(reference_id: &str, ids: &[&str]) -> Value {
    let records: Vec<Value> = ids
        .iter()
        .map(
            |id| json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": id}),
        )
        .collect();
    json!({
        "method": "PATCH",
        "url": format!("{V}/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c"),
        "referenceId": reference_id,
        "body": {"allOrNone": false, "records": records},
    })
}

fn subscriptions_upsert(reference_id: &str, subs: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = subs
        .iter()
        .map(|(sub, customer)| {
            json!({"attributes": {"type": "Stripe_Subscription__c"},
                   "Stripe_Subscription_ID__c": sub, "Status__c": "active",
                   "Stripe_Customer__r": {"Stripe_Customer_ID__c": customer}})
        })
        .collect();
    json!({
        "method": "PATCH",
        "url": format!("{V}/composite/sobjects/Stripe_Subscription__c/Stripe_Subscription_ID__c"),
        "referenceId": reference_id,
        "body": {"allOrNone": false, "records": records},
    })
}

async fn total(org: &Org, object: &str) -> u64 {
    org.admin(Method::GET, &format!("/__sim/records/{object}"), None)
        .await
        .body["totalSize"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn parents_then_children_in_one_call() {
    let org = Org::start().await;
    let body = json!({"allOrNone": false, "collateSubrequests": false, "compositeRequest": [
        customers_upsert("parents", &["cus_1", "cus_2"]),
        subscriptions_upsert("children", &[("sub_1", "cus_1"), ("sub_2", "cus_2"), ("sub_3", "cus_none")]),
    ]});
    let reply = org.post("/composite", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let responses = reply.body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["referenceId"], "parents");
    assert_eq!(responses[0]["httpStatusCode"], 200);
    assert_eq!(responses[0]["body"][0]["created"], true);
    assert_eq!(responses[0]["body"][1]["success"], true);
    let children = &responses[1]["body"];
    assert_eq!(children[0]["success"], true, "{children}");
    assert_eq!(children[1]["success"], true);
    assert_eq!(
        children[2]["success"], false,
        "a missing parent fails its record only"
    );
    assert_eq!(total(&org, "Stripe_Customer__c").await, 2);
    assert_eq!(total(&org, "Stripe_Subscription__c").await, 2);
    let calls = org.admin(Method::GET, "/__sim/calls", None).await.body;
    assert_eq!(calls["by_endpoint"]["composite"], 1, "{calls}");
    assert_eq!(
        calls["by_endpoint"].get("collections.upsert"),
        None,
        "{calls}"
    );
    let usage = reply.header("sforce-limit-info").unwrap_or_default();
    assert!(usage.starts_with("api-usage=1/"), "one API call: {usage}");
}

#[tokio::test]
async fn a_later_subrequest_uses_an_earlier_result() {
    let org = Org::start().await;
    let body = json!({"compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Stripe_Customer__c"), "referenceId": "customer",
         "body": {"Stripe_Customer_ID__c": "cus_ref", "Customer_Name__c": "Ref"}},
        {"method": "POST", "url": format!("{V}/sobjects/Stripe_Subscription__c"), "referenceId": "sub",
         "body": {"Stripe_Subscription_ID__c": "sub_ref", "Status__c": "active", "Stripe_Customer__c": "@{customer.id}"}},
        {"method": "GET", "url": format!("{V}/sobjects/Stripe_Customer__c/@{{customer.id}}"), "referenceId": "read"},
        customers_upsert("batch", &["cus_x"]),
        {"method": "GET", "url": format!("{V}/sobjects/Stripe_Customer__c/@{{batch[0].id}}"), "referenceId": "read_batch"},
    ]});
    let reply = org.post("/composite", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let responses = reply.body["compositeResponse"].as_array().unwrap();
    let customer_id = responses[0]["body"]["id"].as_str().unwrap();
    assert_eq!(responses[0]["httpStatusCode"], 201);
    assert_eq!(responses[1]["httpStatusCode"], 201, "{}", responses[1]);
    assert_eq!(responses[2]["body"]["Id"], customer_id);
    assert_eq!(responses[4]["body"]["Stripe_Customer_ID__c"], "cus_x");
    let sub_id = responses[1]["body"]["id"].as_str().unwrap();
    let sub = org
        .get(&format!("/sobjects/Stripe_Subscription__c/{sub_id}"))
        .await;
    assert_eq!(sub.body["Stripe_Customer__c"], customer_id);
}

#[tokio::test]
async fn a_failed_subrequest_halts_its_dependents_only() {
    let org = Org::start().await;
    let body = json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Stripe_Customer__c"), "referenceId": "bad",
         "body": {"Stripe_Customer_ID__c": "cus_bad", "Customer_Email__c": "not an email"}},
        {"method": "GET", "url": format!("{V}/sobjects/Stripe_Customer__c/@{{bad.id}}"), "referenceId": "dependent"},
        customers_upsert("independent", &["cus_ok"]),
    ]});
    let reply = org.post("/composite", &body).await;
    let responses = reply.body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[0]["httpStatusCode"], 400);
    assert_eq!(responses[1]["httpStatusCode"], 400);
    assert_eq!(responses[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(responses[2]["httpStatusCode"], 200);
    assert_eq!(total(&org, "Stripe_Customer__c").await, 1);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_subrequest() {
    let org = Org::start().await;
    let body = json!({"allOrNone": true, "compositeRequest": [
        customers_upsert("parents", &["cus_1"]),
        {"method": "POST", "url": format!("{V}/sobjects/Stripe_Customer__c"), "referenceId": "bad",
         "body": {"Stripe_Customer_ID__c": "cus_bad", "Customer_Email__c": "not an email"}},
        customers_upsert("after", &["cus_2"]),
    ]});
    let reply = org.post("/composite", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let responses = reply.body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(
        responses[1]["body"][0]["errorCode"],
        "INVALID_EMAIL_ADDRESS"
    );
    assert_eq!(responses[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(total(&org, "Stripe_Customer__c").await, 0, "rolled back");

    let good = json!({"allOrNone": true, "compositeRequest": [
        customers_upsert("parents", &["cus_1"]),
        subscriptions_upsert("children", &[("sub_1", "cus_1")]),
    ]});
    let reply = org.post("/composite", &good).await;
    let responses = reply.body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[1]["body"][0]["success"], true, "{}", reply.text);
    assert_eq!(total(&org, "Stripe_Subscription__c").await, 1, "committed");
}

#[tokio::test]
async fn limits_are_refused_before_anything_runs() {
    let org = Org::start().await;
    let too_many: Vec<Value> = (0..26)
        .map(|i| {
            json!({"method": "POST", "url": format!("{V}/sobjects/Stripe_Customer__c"),
                   "referenceId": format!("c{i}"), "body": {"Stripe_Customer_ID__c": format!("cus_{i}")}})
        })
        .collect();
    let reply = org
        .post("/composite", &json!({"compositeRequest": too_many}))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let item = &reply.body["compositeResponse"][0];
    assert_eq!(item["httpStatusCode"], 400);
    assert_eq!(item["body"][0]["errorCode"], "LIMIT_EXCEEDED");

    let collections: Vec<Value> = (0..6)
        .map(|i| customers_upsert(&format!("c{i}"), &[&format!("cus_c{i}")]))
        .collect();
    let reply = org
        .post("/composite", &json!({"compositeRequest": collections}))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.body["compositeResponse"][0]["body"][0]["errorCode"],
        "LIMIT_EXCEEDED"
    );
    assert_eq!(total(&org, "Stripe_Customer__c").await, 0);

    let missing_reference =
        json!({"compositeRequest": [{"method": "GET", "url": format!("{V}/limits")}]});
    assert_eq!(org.post("/composite", &missing_reference).await.status, 400);
}

#[tokio::test]
async fn change_events_come_from_committed_composites_only() {
    let mut config = support::test_config();
    config.pubsub.keepalive = std::time::Duration::from_millis(150);
    let org = Org::start_with(config).await;
    let mut cdc = connect(&org).await;
    let mut sub = cdc
        .live(fetch(
            "/data/ContactChangeEvent",
            ReplayPreset::Latest,
            Vec::new(),
            10,
        ))
        .await;
    let contact = |reference: &str, name: &str| {
        json!({"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": reference,
               "body": {"LastName": name}})
    };
    let invalid = json!({"method": "POST", "url": format!("{V}/sobjects/Contact"),
                         "referenceId": "invalid", "body": {}});
    let rolled_back = json!({"allOrNone": true, "compositeRequest": [contact("x", "X"), invalid]});
    let reply = org.post("/composite", &rolled_back).await;
    assert_eq!(
        reply.body["compositeResponse"][0]["body"][0]["errorCode"], "PROCESSING_HALTED",
        "{}",
        reply.text
    );
    let committed =
        json!({"allOrNone": true, "compositeRequest": [contact("y", "Y"), contact("z", "Z")]});
    let reply = org.post("/composite", &committed).await;
    assert_eq!(
        reply.body["compositeResponse"][1]["httpStatusCode"], 201,
        "{}",
        reply.text
    );

    let events = sub.events(2).await;
    let mut names = Vec::new();
    let mut keys = Vec::new();
    for event in &events {
        let decoded = cdc.decode(event).await;
        names.push(
            decoded["Name"]["LastName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        keys.push(decoded["ChangeEventHeader"]["transactionKey"].clone());
    }
    assert_eq!(names, ["Y", "Z"], "nothing from the rolled-back request");
    assert_eq!(keys[0], keys[1], "one transaction for the whole request");
}
