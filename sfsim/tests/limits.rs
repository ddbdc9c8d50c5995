//! API usage: `Sforce-Limit-Info` on every response, the daily allocation counting every
//! request, `/limits`, the versions list, and the concurrent long-running limit
//! (docs/salesforce-api.md §2, §8).

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sfsim::{FaultConfig, SimConfig};
use support::{test_config, Org};
use testkit::harness::wait_for;

#[tokio::test]
async fn every_request_counts_and_reports_usage() {
    let org = Org::start().await;
    let first = org.get("/limits").await;
    assert_eq!(
        first.header("sforce-limit-info"),
        Some("api-usage=1/115000")
    );
    let error = org
        .get("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/none")
        .await;
    assert_eq!(error.status, 404);
    assert_eq!(
        error.header("sforce-limit-info"),
        Some("api-usage=2/115000"),
        "errors count and carry the header"
    );
    let limits = org.get("/limits").await;
    assert_eq!(
        limits.body["DailyApiRequests"],
        json!({"Max": 115000, "Remaining": 115000 - 3})
    );
    assert_eq!(limits.body["DailyBulkApiBatches"]["Max"], 15000);
    assert!(limits.body["DailyBulkV2QueryJobs"].is_object());
    assert!(limits.body["DailyBulkV2QueryFileStorageMB"].is_object());
}

#[tokio::test]
async fn versions_list_needs_no_session_and_is_not_counted() {
    let org = Org::start().await;
    let response = org
        .client
        .get(org.url("/services/data/"))
        .send()
        .await
        .unwrap();
    let reply = support::read(response).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("sforce-limit-info").is_none());
    let versions = reply.body.as_array().unwrap();
    assert!(versions.contains(
        &json!({"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"})
    ));
    assert_eq!(versions.last().unwrap()["version"], "67.0");
    assert_eq!(
        org.admin(Method::GET, "/__sim/limits", None).await.body["daily_api_used"],
        0
    );
    let retired = org
        .send(Method::GET, &org.url("/services/data/v30.0/limits"), None)
        .await;
    assert_eq!(retired.status, 410);
    let unknown = org
        .send(Method::GET, &org.url("/services/data/v99.0/limits"), None)
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn spent_allocation_answers_403_request_limit_exceeded() {
    let config = SimConfig {
        daily_api_limit: 3,
        ..test_config()
    };
    let org = Org::start_with(config).await;
    for _ in 0..3 {
        assert_eq!(org.get("/limits").await.status, 200);
    }
    let refused = org.get("/limits").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(refused.header("sforce-limit-info"), Some("api-usage=3/3"));
    let raised = org
        .admin(
            Method::PUT,
            "/__sim/limits",
            Some(&json!({"daily_api_max": 10})),
        )
        .await;
    assert_eq!(raised.body["daily_api_max"], 10);
    assert_eq!(org.get("/limits").await.status, 200);
    let spent = org
        .admin(
            Method::PUT,
            "/__sim/limits",
            Some(&json!({"daily_api_used": 10})),
        )
        .await;
    assert_eq!(spent.body["daily_api_used"], 10);
    assert_eq!(
        org.get("/limits").await.error_code(),
        "REQUEST_LIMIT_EXCEEDED"
    );
}

#[tokio::test]
async fn too_many_long_running_requests_are_refused() {
    let config = SimConfig {
        long_running_threshold: Duration::from_millis(50),
        long_running_limit: 1,
        ..test_config()
    };
    let org = Org::start_with(config).await;
    let faults = FaultConfig {
        latency_ms: 5_000,
        ..FaultConfig::default()
    };
    org.admin(
        Method::PUT,
        "/__sim/faults",
        Some(&serde_json::to_value(&faults).unwrap()),
    )
    .await;
    let slow_client = org.client.clone();
    let slow = tokio::spawn(
        slow_client
            .get(org.api("/limits"))
            .bearer_auth(org.token.clone())
            .send(),
    );
    let long_running = wait_for(
        "a long-running request",
        Duration::from_secs(10),
        || async {
            let limits = org.admin(Method::GET, "/__sim/limits", None).await;
            (limits.body["long_running"] == 1).then_some(())
        },
    )
    .await;
    assert!(long_running.is_ok());
    let refused = org.get("/limits").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body,
        json!([{"message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    slow.abort();
}
