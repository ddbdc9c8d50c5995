//! Processing a closed ingest job in the background: `UploadComplete` → (queue delay) →
//! `InProgress` → (processing time + injected slowness) → rows applied in 200-row
//! transactions → `JobComplete`, or `Failed` when the job as a whole cannot be processed
//! (bad header, line endings, batch allocation, injected failure; docs/salesforce-api.md §5.4).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::csv::{self, CsvRow};
use super::job::{Job, JobState};
use crate::clock;
use crate::dml::{apply_batch, OpError, ParentRef, RecordInput, WriteContext, WriteOp};
use crate::error::RecordError;
use crate::schema::ObjectDef;
use crate::state::AppState;
use crate::values;

/// Records per internal batch for the daily batch allocation (§5.7).
const RECORDS_PER_BATCH: usize = 10_000;

/// Starts processing `job_id` on the simulator's task tracker.
pub fn spawn(state: AppState, job_id: String) {
    let tracker = state.tasks.clone();
    tracker.spawn(async move { process(state, job_id).await });
}

/// Sleeps unless the simulator shuts down first; `false` on shutdown.
async fn pause(state: &AppState, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = state.shutdown.cancelled() => false,
    }
}

/// Applies `change` if the job still exists and is in `expected`; returns whether it did.
fn transition(
    state: &AppState,
    job_id: &str,
    expected: JobState,
    change: impl FnOnce(&mut Job),
) -> bool {
    let mut jobs = state.bulk_jobs.jobs.lock();
    match jobs.get_mut(job_id) {
        Some(job) if job.info.state == expected => {
            change(job);
            job.info.system_modstamp = clock::format_datetime(clock::now_ms());
            true
        }
        _ => false,
    }
}

async fn process(state: AppState, job_id: String) {
    if !pause(&state, state.config.bulk.queue_delay).await {
        return;
    }
    if !transition(&state, &job_id, JobState::UploadComplete, |job| {
        job.info.state = JobState::InProgress
    }) {
        return;
    }
    let started = Instant::now();
    if !pause(
        &state,
        state.config.bulk.processing_time + state.faults.bulk_extra_delay(),
    )
    .await
    {
        return;
    }
    let Some((object, operation, external_id, data, delimiter, crlf)) = ({
        let jobs = state.bulk_jobs.jobs.lock();
        jobs.get(&job_id).map(|job| {
            (
                job.object.clone(),
                job.info.operation.clone(),
                job.info.external_id_field_name.clone(),
                job.data.clone(),
                job.delimiter,
                job.crlf,
            )
        })
    }) else {
        return;
    };
    let rows = match csv::parse(&data, delimiter, crlf) {
        Ok(rows) => rows,
        Err(error) => return fail(&state, &job_id, error.0, Vec::new()),
    };
    let mut rows = rows.into_iter();
    let header = rows.next().map(|row| row.cells).unwrap_or_default();
    let rows: Vec<CsvRow> = rows.collect();
    set_header(&state, &job_id, &header);
    if data.is_empty() {
        return fail(
            &state,
            &job_id,
            "InvalidBatch : no data was uploaded for this job".into(),
            Vec::new(),
        );
    }
    let columns = match columns(&object, &header, &operation) {
        Ok(columns) => columns,
        Err(message) => return fail(&state, &job_id, message, unprocessed(&rows)),
    };
    if state.faults.bulk_job_fails() {
        return fail(
            &state,
            &job_id,
            "InternalServerError : the job could not be processed (injected fault)".into(),
            unprocessed(&rows),
        );
    }
    let batches = rows.len().div_ceil(RECORDS_PER_BATCH).max(1) as u64;
    if !state
        .bulk_jobs
        .take_batches(batches, state.config.bulk.daily_batch_limit)
    {
        return fail(
            &state,
            &job_id,
            "ExceededQuota : the daily Bulk API batch allocation is exhausted".into(),
            unprocessed(&rows),
        );
    }
    let context = JobContext {
        object: &object,
        operation: &operation,
        external_id: external_id.as_deref(),
        columns: &columns,
    };
    for (index, chunk) in rows.chunks(state.config.bulk.chunk_size.max(1)).enumerate() {
        let aborted = {
            let jobs = state.bulk_jobs.jobs.lock();
            jobs.get(&job_id)
                .is_none_or(|job| job.info.state != JobState::InProgress)
        };
        if aborted {
            let remaining = &rows[index * state.config.bulk.chunk_size.max(1)..];
            let mut jobs = state.bulk_jobs.jobs.lock();
            if let Some(job) = jobs.get_mut(&job_id) {
                job.unprocessed.extend(unprocessed(remaining));
            }
            return;
        }
        apply_chunk(&state, &job_id, &context, chunk);
        tokio::task::yield_now().await;
    }
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    transition(&state, &job_id, JobState::InProgress, |job| {
        job.info.state = JobState::JobComplete;
        job.counters.total_processing_time = elapsed;
        job.counters.api_active_processing_time = elapsed;
    });
}

fn set_header(state: &AppState, job_id: &str, header: &[String]) {
    if let Some(job) = state.bulk_jobs.jobs.lock().get_mut(job_id) {
        job.header = header.to_vec();
    }
}

fn unprocessed(rows: &[CsvRow]) -> Vec<Vec<String>> {
    rows.iter().map(|row| row.cells.clone()).collect()
}

fn fail(state: &AppState, job_id: &str, message: String, rows: Vec<Vec<String>>) {
    transition(state, job_id, JobState::InProgress, |job| {
        job.info.state = JobState::Failed;
        job.info.error_message = Some(message);
        job.unprocessed = rows;
    });
}

/// What a CSV column sets.
enum Column {
    /// A field of the object.
    Field(String),
    /// `Relationship__r.ExternalField__c`: lookup field, parent object, parent field.
    Parent(String, String, String),
}

/// Maps the header row to fields; an unknown column fails the job (§5.4 wording).
fn columns(object: &ObjectDef, header: &[String], operation: &str) -> Result<Vec<Column>, String> {
    if header.iter().map(String::len).sum::<usize>() > 32_000 {
        return Err("InvalidBatch : the header row is longer than 32,000 characters".into());
    }
    let not_found = |name: &str| format!("InvalidBatch : Field name not found : {name}");
    if matches!(operation, "delete" | "hardDelete")
        && !(header.len() == 1 && header[0].eq_ignore_ascii_case("Id"))
    {
        return Err("InvalidBatch : a delete job's data may contain only the Id column".into());
    }
    header
        .iter()
        .map(|name| match name.split_once('.') {
            None => object
                .field(name)
                .map(|field| Column::Field(field.name.clone()))
                .ok_or_else(|| not_found(name)),
            Some((relationship, field_name)) => {
                let lookup = object
                    .relationship(relationship)
                    .ok_or_else(|| not_found(name))?;
                Ok(Column::Parent(
                    lookup.name.clone(),
                    lookup.reference_to.clone().unwrap_or_default(),
                    field_name.to_string(),
                ))
            }
        })
        .collect()
}

struct JobContext<'a> {
    object: &'a std::sync::Arc<ObjectDef>,
    operation: &'a str,
    external_id: Option<&'a str>,
    columns: &'a [Column],
}

/// Turns one CSV row into a write: empty cells leave fields unchanged, `#N/A` nulls them.
fn row_op(context: &JobContext<'_>, row: &CsvRow) -> WriteOp {
    if let Some(error) = &row.error {
        return WriteOp::Rejected(RecordError::new(
            "INVALID_FIELD",
            format!("Unable to parse the row: {error}"),
            Vec::new(),
        ));
    }
    if row.cells.len() != context.columns.len() {
        return WriteOp::Rejected(RecordError::new(
            "INVALID_FIELD",
            format!(
                "The row has {} values but the header has {} columns",
                row.cells.len(),
                context.columns.len()
            ),
            Vec::new(),
        ));
    }
    let mut input = RecordInput::default();
    let mut id = String::new();
    let mut key = String::new();
    for (column, cell) in context.columns.iter().zip(&row.cells) {
        match column {
            Column::Field(name) if name == "Id" => id = cell.clone(),
            Column::Field(name) => {
                if Some(name.as_str()) == context.external_id {
                    key = cell.clone();
                }
                if cell.is_empty() {
                    continue;
                }
                let Some(field) = context.object.field(name) else {
                    continue;
                };
                match values::from_csv(field, cell) {
                    Ok(value) => input.values.push((field.name.clone(), value)),
                    Err(error) => {
                        input.deferred_error.get_or_insert(error);
                    }
                }
            }
            Column::Parent(lookup, parent_object, key_field) if !cell.is_empty() => {
                if cell == "#N/A" {
                    input.values.push((lookup.clone(), Value::Null));
                } else {
                    input.parent_refs.push(ParentRef {
                        lookup_field: lookup.clone(),
                        parent_object: parent_object.clone(),
                        key_field: key_field.clone(),
                        key: cell.clone(),
                    });
                }
            }
            Column::Parent(..) => {}
        }
    }
    let object = context.object.clone();
    match context.operation {
        "insert" => WriteOp::Insert { object, input },
        "update" if id.is_empty() => WriteOp::Rejected(RecordError::new(
            "MISSING_ARGUMENT",
            "Id not specified in an update call",
            Vec::new(),
        )),
        "update" => WriteOp::Update { object, id, input },
        "upsert" => {
            let key_field = context.external_id.unwrap_or("Id").to_string();
            let key = if key_field == "Id" { id } else { key };
            WriteOp::Upsert {
                object,
                key_field,
                key,
                input,
            }
        }
        _ => WriteOp::Delete { object, id },
    }
}

fn apply_chunk(state: &AppState, job_id: &str, context: &JobContext<'_>, chunk: &[CsvRow]) {
    let ops: Vec<WriteOp> = chunk.iter().map(|row| row_op(context, row)).collect();
    // The job's creator commits its rows, as in Salesforce.
    let created_by = state
        .bulk_jobs
        .jobs
        .lock()
        .get(job_id)
        .map(|job| job.info.created_by_id.clone())
        .unwrap_or_else(|| state.user_id.clone());
    let write_context = WriteContext {
        schema: &state.schema,
        ids: &state.ids,
        request_id: job_id,
        api: "bulk.job",
        lock_row_rate: state.faults.lock_row_rate(),
        events: &state.events,
        user_id: &created_by,
        enclosing: None,
    };
    let results = apply_batch(&mut state.db.lock(), &write_context, ops, false);
    let mut jobs = state.bulk_jobs.jobs.lock();
    let Some(job) = jobs.get_mut(job_id) else {
        return;
    };
    for (row, result) in chunk.iter().zip(results) {
        job.counters.number_records_processed += 1;
        let id = result.id.clone().unwrap_or_default();
        match result.outcome {
            Ok(()) => job.successful.push((id, result.created, row.cells.clone())),
            Err(error) => {
                job.counters.number_records_failed += 1;
                let error = match error {
                    OpError::Record(error) => error,
                    OpError::MultipleMatches(ids) => RecordError::new(
                        "DUPLICATE_EXTERNAL_ID",
                        format!(
                            "more than one record found for external id field: [{}]",
                            ids.join(", ")
                        ),
                        Vec::new(),
                    ),
                };
                job.failed.push((id, error.bulk_text(), row.cells.clone()));
            }
        }
    }
}
