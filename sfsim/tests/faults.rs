//! Fault injection: error rates per endpoint, outages (JSON and HTML), UNABLE_TO_LOCK_ROW,
//! startup faults, and the admin API (docs/salesforce-api.md §2.7, §8).
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions unwrap too: a failed step should fail the test"
)]

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sfsim::{ErrorRule, FaultConfig, OutageWindow, SimConfig};
use support::{test_config, Org};

async fn set_faults(org: &Org, faults: &FaultConfig) {
    let reply = org
        .admin(
            Method::PUT,
            "/__sim/faults",
            Some(&serde_json::to_value(faults).unwrap()),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn error_rates_apply_per_endpoint() {
    let org = Org::start().await;
    let rule = |endpoint: &str, status| ErrorRule {
        endpoint: endpoint.into(),
        rate: 1.0,
        status,
    };
    set_faults(
        &org,
        &FaultConfig {
            error_rates: vec![rule("sobject.upsert", 503), rule("collections.upsert", 500)],
            ..FaultConfig::default()
        },
    )
    .await;
    let busy = org.upsert_customer("cus_1", &json!({})).await;
    assert_eq!(busy.status, 503);
    assert_eq!(
        busy.body,
        json!([{"message": "Server too busy", "errorCode": "SERVER_UNAVAILABLE"}])
    );
    let internal = org
        .patch(
            "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
            &json!({"records": []}),
        )
        .await;
    assert_eq!(internal.status, 500);
    assert_eq!(internal.error_code(), "UNKNOWN_EXCEPTION");
    assert_eq!(
        org.get("/limits").await.status,
        200,
        "other endpoints are healthy"
    );
    assert_eq!(
        org.admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
            .await
            .body["totalSize"],
        0
    );
    let cleared = org.admin(Method::DELETE, "/__sim/faults", None).await;
    assert_eq!(
        cleared.body,
        serde_json::to_value(FaultConfig::default()).unwrap()
    );
    assert_eq!(org.upsert_customer("cus_1", &json!({})).await.status, 201);
}

#[tokio::test]
async fn outages_answer_503_json_or_html() {
    let org = Org::start().await;
    set_faults(
        &org,
        &FaultConfig {
            outages: vec![OutageWindow {
                start_after_ms: 0,
                duration_ms: 600_000,
                html: true,
            }],
            ..FaultConfig::default()
        },
    )
    .await;
    let html = org.get("/limits").await;
    assert_eq!(html.status, 503);
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(html.text.contains("<html>"));
    let token = support::read(
        org.client
            .post(org.sim.token_url())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(token.status, 503, "the whole org is down, login included");
    set_faults(
        &org,
        &FaultConfig {
            outages: vec![OutageWindow {
                start_after_ms: 0,
                duration_ms: 600_000,
                html: false,
            }],
            ..FaultConfig::default()
        },
    )
    .await;
    assert_eq!(org.get("/limits").await.error_code(), "SERVER_UNAVAILABLE");
    set_faults(
        &org,
        &FaultConfig {
            outages: vec![OutageWindow {
                start_after_ms: 600_000,
                duration_ms: 1_000,
                html: false,
            }],
            ..FaultConfig::default()
        },
    )
    .await;
    assert_eq!(
        org.get("/limits").await.status,
        200,
        "a future window is not open yet"
    );
}

#[tokio::test]
async fn unable_to_lock_row_on_a_share_of_records() {
    let org = Org::start().await;
    set_faults(
        &org,
        &FaultConfig {
            lock_row_rate: 1.0,
            ..FaultConfig::default()
        },
    )
    .await;
    let single = org.upsert_customer("cus_1", &json!({})).await;
    assert_eq!(single.status, 400);
    assert_eq!(single.error_code(), "UNABLE_TO_LOCK_ROW");
    assert!(single
        .message()
        .starts_with("unable to obtain exclusive access to this record or 1 records: a01"));
    let records: Vec<Value> = (0..3).map(|i| json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": format!("cus_{i}")})).collect();
    let collection = org
        .patch(
            "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
            &json!({"records": records}),
        )
        .await;
    assert_eq!(collection.status, 200);
    for result in collection.body.as_array().unwrap() {
        assert_eq!(result["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW");
    }
    assert_eq!(
        org.admin(Method::GET, "/__sim/records/Stripe_Customer__c", None)
            .await
            .body["totalSize"],
        0
    );
}

#[tokio::test]
async fn faults_can_be_set_at_startup_and_read_back() {
    let faults = FaultConfig {
        latency_ms: 1,
        latency_jitter_ms: 2,
        error_rates: vec![ErrorRule {
            endpoint: "limits".into(),
            rate: 1.0,
            status: 502,
        }],
        ..FaultConfig::default()
    };
    let org = Org::start_with(SimConfig {
        faults: faults.clone(),
        ..test_config()
    })
    .await;
    let reply = org.get("/limits").await;
    assert_eq!(reply.status, 502);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html"),
        "edge errors are HTML"
    );
    let current = org.admin(Method::GET, "/__sim/faults", None).await;
    assert_eq!(current.body, serde_json::to_value(&faults).unwrap());
    let invalid = org
        .admin(
            Method::PUT,
            "/__sim/faults",
            Some(&json!({"no_such_knob": 1})),
        )
        .await;
    assert_eq!(invalid.status, 400);
    let reset = org
        .admin(Method::POST, "/__sim/reset?keep_sessions=true", None)
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(
        org.admin(Method::GET, "/__sim/faults", None).await.body,
        serde_json::to_value(&faults).unwrap(),
        "reset restores the startup faults"
    );
}
