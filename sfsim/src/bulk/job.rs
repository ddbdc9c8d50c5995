//! Bulk API 2.0 ingest jobs: their info as the API shows it (docs/salesforce-api.md §5.3),
//! states (§5.4) and result rows (§5.5).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;

use super::results::write_results;
use crate::schema::ObjectDef;

/// Job states (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobState {
    /// Accepting uploads.
    Open,
    /// Closed by the client, waiting to be processed.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Done; per-record failures still end here.
    JobComplete,
    /// The job as a whole could not be processed.
    Failed,
    /// Aborted by the client.
    Aborted,
}

impl JobState {
    /// Whether the job can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::UploadComplete => "UploadComplete",
            Self::InProgress => "InProgress",
            Self::JobComplete => "JobComplete",
            Self::Failed => "Failed",
            Self::Aborted => "Aborted",
        }
    }
}

/// Job info as `GET /jobs/ingest/{id}` returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// The job id (key prefix `750`).
    pub id: String,
    /// insert, update, upsert, delete, hardDelete.
    pub operation: String,
    /// Object API name.
    pub object: String,
    /// The creating user.
    pub created_by_id: String,
    /// Creation time.
    pub created_date: String,
    /// Last change.
    pub system_modstamp: String,
    /// State.
    pub state: JobState,
    /// Upsert match field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id_field_name: Option<String>,
    /// Always `Parallel`.
    pub concurrency_mode: &'static str,
    /// Always `CSV`.
    pub content_type: &'static str,
    /// A JSON number, e.g. `62.0` (§5.1).
    pub api_version: f64,
    /// Relative upload URL, only while Open (§5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    /// `LF` or `CRLF`.
    pub line_ending: String,
    /// `COMMA`, ...
    pub column_delimiter: String,
    /// Job-level failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Counters shown by job info (not by the create response).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCounters {
    /// Rows processed, failed ones included (§5.4).
    pub number_records_processed: u64,
    /// Rows failed.
    pub number_records_failed: u64,
    /// Always 0.
    pub retries: u64,
    /// Milliseconds spent.
    pub total_processing_time: u64,
    /// Milliseconds spent in the API.
    pub api_active_processing_time: u64,
    /// Milliseconds spent in Apex (none here).
    pub apex_processing_time: u64,
}

/// One ingest job.
#[derive(Debug, Clone)]
pub struct Job {
    /// What the API shows.
    pub info: JobInfo,
    /// Counters.
    pub counters: JobCounters,
    /// The object.
    pub object: Arc<ObjectDef>,
    /// Column delimiter character.
    pub delimiter: char,
    /// CRLF line endings.
    pub crlf: bool,
    /// Uploaded CSV (several uploads concatenated when allowed).
    pub data: String,
    /// Whether anything was uploaded.
    pub uploaded: bool,
    /// Header row of the upload (echoed in results).
    pub header: Vec<String>,
    /// `(sf__Id, sf__Created, cells)` of successful rows.
    pub successful: Vec<(String, bool, Vec<String>)>,
    /// `(sf__Id, sf__Error, cells)` of failed rows.
    pub failed: Vec<(String, String, Vec<String>)>,
    /// Rows never processed (failed or aborted jobs).
    pub unprocessed: Vec<Vec<String>>,
}

impl Job {
    /// The job as JSON; `with_counters` for job info (the create response has none).
    pub fn to_json(&self, with_counters: bool) -> Value {
        let mut value = serde_json::to_value(&self.info).unwrap_or(Value::Null);
        if with_counters {
            if let (Value::Object(map), Ok(Value::Object(counters))) =
                (&mut value, serde_json::to_value(&self.counters))
            {
                map.insert("jobType".into(), Value::String("V2Ingest".into()));
                map.extend(counters);
            }
        }
        value
    }

    /// A results file with `leading` columns before the uploaded ones (§5.5).
    fn csv<'a, R>(
        &'a self,
        leading: &[&str],
        rows: impl IntoIterator<Item = R>,
    ) -> Result<String, csv::Error>
    where
        R: IntoIterator<Item = &'a str>,
    {
        write_results(leading, &self.header, rows, self.delimiter, self.crlf)
    }

    /// `successfulResults`: `"sf__Id","sf__Created"` then the uploaded columns.
    pub fn successful_csv(&self) -> Result<String, csv::Error> {
        let rows = self.successful.iter().map(|(id, created, cells)| {
            let created = if *created { "true" } else { "false" };
            [id.as_str(), created]
                .into_iter()
                .chain(cells.iter().map(String::as_str))
        });
        self.csv(&["sf__Id", "sf__Created"], rows)
    }

    /// `failedResults`: `"sf__Id","sf__Error"` then the uploaded columns.
    pub fn failed_csv(&self) -> Result<String, csv::Error> {
        let rows = self.failed.iter().map(|(id, error, cells)| {
            [id.as_str(), error.as_str()]
                .into_iter()
                .chain(cells.iter().map(String::as_str))
        });
        self.csv(&["sf__Id", "sf__Error"], rows)
    }

    /// `unprocessedrecords`: the uploaded columns only.
    pub fn unprocessed_csv(&self) -> Result<String, csv::Error> {
        let rows = self
            .unprocessed
            .iter()
            .map(|cells| cells.iter().map(String::as_str));
        self.csv(&[], rows)
    }
}

/// All jobs, plus the daily batch allocation used (§5.7).
#[derive(Debug, Default)]
pub struct BulkJobs {
    /// Jobs by id.
    pub jobs: Mutex<HashMap<String, Job>>,
    batches_used: AtomicU64,
}

impl BulkJobs {
    /// Batches consumed since the last reset.
    pub fn batches_used(&self) -> u64 {
        self.batches_used.load(Ordering::Relaxed)
    }

    /// Takes `batches` from an allocation of `limit`; `false` (nothing taken) if they do
    /// not fit.
    pub fn take_batches(&self, batches: u64, limit: u64) -> bool {
        self.batches_used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (used + batches <= limit).then_some(used + batches)
            })
            .is_ok()
    }

    /// Forgets every job and the batch count.
    pub fn clear(&self) {
        self.jobs.lock().clear();
        self.batches_used.store(0, Ordering::Relaxed);
    }
}
