//! Bulk API 2.0 ingest jobs (docs/salesforce-api.md §5): create, upload CSV, close, poll with
//! backoff until a final state, read the result files, abort.
//!
//! Every HTTP request is one API call against the daily allocation (§5.7), polls included,
//! so polling backs off: a large job costs a handful of calls, not one per second.

use std::{collections::HashMap, time::Duration};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{
    client::{Body, SalesforceClient},
    csv,
    error::{ApiError, SalesforceError},
};

/// The states of an ingest job (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum JobState {
    /// Accepting uploads.
    Open,
    /// Closed, waiting to be processed.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Processed; per-record failures are in `failedResults`.
    JobComplete,
    /// The job as a whole failed; rows not reached are in `unprocessedrecords`.
    Failed,
    /// Aborted by a client.
    Aborted,
}

impl JobState {
    /// True for states a job never leaves.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// What `GET /jobs/ingest/{id}` reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// Job id.
    pub id: String,
    /// Current state.
    pub state: JobState,
    /// Rows processed, failed ones included.
    #[serde(default)]
    pub number_records_processed: u64,
    /// Rows that failed.
    #[serde(default)]
    pub number_records_failed: u64,
    /// Job-level failure reason.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// The three result files of a finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFile {
    /// `sf__Id`, `sf__Created`, then the uploaded columns.
    Successful,
    /// `sf__Id`, `sf__Error`, then the uploaded columns.
    Failed,
    /// The uploaded columns of rows never processed (failed or aborted jobs).
    Unprocessed,
}

impl ResultFile {
    fn path_segment(self) -> &'static str {
        match self {
            ResultFile::Successful => "successfulResults",
            ResultFile::Failed => "failedResults",
            ResultFile::Unprocessed => "unprocessedrecords",
        }
    }
}

/// How often to poll a job: starting interval, growth and cap.
#[derive(Debug, Clone, Copy)]
pub struct PollSchedule {
    /// First wait after closing the job.
    pub first: Duration,
    /// Longest wait between polls.
    pub max: Duration,
    /// Give up (retryable error) after this long.
    pub deadline: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(500),
            max: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
        }
    }
}

impl SalesforceClient {
    fn jobs_path(&self, suffix: &str) -> String {
        format!("{}/jobs/ingest{suffix}", self.data_path_for_jobs())
    }

    /// Creates an upsert job for `sobject` keyed by `external_id_field`.
    pub async fn create_upsert_job(
        &self,
        sobject: &str,
        external_id_field: &str,
    ) -> Result<JobInfo, SalesforceError> {
        let body = json!({
            "object": sobject,
            "externalIdFieldName": external_id_field,
            "contentType": "CSV",
            "operation": "upsert",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        });
        let answer = self
            .call(Method::POST, &self.jobs_path(""), Some(Body::Json(body)))
            .await?;
        parse_job(&answer.body)
    }

    /// Uploads the job's CSV (`PUT .../batches`, 201).
    pub async fn upload_job_data(&self, job_id: &str, csv: String) -> Result<(), SalesforceError> {
        let answer = self
            .call(
                Method::PUT,
                &self.jobs_path(&format!("/{job_id}/batches")),
                Some(Body::Csv(csv)),
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(SalesforceError::Unexpected(format!(
                "upload answered {} instead of 201",
                answer.status
            )));
        }
        Ok(())
    }

    /// Closes the job for processing (`state: UploadComplete`).
    pub async fn close_job(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        self.set_job_state(job_id, "UploadComplete").await
    }

    /// Aborts the job.
    pub async fn abort_job(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        self.set_job_state(job_id, "Aborted").await
    }

    async fn set_job_state(&self, job_id: &str, state: &str) -> Result<JobInfo, SalesforceError> {
        let answer = self
            .call(
                Method::PATCH,
                &self.jobs_path(&format!("/{job_id}")),
                Some(Body::Json(json!({ "state": state }))),
            )
            .await?;
        parse_job(&answer.body)
    }

    /// The job's current information.
    pub async fn job_info(&self, job_id: &str) -> Result<JobInfo, SalesforceError> {
        let answer = self
            .call(Method::GET, &self.jobs_path(&format!("/{job_id}")), None)
            .await?;
        parse_job(&answer.body)
    }

    /// Polls until the job reaches a final state, waiting longer between polls each time.
    pub async fn wait_for_job(
        &self,
        job_id: &str,
        schedule: PollSchedule,
    ) -> Result<JobInfo, SalesforceError> {
        let started = tokio::time::Instant::now();
        let mut wait = schedule.first;
        loop {
            tokio::time::sleep(wait).await;
            let info = self.job_info(job_id).await?;
            if info.state.is_final() {
                return Ok(info);
            }
            if started.elapsed() >= schedule.deadline {
                return Err(SalesforceError::Unexpected(format!(
                    "job {job_id} still {:?} after {:?}",
                    info.state, schedule.deadline
                )));
            }
            wait = (wait.mul_f64(1.5)).min(schedule.max);
        }
    }

    /// Reads one result file of a finished job as rows of column → value.
    pub async fn job_results(
        &self,
        job_id: &str,
        file: ResultFile,
    ) -> Result<Vec<HashMap<String, String>>, SalesforceError> {
        let path = self.jobs_path(&format!("/{job_id}/{}/", file.path_segment()));
        let answer = self.call(Method::GET, &path, None).await?;
        csv::read_rows(&answer.body).map_err(|e| SalesforceError::Unexpected(e.to_string()))
    }
}

fn parse_job(body: &str) -> Result<JobInfo, SalesforceError> {
    serde_json::from_str(body).map_err(|e| SalesforceError::Unexpected(format!("job info: {e}")))
}

/// Splits a Bulk `sf__Error` (`STATUS_CODE:message:fields --`) into code and message.
pub fn split_bulk_error(sf_error: &str) -> (String, String) {
    match sf_error.split_once(':') {
        Some((code, rest)) => (
            code.trim().to_owned(),
            rest.trim_end_matches("--").trim().to_owned(),
        ),
        None => (sf_error.trim().to_owned(), String::new()),
    }
}

/// A failed row's error as an [`ApiError`]: the code and message of [`split_bulk_error`], and
/// the fields, which follow the message's last `:`, comma-separated (docs/salesforce-api.md
/// §5.5), so that callers can tell which field a validation rule named.
pub fn bulk_row_error(sf_error: &str) -> ApiError {
    let (code, message) = split_bulk_error(sf_error);
    let fields = message
        .rsplit_once(':')
        .map(|(_, fields)| {
            fields
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty() && !field.contains(' '))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    ApiError {
        code,
        message,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_row_errors_name_their_fields() {
        let error = bulk_row_error(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:A newer Stripe event was already written to this record.:Last_Stripe_Event_At__c --",
        );
        assert_eq!(error.code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
        assert_eq!(error.fields, vec!["Last_Stripe_Event_At__c".to_owned()]);
        assert_eq!(
            error.message,
            "A newer Stripe event was already written to this record.:Last_Stripe_Event_At__c"
        );
        let no_fields = bulk_row_error(
            "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--",
        );
        assert!(no_fields.fields.is_empty(), "{no_fields:?}");
    }

    #[test]
    fn bulk_errors_split_into_code_and_message() {
        assert_eq!(
            split_bulk_error("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"),
            (
                "REQUIRED_FIELD_MISSING".to_owned(),
                "Required fields are missing: [Name]:Name".to_owned()
            )
        );
        assert_eq!(
            split_bulk_error("UNABLE_TO_LOCK_ROW").0,
            "UNABLE_TO_LOCK_ROW"
        );
    }

    #[test]
    fn job_info_reads_the_documented_shape() {
        let info = parse_job(
            r#"{"id":"750x","operation":"upsert","object":"A__c","state":"JobComplete","numberRecordsProcessed":7,
               "numberRecordsFailed":2,"apiVersion":66.0,"jobType":"V2Ingest"}"#,
        )
        .unwrap();
        assert_eq!(info.state, JobState::JobComplete);
        assert_eq!(
            (info.number_records_processed, info.number_records_failed),
            (7, 2)
        );
        assert!(info.state.is_final());
    }
}
