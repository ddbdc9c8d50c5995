//! Bulk API 2.0 jobs in flight, recorded so that a replica taking over a stopped replica's
//! entries resumes polling the job instead of uploading the rows a second time.
//!
//! - `{prefix}:bulkjob:<job id>`: the job's [`JobRecord`] (JSON), kept a week at most.
//! - `{prefix}:bulkjob-of:<event id>`: which job holds the event (fleet-wide, so that a
//!   batch's notes are one pipeline even when its events come from many partitions).

use std::collections::HashMap;

use crate::store::RedisConnection;

use crate::keys::KeySpace;

/// How long a job record is kept if nobody deletes it.
const JOB_RETENTION_SECS: u64 = 7 * 86_400;

/// A Bulk job in flight as recorded in Redis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobRecord {
    /// Salesforce job id.
    pub job_id: String,
    /// The sObject.
    pub sobject: String,
    /// The external id field.
    pub field: String,
    /// External id value → event ids whose writes made that row.
    pub rows: HashMap<String, Vec<String>>,
}

/// The job records and the events' `bulk_job` notes.
#[derive(Clone)]
pub struct BulkJobStore {
    conn: RedisConnection,
    keys: KeySpace,
}

impl BulkJobStore {
    /// Job records under `keys`.
    pub fn new(conn: RedisConnection, keys: KeySpace) -> Self {
        Self { conn, keys }
    }

    /// Records `record` and notes its job on each of its events, in one round trip.
    pub async fn save(&self, record: &JobRecord) -> redis::RedisResult<()> {
        let json = serde_json::to_string(record).map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::Client,
                "job record not serialisable",
                e.to_string(),
            ))
        })?;
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.keys.bulk_job(&record.job_id))
            .arg(json)
            .arg("EX")
            .arg(JOB_RETENTION_SECS)
            .ignore();
        for event_id in record.rows.values().flatten() {
            pipe.cmd("SET")
                .arg(self.keys.bulk_job_of(event_id))
                .arg(&record.job_id)
                .arg("EX")
                .arg(JOB_RETENTION_SECS)
                .ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async(&mut conn).await
    }

    /// The record of `job_id`, if this fleet started it and it has not ended.
    pub async fn load(&self, job_id: &str) -> redis::RedisResult<Option<JobRecord>> {
        let mut conn = self.conn.clone();
        let json: Option<String> = redis::cmd("GET")
            .arg(self.keys.bulk_job(job_id))
            .query_async(&mut conn)
            .await?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Deletes the record of a job that ended.
    pub async fn forget(&self, job_id: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.keys.bulk_job(job_id))
            .query_async(&mut conn)
            .await
    }

    /// The job each of `event_ids` was put into by an earlier attempt, if any.
    pub async fn started_jobs(
        &self,
        event_ids: &[&str],
    ) -> redis::RedisResult<HashMap<String, String>> {
        if event_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut pipe = redis::pipe();
        for id in event_ids {
            pipe.cmd("GET").arg(self.keys.bulk_job_of(id));
        }
        let mut conn = self.conn.clone();
        let jobs: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        Ok(event_ids
            .iter()
            .zip(jobs)
            .filter_map(|(id, job)| job.map(|job| ((*id).to_owned(), job)))
            .collect())
    }
}
