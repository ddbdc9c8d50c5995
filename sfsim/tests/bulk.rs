//! Bulk API 2.0 ingest jobs run against the simulator: upsert, insert, update and delete jobs
//! to completion, result files, the CSV rules (empty cells, `#N/A`, other delimiters and
//! line endings) and job-level failures that leave rows unprocessed
//! (docs/salesforce-api.md §5.3–§5.6). Job creation and state rules are in `bulk_states.rs`.

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sfsim::FaultConfig;
use support::{close, create_job, csv, upload, upsert_job, wait_for_state, Org};

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
