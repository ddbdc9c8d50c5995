//! Writing a large batch through Bulk API 2.0 ingest jobs: one upsert job per sObject and
//! external id field (parents first), CSV built from the mapped records, and the job's
//! result files mapped back to the events that wrote each row.
//!
//! Before uploading, each job is recorded in Redis (`{prefix}:bulkjob:<job id>`: the
//! sObject, the external id field, and which event wrote which external id), and every
//! event's lifecycle gets `bulk_job`. A replica that takes over the entries of a replica
//! that died while polling finds the job there and resumes polling it instead of uploading
//! the rows a second time.

use std::collections::HashMap;

use salesforce_client::{
    bulk::{bulk_row_error, JobInfo, JobState, PollSchedule, ResultFile},
    csv,
    error::classify,
    ApiError, FailureClass, SalesforceClient, SalesforceError,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::{
    consumer::{
        lookups::{self, FoundParents},
        BatchResults, WriteResult,
    },
    mapping::{Fence, MappedEvent, RecordTarget, RecordWrite, WriteRole},
    store::{BulkJobStore, Failure, JobRecord, RecordKey},
    telemetry,
};

/// Runs Bulk jobs and keeps their records in Redis.
#[derive(Clone)]
pub struct BulkWriter {
    client: SalesforceClient,
    jobs: BulkJobStore,
    poll: PollSchedule,
    fence: Option<Fence>,
}

impl BulkWriter {
    /// A writer that polls jobs on `poll`; rows refused by `fence` are superseded writes.
    pub fn new(
        client: SalesforceClient,
        jobs: BulkJobStore,
        poll: PollSchedule,
        fence: Option<Fence>,
    ) -> Self {
        Self {
            client,
            jobs,
            poll,
            fence,
        }
    }

    /// Writes `events` (event id, mapped event) with one job per group, parents first.
    /// Returns one result per event, in order. Only writes by external id can be rows of a
    /// job: events with other writes or with deletions go through Collections instead (see
    /// `needs_collections` in the bulk module). Lookups set only where the parent exists are
    /// resolved first, with the same queries as the Collections writer.
    /// Shutdown interrupts a job's polling; its events are then left pending, and the job
    /// record lets the replica that takes them over resume the job.
    pub async fn apply(
        &self,
        events: &[(&str, &MappedEvent)],
        shutdown: &CancellationToken,
    ) -> Vec<WriteResult> {
        let mut results = BatchResults::new(events.len(), self.fence.as_ref());
        let mapped: Vec<&MappedEvent> = events.iter().map(|(_, event)| *event).collect();
        let found = lookups::resolve(&mapped, &mut results, |soqls| async move {
            if shutdown.is_cancelled() {
                return soqls
                    .iter()
                    .map(|_| Err(SalesforceError::Interrupted))
                    .collect();
            }
            self.client.query_many(&soqls).await
        })
        .await;
        let index: HashMap<&str, usize> = events
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        for role in [WriteRole::ParentStub, WriteRole::Main] {
            for (group, rows) in group_rows(events, role, &found) {
                let live: Vec<&Row<'_>> = rows
                    .iter()
                    .filter(|r| !r.events.iter().any(|e| results.has_failed(index[e])))
                    .collect();
                if live.is_empty() {
                    continue;
                }
                let outcome = self.run_job(&group.0, &group.1, &live, shutdown).await;
                settle_rows(
                    &mut results,
                    &index,
                    (&group.0, &group.1),
                    &live,
                    outcome,
                    role,
                );
            }
        }
        results.into_results()
    }

    /// Resumes a job another replica started: polls it to the end and reads its results.
    /// Returns per event id the result, or None if the job is unknown here.
    pub async fn resume(
        &self,
        job_id: &str,
        shutdown: &CancellationToken,
    ) -> Option<HashMap<String, WriteResult>> {
        let record = self.load(job_id).await?;
        tracing::info!(job_id, sobject = %record.sobject, "Resuming a Bulk job left by a stopped replica.");
        let outcome = self.finish_job(job_id, &record.field, shutdown).await;
        let mut by_event = HashMap::new();
        let rows: Vec<Row<'_>> = record
            .rows
            .iter()
            .map(|(value, events)| Row {
                external_id: value.clone(),
                fields: Map::new(),
                events: events.iter().map(String::as_str).collect(),
            })
            .collect();
        let row_refs: Vec<&Row<'_>> = rows.iter().collect();
        let ids: Vec<&str> = record.rows.values().flatten().map(String::as_str).collect();
        let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut results = BatchResults::new(ids.len(), self.fence.as_ref());
        let group = (record.sobject.as_str(), record.field.as_str());
        settle_rows(
            &mut results,
            &index,
            group,
            &row_refs,
            outcome,
            WriteRole::Main,
        );
        for (id, result) in ids.iter().zip(results.into_results()) {
            by_event.insert((*id).to_owned(), result);
        }
        Some(by_event)
    }

    async fn run_job(
        &self,
        sobject: &str,
        field: &str,
        rows: &[&Row<'_>],
        shutdown: &CancellationToken,
    ) -> Result<RowOutcomes, SalesforceError> {
        let records: Vec<Map<String, Value>> = rows.iter().map(|r| r.fields.clone()).collect();
        let csv =
            csv::write_records(&records).map_err(|e| SalesforceError::Unexpected(e.to_string()))?;
        let job = self.client.create_upsert_job(sobject, field).await?;
        let record = JobRecord {
            job_id: job.id.clone(),
            sobject: sobject.to_owned(),
            field: field.to_owned(),
            rows: rows
                .iter()
                .map(|r| {
                    (
                        r.external_id.clone(),
                        r.events.iter().map(|e| (*e).to_owned()).collect(),
                    )
                })
                .collect(),
        };
        self.save(&record).await;
        tracing::info!(job_id = %job.id, sobject, rows = rows.len(), "Bulk job created.");
        metrics::counter!(telemetry::BULK_JOBS).increment(1);
        if let Err(error) = self.client.upload_job_data(&job.id, csv).await {
            self.abort_quietly(&job.id).await;
            return Err(error);
        }
        self.client.close_job(&job.id).await?;
        self.finish_job(&job.id, field, shutdown).await
    }

    /// Polls the job to its end and reads the result files.
    async fn finish_job(
        &self,
        job_id: &str,
        field: &str,
        shutdown: &CancellationToken,
    ) -> Result<RowOutcomes, SalesforceError> {
        let info: JobInfo = tokio::select! {
            _ = shutdown.cancelled() => {
                tracing::info!(job_id, "Stopping while a Bulk job runs; its events stay pending for another replica.");
                return Err(SalesforceError::Interrupted);
            }
            info = self.client.wait_for_job(job_id, self.poll) => info?,
        };
        let mut outcomes = RowOutcomes::default();
        if info.state == JobState::Aborted {
            outcomes.job_failed = Some("job aborted".into());
            self.forget(job_id).await;
            return Ok(outcomes);
        }
        for row in self
            .client
            .job_results(job_id, ResultFile::Successful)
            .await?
        {
            if let Some(value) = row_external_id(&row, field) {
                outcomes.ok.insert(
                    value,
                    row.get("sf__Id").cloned().filter(|id| !id.is_empty()),
                );
            }
        }
        if info.number_records_failed > 0 {
            for row in self.client.job_results(job_id, ResultFile::Failed).await? {
                if let Some(value) = row_external_id(&row, field) {
                    let error = bulk_row_error(
                        row.get("sf__Error").map(String::as_str).unwrap_or_default(),
                    );
                    outcomes.failed.insert(value, error);
                }
            }
        }
        if info.state == JobState::Failed {
            outcomes.job_failed = Some(info.error_message.unwrap_or_else(|| "job failed".into()));
        }
        self.forget(job_id).await;
        Ok(outcomes)
    }

    /// The job each of `event_ids` was put into by an earlier attempt, if any.
    pub async fn started_jobs(
        &self,
        event_ids: &[&str],
    ) -> redis::RedisResult<HashMap<String, String>> {
        self.jobs.started_jobs(event_ids).await
    }

    async fn save(&self, record: &JobRecord) {
        if let Err(error) = self.jobs.save(record).await {
            tracing::warn!(%error, job_id = %record.job_id, "Could not record the Bulk job; a takeover would upload again.");
        }
    }

    async fn load(&self, job_id: &str) -> Option<JobRecord> {
        self.jobs.load(job_id).await.ok().flatten()
    }

    async fn forget(&self, job_id: &str) {
        if let Err(error) = self.jobs.forget(job_id).await {
            tracing::debug!(%error, job_id, "Could not delete the Bulk job record; it expires.");
        }
    }

    async fn abort_quietly(&self, job_id: &str) {
        if let Err(error) = self.client.abort_job(job_id).await {
            tracing::warn!(%error, job_id, "Could not abort a Bulk job after a failed upload.");
        }
    }
}

/// What a job said about its rows, by external id.
#[derive(Debug, Default)]
struct RowOutcomes {
    ok: HashMap<String, Option<String>>,
    failed: HashMap<String, ApiError>,
    job_failed: Option<String>,
}

/// One CSV row: a record and the events that wrote it.
struct Row<'a> {
    external_id: String,
    fields: Map<String, Value>,
    events: Vec<&'a str>,
}

/// Groups the writes of `role` into rows per (sObject, external id field), merging writes
/// to the same record: later events' fields override earlier ones (events are in order).
/// Pending lookups whose parent was `found` become fields.
fn group_rows<'a>(
    events: &[(&'a str, &MappedEvent)],
    role: WriteRole,
    found: &FoundParents,
) -> Vec<((String, String), Vec<Row<'a>>)> {
    let mut groups: Vec<((String, String), Vec<Row<'a>>)> = Vec::new();
    for (event_id, mapped) in events {
        for write in mapped.writes.iter().filter(|w| w.role == role) {
            let Some((field, value)) = external_id(write) else {
                continue;
            };
            let key = (write.sobject.clone(), field.to_owned());
            let position = match groups.iter().position(|(k, _)| *k == key) {
                Some(position) => position,
                None => {
                    groups.push((key, Vec::new()));
                    groups.len() - 1
                }
            };
            let rows = &mut groups[position].1;
            let fields = found.fields_of(write).into_owned();
            match rows.iter_mut().find(|r| r.external_id == value) {
                Some(row) => {
                    row.fields.extend(fields);
                    if !row.events.contains(event_id) {
                        row.events.push(event_id);
                    }
                }
                None => rows.push(Row {
                    external_id: value.to_owned(),
                    fields,
                    events: vec![event_id],
                }),
            }
        }
    }
    groups
}

fn external_id(write: &RecordWrite) -> Option<(&str, &str)> {
    match &write.target {
        RecordTarget::ExternalId { field, value } => Some((field, value)),
        _ => None,
    }
}

/// The external id of a result row: the uploaded column named after the job's field
/// (Salesforce echoes uploaded columns; header matching is case-insensitive, so is this).
fn row_external_id(row: &HashMap<String, String>, field: &str) -> Option<String> {
    row.iter()
        .find(|(column, _)| column.eq_ignore_ascii_case(field))
        .map(|(_, value)| value.clone())
}

fn settle_rows(
    results: &mut BatchResults,
    index: &HashMap<&str, usize>,
    (sobject, field): (&str, &str),
    rows: &[&Row<'_>],
    outcome: Result<RowOutcomes, SalesforceError>,
    role: WriteRole,
) {
    for row in rows {
        for event_id in &row.events {
            let Some(&event) = index.get(event_id) else {
                continue;
            };
            match &outcome {
                Err(SalesforceError::Interrupted) => results.not_attempted(event),
                Err(error) => results.failed(
                    event,
                    Failure::new(
                        error.class(),
                        error.code().unwrap_or("BULK_JOB"),
                        error.to_string(),
                    ),
                ),
                Ok(outcomes) => {
                    if let Some(id) = outcomes.ok.get(&row.external_id) {
                        results.succeeded(event, role, id.clone());
                    } else if let Some(error) = outcomes.failed.get(&row.external_id) {
                        let class = classify(0, &error.code, &error.message);
                        let record = RecordKey::external(sobject, field, &row.external_id);
                        results.refused_record(event, record, class, error);
                    } else {
                        let reason = outcomes
                            .job_failed
                            .clone()
                            .unwrap_or_else(|| "row not processed".into());
                        results.failed(
                            event,
                            Failure::new(FailureClass::Retryable, "UNPROCESSED", reason),
                        );
                    }
                }
            }
        }
    }
}
