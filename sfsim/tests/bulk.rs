//! Bulk API 2.0 ingest: job lifecycle, states and counters, CSV rules, result files,
//! job-level failures and limits (docs/salesforce-api.md §5).
// Helpers outside #[test] functions unwrap too: a failed step should fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use sfsim::FaultConfig;
use support::{read, test_config, Org, Reply};
use testkit::harness::wait_for;

async fn create_job(org: &Org, body: Value) -> String {
    let reply = org.post("/jobs/ingest", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["state"], "Open");
    reply.body["id"].as_str().unwrap().to_string()
}

async fn upload(org: &Org, job: &str, csv: &str) -> Reply {
    let response = org
        .client
        .put(org.api(&format!("/jobs/ingest/{job}/batches")))
        .bearer_auth(&org.token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    read(response).await
}

async fn close(org: &Org, job: &str) -> Reply {
    org.patch(
        &format!("/jobs/ingest/{job}"),
        &json!({"state": "UploadComplete"}),
    )
    .await
}

async fn wait_for_state(org: &Org, job: &str, states: &[&str]) -> Value {
    wait_for("job state", Duration::from_secs(10), || async {
        let info = org.get(&format!("/jobs/ingest/{job}")).await.body;
        states
            .iter()
            .any(|state| info["state"] == *state)
            .then_some(info)
    })
    .await
    .unwrap()
}

async fn csv(org: &Org, job: &str, resource: &str) -> Reply {
    let reply = org.get(&format!("/jobs/ingest/{job}/{resource}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=UTF-8")
    );
    reply
}

fn upsert_job() -> Value {
    json!({"object": "Payment_Transaction__c", "externalIdFieldName": "Stripe_Payment_Intent_ID__c", "contentType": "CSV", "operation": "upsert", "lineEnding": "LF", "columnDelimiter": "COMMA"})
}

#[tokio::test]
async fn upsert_job_runs_to_completion_with_result_files() {
    let org = Org::start().await;
    org.upsert_customer("cus_1", &json!({})).await;
    let created = org.post("/jobs/ingest", &upsert_job()).await;
    let body = &created.body;
    assert_eq!(body["apiVersion"], json!(62.0));
    assert_eq!(body["concurrencyMode"], "Parallel");
    let job = body["id"].as_str().unwrap().to_string();
    assert!(job.starts_with("750"));
    assert_eq!(
        body["contentUrl"],
        format!("services/data/v62.0/jobs/ingest/{job}/batches")
    );

    let data = "Stripe_Payment_Intent_ID__c,Amount__c,Status__c,Stripe_Customer__r.Stripe_Customer_ID__c,Payment_Method_Type__c\n\
                pi_1,12.50,succeeded,cus_1,\"card, visa\"\n\
                pi_2,7,bogus,cus_1,card\n\
                pi_3,1,succeeded,cus_missing,card\n\
                pi_4,#N/A,processing,,\n";
    let uploaded = upload(&org, &job, data).await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    assert!(uploaded.text.is_empty());
    let closed = close(&org, &job).await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.body["state"], "UploadComplete");
    let info = wait_for_state(&org, &job, &["JobComplete", "Failed"]).await;
    assert_eq!(
        info["state"], "JobComplete",
        "per-record failures still complete the job"
    );
    assert_eq!(
        info["numberRecordsProcessed"], 4,
        "processed includes failed rows"
    );
    assert_eq!(info["numberRecordsFailed"], 2);
    assert_eq!(info["jobType"], "V2Ingest");
    assert!(info.get("contentUrl").is_none());

    let successful = csv(&org, &job, "successfulResults").await.text;
    let lines: Vec<&str> = successful.lines().collect();
    assert_eq!(lines[0], "\"sf__Id\",\"sf__Created\",Stripe_Payment_Intent_ID__c,Amount__c,Status__c,Stripe_Customer__r.Stripe_Customer_ID__c,Payment_Method_Type__c");
    assert!(
        lines[1].ends_with(",\"true\",\"pi_1\",\"12.50\",\"succeeded\",\"cus_1\",\"card, visa\""),
        "{}",
        lines[1]
    );
    assert_eq!(lines.len(), 3);
    let failed = csv(&org, &job, "failedResults").await.text;
    assert!(failed.starts_with("\"sf__Id\",\"sf__Error\",Stripe_Payment_Intent_ID__c"));
    assert!(failed.contains("\"\",\"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status: bad value for restricted picklist field: bogus:Status__c --\",\"pi_2\""), "{failed}");
    assert!(failed.contains("INVALID_FIELD:Foreign key external ID: cus_missing not found for field Stripe_Customer_ID__c in entity Stripe_Customer__c:--"), "{failed}");
    let unprocessed = csv(&org, &job, "unprocessedrecords").await.text;
    assert_eq!(unprocessed, "Stripe_Payment_Intent_ID__c,Amount__c,Status__c,Stripe_Customer__r.Stripe_Customer_ID__c,Payment_Method_Type__c\n");
    assert_eq!(
        csv(&org, &job, "unprocessedRecords").await.text,
        unprocessed,
        "both spellings are served"
    );

    let pi_1 = org
        .get("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_1")
        .await
        .body;
    assert_eq!(pi_1["Amount__c"], json!(12.5));
    assert!(pi_1["Stripe_Customer__c"]
        .as_str()
        .unwrap()
        .starts_with("a01"));
    let pi_4 = org
        .get("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_4")
        .await
        .body;
    assert_eq!(pi_4["Amount__c"], Value::Null);
    let history = org
        .admin(
            Method::GET,
            "/__sim/history/Payment_Transaction__c/pi_1?by=Stripe_Payment_Intent_ID__c",
            None,
        )
        .await;
    assert_eq!(history.body["writes"][0]["api"], "bulk.job");
    assert_eq!(history.body["writes"][0]["request_id"], job.as_str());

    // A second upsert with an empty cell leaves the field unchanged, #N/A clears it.
    let again = create_job(&org, upsert_job()).await;
    assert_eq!(
        upload(
            &org,
            &again,
            "Stripe_Payment_Intent_ID__c,Amount__c,Payment_Method_Type__c\npi_1,,#N/A\n"
        )
        .await
        .status,
        201
    );
    close(&org, &again).await;
    let info = wait_for_state(&org, &again, &["JobComplete"]).await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert!(
        csv(&org, &again, "successfulResults")
            .await
            .text
            .contains("\"false\",\"pi_1\""),
        "sf__Created false for updates"
    );
    let pi_1 = org
        .get("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_1")
        .await
        .body;
    assert_eq!(pi_1["Amount__c"], json!(12.5));
    assert_eq!(pi_1["Payment_Method_Type__c"], Value::Null);
}

#[tokio::test]
async fn jsforce_style_empty_id_column_and_other_delimiters_work() {
    let org = Org::start().await;
    let job = create_job(&org, json!({"object": "Stripe_Customer__c", "externalIdFieldName": "Stripe_Customer_ID__c", "operation": "upsert", "lineEnding": "CRLF", "columnDelimiter": "PIPE"})).await;
    upload(
        &org,
        &job,
        "Id|stripe_customer_id__c|CUSTOMER_NAME__C\r\n|cus_9|Nine\r\n",
    )
    .await;
    close(&org, &job).await;
    let info = wait_for_state(&org, &job, &["JobComplete", "Failed"]).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(
        info["numberRecordsFailed"],
        0,
        "{}",
        csv(&org, &job, "failedResults").await.text
    );
    let success = csv(&org, &job, "successfulResults").await.text;
    assert!(
        success.starts_with(
            "\"sf__Id\"|\"sf__Created\"|Id|stripe_customer_id__c|CUSTOMER_NAME__C\r\n"
        ),
        "{success}"
    );
    assert_eq!(
        org.get("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_9")
            .await
            .body["Customer_Name__c"],
        "Nine"
    );
}

#[tokio::test]
async fn insert_update_and_delete_jobs() {
    let org = Org::start().await;
    let insert = create_job(&org, json!({"object": "Contact", "operation": "insert"})).await;
    upload(
        &org,
        &insert,
        "LastName,Email\nRosen,jenny@example.com\n,nobody@example.com\n",
    )
    .await;
    close(&org, &insert).await;
    let info = wait_for_state(&org, &insert, &["JobComplete"]).await;
    assert_eq!(info["numberRecordsFailed"], 1);
    assert!(csv(&org, &insert, "failedResults").await.text.contains(
        "\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\""
    ));
    let success = csv(&org, &insert, "successfulResults").await.text;
    let id = success
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .trim_matches('"')
        .to_string();

    let update = create_job(&org, json!({"object": "Contact", "operation": "update"})).await;
    upload(&org, &update, &format!("Id,FirstName\n{id},Jenny\n")).await;
    close(&org, &update).await;
    wait_for_state(&org, &update, &["JobComplete"]).await;
    assert_eq!(
        org.get(&format!("/sobjects/Contact/{id}")).await.body["Name"],
        "Jenny Rosen"
    );

    let delete = create_job(&org, json!({"object": "Contact", "operation": "delete"})).await;
    upload(&org, &delete, &format!("Id\n{id}\n")).await;
    close(&org, &delete).await;
    wait_for_state(&org, &delete, &["JobComplete"]).await;
    assert_eq!(
        org.get(&format!("/sobjects/Contact/{id}")).await.status,
        404
    );
}

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
async fn job_level_failures_leave_rows_unprocessed() {
    let org = Org::start().await;
    let bad_column = create_job(&org, upsert_job()).await;
    upload(
        &org,
        &bad_column,
        "Stripe_Payment_Intent_ID__c,Nope__c\npi_1,x\n",
    )
    .await;
    close(&org, &bad_column).await;
    let info = wait_for_state(&org, &bad_column, &["Failed", "JobComplete"]).await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Nope__c"
    );
    assert_eq!(
        csv(&org, &bad_column, "unprocessedrecords").await.text,
        "Stripe_Payment_Intent_ID__c,Nope__c\n\"pi_1\",\"x\"\n"
    );

    let crlf_data = create_job(&org, upsert_job()).await;
    upload(&org, &crlf_data, "Stripe_Payment_Intent_ID__c\r\npi_1\r\n").await;
    close(&org, &crlf_data).await;
    let info = wait_for_state(&org, &crlf_data, &["Failed", "JobComplete"]).await;
    assert_eq!(
        info["errorMessage"],
        "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"
    );

    let faults = FaultConfig {
        bulk_failure_rate: 1.0,
        ..FaultConfig::default()
    };
    org.admin(
        Method::PUT,
        "/__sim/faults",
        Some(&serde_json::to_value(&faults).unwrap()),
    )
    .await;
    let failing = create_job(&org, upsert_job()).await;
    upload(&org, &failing, "Stripe_Payment_Intent_ID__c\npi_1\npi_2\n").await;
    close(&org, &failing).await;
    let info = wait_for_state(&org, &failing, &["Failed", "JobComplete"]).await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        csv(&org, &failing, "unprocessedrecords")
            .await
            .text
            .lines()
            .count(),
        3
    );
    assert_eq!(
        org.admin(Method::GET, "/__sim/records/Payment_Transaction__c", None)
            .await
            .body["totalSize"],
        0
    );
}

#[tokio::test]
async fn slow_jobs_are_visibly_in_progress() {
    let org = Org::start().await;
    let faults = FaultConfig {
        bulk_extra_delay_ms: 60_000,
        ..FaultConfig::default()
    };
    org.admin(
        Method::PUT,
        "/__sim/faults",
        Some(&serde_json::to_value(&faults).unwrap()),
    )
    .await;
    let job = create_job(&org, upsert_job()).await;
    upload(&org, &job, "Stripe_Payment_Intent_ID__c\npi_1\n").await;
    close(&org, &job).await;
    let info = wait_for_state(&org, &job, &["InProgress"]).await;
    assert_eq!(info["numberRecordsProcessed"], 0);
    let header_only = csv(&org, &job, "successfulResults").await.text;
    assert_eq!(
        header_only, "\"sf__Id\",\"sf__Created\",Stripe_Payment_Intent_ID__c\n",
        "results before completion are header-only"
    );
    let aborted = org
        .patch(&format!("/jobs/ingest/{job}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(aborted.body["state"], "Aborted");
    let listed = org.get("/jobs/ingest").await;
    assert_eq!(listed.body["done"], true);
    assert_eq!(listed.body["records"][0]["id"], job.as_str());
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
