//! The Bulk API 2.0 ingest endpoints (docs/salesforce-api.md §5.1–§5.5).

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::csv::delimiter_char;
use super::job::{Job, JobCounters, JobInfo, JobState};
use super::processor;
use crate::clock;
use crate::error::{json_response, ApiError};
use crate::gate::RequestContext;
use crate::ids;
use crate::state::AppState;

/// `/jobs/ingest/{job_id}`.
#[derive(Debug, Deserialize)]
pub struct JobPath {
    job_id: String,
}

/// Bulk errors use upper-cased exception names as codes (§5.1).
fn invalid_job(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALIDJOB", format!("InvalidJob : {}", message.into()))
}

fn invalid_state(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALIDJOBSTATE", message)
}

const OPERATIONS: [&str; 5] = ["insert", "update", "upsert", "delete", "hardDelete"];

/// `POST /jobs/ingest` → 200 with the job in state `Open` (status unverified, §5.1).
pub async fn create_job(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Value = crate::rest::body::parse_json(&body)?;
    let text = |key: &str| request.get(key).and_then(Value::as_str).map(str::to_string);
    let object_name = text("object").ok_or_else(|| invalid_job("Object is required"))?;
    let object = state
        .schema
        .object(&object_name)
        .cloned()
        .ok_or_else(|| invalid_job(format!("Unable to find object: {object_name}")))?;
    let operation = text("operation").unwrap_or_default();
    if !OPERATIONS.contains(&operation.as_str()) {
        return Err(invalid_job(format!("Invalid operation: {operation}")));
    }
    let external_id = if operation == "upsert" {
        let name = text("externalIdFieldName")
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                invalid_job(format!(
                    "External ID was blank for {}. An External ID must be specified for upsert.",
                    object.name
                ))
            })?;
        let field = object.field(&name).filter(|field| field.matchable).ok_or_else(|| {
            invalid_job(format!("Field name provided, {name} does not match an External ID, Salesforce Id, or indexed field for {}", object.name))
        })?;
        Some(field.name.clone())
    } else {
        None
    };
    if text("contentType").is_some_and(|content| content != "CSV") {
        return Err(invalid_job("contentType must be CSV"));
    }
    let line_ending = text("lineEnding").unwrap_or_else(|| "LF".into());
    if line_ending != "LF" && line_ending != "CRLF" {
        return Err(invalid_job(format!("Invalid lineEnding: {line_ending}")));
    }
    let column_delimiter = text("columnDelimiter").unwrap_or_else(|| "COMMA".into());
    let delimiter = delimiter_char(&column_delimiter)
        .ok_or_else(|| invalid_job(format!("Invalid columnDelimiter: {column_delimiter}")))?;
    let id = state.ids.next(ids::BULK_JOB_PREFIX);
    let now = clock::format_datetime(clock::now_ms());
    let crlf = line_ending == "CRLF";
    let job = Job {
        info: JobInfo {
            id: id.clone(),
            operation,
            object: object.name.clone(),
            created_by_id: ctx.user_id.clone(),
            created_date: now.clone(),
            system_modstamp: now,
            state: JobState::Open,
            external_id_field_name: external_id,
            concurrency_mode: "Parallel",
            content_type: "CSV",
            api_version: f64::from(ctx.api_version),
            content_url: Some(format!(
                "services/data/v{}.0/jobs/ingest/{id}/batches",
                ctx.api_version
            )),
            line_ending,
            column_delimiter,
            error_message: None,
        },
        counters: JobCounters::default(),
        object,
        delimiter,
        crlf,
        data: String::new(),
        uploaded: false,
        header: Vec::new(),
        successful: Vec::new(),
        failed: Vec::new(),
        unprocessed: Vec::new(),
    };
    let body = job.to_json(false);
    state.bulk_jobs.jobs.lock().insert(id, job);
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /jobs/ingest`: every job on one page.
pub async fn list_jobs(State(state): State<AppState>) -> Response {
    let jobs = state.bulk_jobs.jobs.lock();
    let mut records: Vec<&Job> = jobs.values().collect();
    records.sort_by(|a, b| a.info.created_date.cmp(&b.info.created_date));
    let records: Vec<Value> = records.iter().map(|job| job.to_json(true)).collect();
    json_response(
        StatusCode::OK,
        &json!({"done": true, "records": records, "nextRecordsUrl": null}),
    )
}

/// `GET /jobs/ingest/{id}`.
pub async fn job_info(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
) -> Result<Response, ApiError> {
    let jobs = state.bulk_jobs.jobs.lock();
    let job = jobs.get(&path.job_id).ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, &job.to_json(true)))
}

/// `PUT /jobs/ingest/{id}/batches` with `text/csv` → 201, no body (§5.2).
pub async fn upload(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("Content-Type {content_type} is not supported; use text/csv"),
        ));
    }
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError::bad_request("INVALIDBATCH", "InvalidBatch : the data is not valid UTF-8")
    })?;
    let mut jobs = state.bulk_jobs.jobs.lock();
    let job = jobs.get_mut(&path.job_id).ok_or_else(ApiError::not_found)?;
    if job.info.state != JobState::Open {
        return Err(invalid_state(format!(
            "Job {} is not Open (state {})",
            job.info.id,
            job.info.state.name()
        )));
    }
    if job.uploaded && !state.config.bulk.allow_multiple_uploads {
        return Err(invalid_state(
            "Data was already uploaded for this job; create a new job for more data",
        ));
    }
    if job.data.len() + text.len() > state.config.bulk.max_upload_bytes {
        // The limit is documented (§5.2); the error code and text are a guess.
        return Err(ApiError::bad_request(
            "EXCEEDEDQUOTA",
            format!(
                "ExceededQuota : a job's data may not exceed {} bytes",
                state.config.bulk.max_upload_bytes
            ),
        ));
    }
    if job.uploaded {
        let (first_line, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let existing_header = job.data.split('\n').next().unwrap_or("");
        if first_line.trim_end_matches('\r') != existing_header.trim_end_matches('\r') {
            return Err(ApiError::bad_request(
                "INVALIDBATCH",
                "InvalidBatch : the header row differs from the first upload",
            ));
        }
        if !job.data.ends_with('\n') {
            job.data.push_str(if job.crlf { "\r\n" } else { "\n" });
        }
        job.data.push_str(rest);
    } else {
        // The header is known from the upload on, so early result files show it (§5.5).
        let first_line = text.split('\n').next().unwrap_or("").trim_end_matches('\r');
        job.header = super::csv::parse(first_line, job.delimiter, false)
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .map(|row| row.cells)
            .unwrap_or_default();
        job.data = text;
        job.uploaded = true;
    }
    Ok(StatusCode::CREATED.into_response())
}

/// `PATCH /jobs/ingest/{id}` with `{"state":"UploadComplete"}` or `{"state":"Aborted"}`.
pub async fn set_state(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Value = crate::rest::body::parse_json(&body)?;
    let wanted = request.get("state").and_then(Value::as_str).unwrap_or("");
    let body = {
        let mut jobs = state.bulk_jobs.jobs.lock();
        let job = jobs.get_mut(&path.job_id).ok_or_else(ApiError::not_found)?;
        let current = job.info.state;
        match wanted {
            "UploadComplete" if current == JobState::Open => {
                job.info.state = JobState::UploadComplete;
                job.info.content_url = None;
            }
            "UploadComplete" => {
                return Err(invalid_state(format!(
                    "Closing a job in state {} is not allowed",
                    current.name()
                )))
            }
            "Aborted" if current.is_terminal() => {
                return Err(invalid_state(format!(
                    "Aborting already {} Job not allowed",
                    current.name()
                )));
            }
            "Aborted" => {
                job.info.state = JobState::Aborted;
                job.info.content_url = None;
            }
            other => return Err(invalid_state(format!("Invalid state requested: {other}"))),
        }
        job.info.system_modstamp = clock::format_datetime(clock::now_ms());
        job.to_json(false)
    };
    if wanted == "UploadComplete" {
        processor::spawn(state.clone(), path.job_id.clone());
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// `DELETE /jobs/ingest/{id}` → 204; only closed or finished jobs (§5.3).
pub async fn delete_job(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
) -> Result<Response, ApiError> {
    let mut jobs = state.bulk_jobs.jobs.lock();
    let job = jobs.get(&path.job_id).ok_or_else(ApiError::not_found)?;
    if matches!(job.info.state, JobState::Open | JobState::InProgress) {
        return Err(ApiError::bad_request(
            "API_ERROR",
            "Error encountered when deleting the job because the job is not terminated",
        ));
    }
    jobs.remove(&path.job_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn csv_response(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=UTF-8"),
    );
    response
}

fn results(
    state: &AppState,
    job_id: &str,
    render: fn(&Job) -> Result<String, csv::Error>,
) -> Result<Response, ApiError> {
    let jobs = state.bulk_jobs.jobs.lock();
    let job = jobs.get(job_id).ok_or_else(ApiError::not_found)?;
    // Before completion: what is done so far (header-only at first), a choice (§5.5).
    let body = render(job).map_err(|error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            format!("the results file could not be written: {error}"),
        )
    })?;
    Ok(csv_response(body))
}

/// `GET /jobs/ingest/{id}/successfulResults`.
pub async fn successful_results(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
) -> Result<Response, ApiError> {
    results(&state, &path.job_id, Job::successful_csv)
}

/// `GET /jobs/ingest/{id}/failedResults`.
pub async fn failed_results(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
) -> Result<Response, ApiError> {
    results(&state, &path.job_id, Job::failed_csv)
}

/// `GET /jobs/ingest/{id}/unprocessedrecords` (also `unprocessedRecords`, §5.5).
pub async fn unprocessed_records(
    State(state): State<AppState>,
    Path(path): Path<JobPath>,
) -> Result<Response, ApiError> {
    results(&state, &path.job_id, Job::unprocessed_csv)
}
