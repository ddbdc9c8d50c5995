//! Deleting the records an event's list no longer has (`delete_missing` in the mapping: the
//! tiers of a price beyond the ones Stripe now lists), after the batch's writes.
//!
//! Per event: one SOQL query finds the records of the parent whose key the event did not
//! write ([`crate::mapping::Deletion::soql`]); then the ids of the whole batch are deleted
//! with sObject Collections DELETE, 200 per call, `allOrNone` false
//! (docs/salesforce-api.md §4.3). Only events whose writes all succeeded delete anything,
//! so a failed event deletes nothing and its retry does it all again. A record that is
//! already gone (`ENTITY_IS_DELETED`) counts as deleted.

use salesforce_client::{FailureClass, RecordOutcome, SalesforceError, COLLECTION_LIMIT};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{outcome::BatchResults, writer::RecordWriter};
use crate::{mapping::MappedEvent, store::Failure};

impl RecordWriter {
    /// Finds and deletes the records `events` no longer list, recording failures in `results`.
    pub(super) async fn delete_missing(
        &self,
        events: &[&MappedEvent],
        results: &mut BatchResults,
        shutdown: &CancellationToken,
    ) {
        // (record id, event index) for every record to delete.
        let mut doomed: Vec<(String, usize)> = Vec::new();
        for (index, event) in events.iter().enumerate() {
            for deletion in &event.deletions {
                if results.has_failed(index) || !self.breaker.wait_until_closed(shutdown).await {
                    if !results.has_failed(index) {
                        results.not_attempted(index);
                    }
                    break;
                }
                match self.timed(self.client.query(&deletion.soql())).await {
                    Ok(records) => doomed.extend(
                        records
                            .iter()
                            .filter_map(|record| record.get("Id").and_then(Value::as_str))
                            .map(|id| (id.to_owned(), index)),
                    ),
                    Err(SalesforceError::Interrupted) => results.not_attempted(index),
                    Err(error) => results.failed(index, Failure::from(&error)),
                }
            }
        }
        for chunk in doomed.chunks(COLLECTION_LIMIT) {
            if !self.breaker.wait_until_closed(shutdown).await {
                chunk
                    .iter()
                    .for_each(|(_, event)| results.not_attempted(*event));
                continue;
            }
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            match self.timed(self.client.delete_collection(&ids)).await {
                Ok(outcomes) => {
                    for ((_, event), outcome) in chunk.iter().zip(&outcomes) {
                        if let Some(failure) = deletion_failure(outcome) {
                            results.failed(*event, failure);
                        }
                    }
                }
                Err(SalesforceError::Interrupted) => {
                    chunk
                        .iter()
                        .for_each(|(_, event)| results.not_attempted(*event));
                }
                Err(error) => {
                    let failure = Failure::from(&error);
                    chunk
                        .iter()
                        .for_each(|(_, event)| results.failed(*event, failure.clone()));
                }
            }
        }
    }
}

/// Why deleting one record failed, or `None` when it is gone (deleted now or before).
fn deletion_failure(outcome: &RecordOutcome) -> Option<Failure> {
    let error = outcome.errors.first()?;
    if error.code == "ENTITY_IS_DELETED" {
        return None;
    }
    Some(Failure::from_api_error(
        outcome.failure_class().unwrap_or(FailureClass::Permanent),
        error,
    ))
}

#[cfg(test)]
mod tests {
    use salesforce_client::ApiError;

    use super::*;

    fn outcome(code: Option<&str>) -> RecordOutcome {
        RecordOutcome {
            id: Some("a05000000000001AAA".into()),
            created: false,
            errors: code
                .map(|code| ApiError {
                    code: code.into(),
                    message: "x".into(),
                    fields: Vec::new(),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn a_record_already_gone_is_deleted_and_others_fail_by_class() {
        assert_eq!(deletion_failure(&outcome(None)), None);
        assert_eq!(deletion_failure(&outcome(Some("ENTITY_IS_DELETED"))), None);
        let locked = deletion_failure(&outcome(Some("UNABLE_TO_LOCK_ROW"))).unwrap();
        assert_eq!(locked.class, FailureClass::Retryable);
        let refused = deletion_failure(&outcome(Some("INSUFFICIENT_ACCESS_OR_READONLY"))).unwrap();
        assert_eq!(refused.class, FailureClass::Permanent);
    }
}
