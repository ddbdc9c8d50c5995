//! Writes that cannot go in a Collections upsert, one event's write at a time: by Salesforce
//! record id, by a query for one record (with its fallback), and by a query for every
//! matching record (`query_all`: the plans of a renamed product), whose matches are updated
//! through Collections update, 200 per call.

use salesforce_client::{soql, FailureClass, COLLECTION_LIMIT};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    outcome::WriteError,
    writer::{failure_of, RecordWriter},
};
use crate::{
    mapping::{RecordTarget, RecordWrite},
    store::Failure,
};

impl RecordWriter {
    /// Writes `fields` of `write` to `target` (by id or by query, with its fallback). The
    /// error is `None` when shutdown interrupted the write.
    pub(super) async fn write_one(
        &self,
        write: &RecordWrite,
        target: &RecordTarget,
        fields: &Map<String, Value>,
        shutdown: &CancellationToken,
    ) -> Result<Option<String>, Option<WriteError>> {
        match target {
            RecordTarget::ExternalId { field, value } => {
                let outcome = self
                    .timed(self.client.upsert(&write.sobject, field, value, fields))
                    .await
                    .map_err(failure_of)?;
                match outcome.errors.first() {
                    None => Ok(outcome.id),
                    Some(error) => Err(Some(WriteError::Refused {
                        class: outcome.failure_class().unwrap_or(FailureClass::Permanent),
                        error: error.clone(),
                    })),
                }
            }
            RecordTarget::SalesforceId(id) => {
                self.timed(self.client.update(&write.sobject, id, fields))
                    .await
                    .map_err(failure_of)?;
                Ok(Some(id.clone()))
            }
            RecordTarget::Query {
                field,
                value,
                fallback,
            } => {
                let query = format!(
                    "SELECT Id FROM {} WHERE {field} = {} LIMIT 2",
                    write.sobject,
                    soql::quote(value)
                );
                let found = self
                    .timed(self.client.query(&query))
                    .await
                    .map_err(failure_of)?;
                match (found.as_slice(), fallback) {
                    ([record], _) => {
                        let id = record
                            .get("Id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        let target = RecordTarget::SalesforceId(id);
                        Box::pin(self.write_one(write, &target, fields, shutdown)).await
                    }
                    ([], Some(fallback)) => {
                        Box::pin(self.write_one(write, fallback, fields, shutdown)).await
                    }
                    ([], None) => Err(Some(WriteError::Failed(Failure::new(
                        FailureClass::Permanent,
                        "NO_MATCHING_RECORD",
                        format!("no {} with {field} = {value}", write.sobject),
                    )))),
                    (_, _) => Err(Some(WriteError::Failed(Failure::new(
                        FailureClass::Permanent,
                        "MULTIPLE_MATCHES",
                        format!("several {} records with {field} = {value}", write.sobject),
                    )))),
                }
            }
            RecordTarget::QueryAll { field, value } => {
                self.update_all(write, field, value, fields, shutdown).await
            }
        }
    }

    /// Updates every record of `write.sobject` whose `field` is `value` with `fields`; none
    /// found is nothing to do. The first record that fails fails the write.
    async fn update_all(
        &self,
        write: &RecordWrite,
        field: &str,
        value: &str,
        fields: &Map<String, Value>,
        shutdown: &CancellationToken,
    ) -> Result<Option<String>, Option<WriteError>> {
        let query = format!(
            "SELECT Id FROM {} WHERE {field} = {}",
            write.sobject,
            soql::quote(value)
        );
        let found = self
            .timed(self.client.query(&query))
            .await
            .map_err(failure_of)?;
        let ids: Vec<String> = found
            .iter()
            .filter_map(|record| record.get("Id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        for chunk in ids.chunks(COLLECTION_LIMIT) {
            if !self.breaker.wait_until_closed(shutdown).await {
                return Err(None);
            }
            let records: Vec<(String, Map<String, Value>)> = chunk
                .iter()
                .map(|id| (id.clone(), fields.clone()))
                .collect();
            let outcomes = self
                .timed(self.client.update_collection(&write.sobject, &records))
                .await
                .map_err(failure_of)?;
            let refused = outcomes
                .iter()
                .find_map(|outcome| Some((outcome, outcome.errors.first()?)));
            if let Some((outcome, error)) = refused {
                return Err(Some(WriteError::Refused {
                    class: outcome.failure_class().unwrap_or(FailureClass::Permanent),
                    error: error.clone(),
                }));
            }
        }
        Ok(None)
    }
}
