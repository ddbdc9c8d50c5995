//! Bulk API 2.0 ingest jobs' rules against the simulator: creation errors, which state
//! changes, uploads and deletes are allowed, several uploads when configured, and the API
//! calls a job costs (docs/salesforce-api.md §5.1–§5.4, §5.7). Jobs running to completion
//! are in `bulk.rs`.

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::json;
use support::{close, create_job, test_config, upload, upsert_job, wait_for_state, Org};

#[tokio::test]
async fn job_creation_errors() {
    let org = Org::start().await;
    let no_external_id = org
        .post(
            "/jobs/ingest",
            &json!({"object": "Stripe_Customer__c", "operation": "upsert"}),
        )
        .await;
    assert_eq!(no_external_id.status, 400);
    assert_eq!(no_external_id.error_code(), "INVALIDJOB");
    let not_indexed = org.post("/jobs/ingest", &json!({"object": "Stripe_Customer__c", "operation": "upsert", "externalIdFieldName": "Customer_Name__c"})).await;
    assert_eq!(
        not_indexed.body,
        json!([{"errorCode": "INVALIDJOB", "message": "InvalidJob : Field name provided, Customer_Name__c does not match an External ID, Salesforce Id, or indexed field for Stripe_Customer__c"}])
    );
    let unknown_object = org
        .post(
            "/jobs/ingest",
            &json!({"object": "Nope__c", "operation": "insert"}),
        )
        .await;
    assert_eq!(unknown_object.error_code(), "INVALIDJOB");
    let bad_delimiter = org
        .post(
            "/jobs/ingest",
            &json!({"object": "Contact", "operation": "insert", "columnDelimiter": "SPACE"}),
        )
        .await;
    assert_eq!(bad_delimiter.status, 400);
    assert_eq!(org.get("/jobs/ingest/750Dn0000000000AAA").await.status, 404);
}

#[tokio::test]
async fn state_rules_abort_and_delete() {
    let org = Org::start().await;
    let job = create_job(&org, upsert_job()).await;
    let wrong_type = org
        .client
        .put(org.api(&format!("/jobs/ingest/{job}/batches")))
        .bearer_auth(&org.token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status().as_u16(), 415);
    assert_eq!(
        upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_1\n")
            .await
            .status,
        201
    );
    let second = upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_2\n").await;
    assert_eq!(second.status, 400);
    assert_eq!(second.error_code(), "INVALIDJOBSTATE");
    let open_delete = org.delete(&format!("/jobs/ingest/{job}")).await;
    assert_eq!(open_delete.status, 400);
    assert_eq!(open_delete.error_code(), "API_ERROR");
    let aborted = org
        .patch(&format!("/jobs/ingest/{job}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(aborted.status, 200);
    assert_eq!(aborted.body["state"], "Aborted");
    let abort_again = org
        .patch(&format!("/jobs/ingest/{job}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(
        abort_again.body,
        json!([{"errorCode": "INVALIDJOBSTATE", "message": "Aborting already Aborted Job not allowed"}])
    );
    assert_eq!(close(&org, &job).await.status, 400);
    assert_eq!(
        upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_3\n")
            .await
            .status,
        400
    );
    assert_eq!(org.delete(&format!("/jobs/ingest/{job}")).await.status, 204);
    assert_eq!(org.get(&format!("/jobs/ingest/{job}")).await.status, 404);
    let records = org
        .admin(Method::GET, "/__sim/records/Payment_Transaction__c", None)
        .await;
    assert_eq!(
        records.body["totalSize"], 0,
        "an aborted job writes nothing"
    );
}

#[tokio::test]
async fn several_uploads_when_configured() {
    let mut config = test_config();
    config.bulk.allow_multiple_uploads = true;
    let org = Org::start_with(config).await;
    let job = create_job(&org, upsert_job()).await;
    assert_eq!(
        upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_1\n")
            .await
            .status,
        201
    );
    assert_eq!(
        upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_2\n")
            .await
            .status,
        201
    );
    assert_eq!(
        upload(&org, &job, "Other\nx\n").await.error_code(),
        "INVALIDBATCH"
    );
    close(&org, &job).await;
    assert_eq!(
        wait_for_state(&org, &job, &["JobComplete"]).await["numberRecordsProcessed"],
        2
    );
}

#[tokio::test]
async fn bulk_calls_count_against_the_daily_allocation() {
    let org = Org::start().await;
    let job = create_job(&org, upsert_job()).await;
    let reply = upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_1\n").await;
    assert_eq!(
        reply.header("sforce-limit-info"),
        Some("api-usage=2/115000")
    );
    let limits = org.admin(Method::GET, "/__sim/limits", None).await;
    assert_eq!(limits.body["daily_api_used"], 2);
}
