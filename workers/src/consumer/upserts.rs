//! Sending a batch's Collections upserts: the calls [`super::calls`] plans, each one
//! Composite request of up to five Collections subrequests (`allOrNone` false,
//! `collateSubrequests` false: every record on its own, the upserts in order), or a plain
//! Collections call when a call carries a single upsert. Every record's result is mapped
//! back to its event exactly as for a standalone Collections call.

use salesforce_client::{
    CompositeRequest, FailureClass, RecordOutcome, SalesforceError, Subrequest,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    calls::{calls, Upsert},
    lookups::FoundParents,
    outcome::BatchResults,
    plan::Pending,
    writer::{is_missing_parent, RecordWriter, PARENT_MISSING},
};
use crate::store::Failure;

impl RecordWriter {
    /// Sends `upserts` in order, in as few calls as the Composite limits allow, and records
    /// each write's result.
    pub(super) async fn send_upserts(
        &self,
        upserts: Vec<Upsert<'_, '_, '_>>,
        found: &FoundParents,
        results: &mut BatchResults,
        shutdown: &CancellationToken,
    ) {
        for call in calls(upserts) {
            if !self.breaker.wait_until_closed(shutdown).await {
                for upsert in &call {
                    upsert
                        .members
                        .iter()
                        .for_each(|m| results.not_attempted(m.event));
                }
                continue;
            }
            let records: Vec<Vec<Map<String, Value>>> = call
                .iter()
                .map(|upsert| {
                    upsert
                        .members
                        .iter()
                        .map(|m| found.fields_of(m.write).into_owned())
                        .collect()
                })
                .collect();
            if let ([upsert], [records]) = (call.as_slice(), records.as_slice()) {
                let (sobject, field) = upsert.group;
                let outcome = self
                    .timed(self.client.upsert_collection(sobject, field, records))
                    .await;
                settle(results, upsert.members, outcome);
                continue;
            }
            let mut request = CompositeRequest::in_order();
            for (index, (upsert, records)) in call.iter().zip(&records).enumerate() {
                let (sobject, field) = upsert.group;
                request.push(Subrequest::upsert_collection(
                    format!("upsert{index}"),
                    sobject,
                    field,
                    records,
                ));
            }
            match self.timed(self.client.composite(&request)).await {
                Ok(responses) => {
                    for (upsert, response) in call.iter().zip(responses) {
                        let outcome = response.record_outcomes(upsert.members.len());
                        settle(results, upsert.members, outcome);
                    }
                }
                Err(error) => {
                    for upsert in &call {
                        fail_all(results, upsert.members, &error);
                    }
                }
            }
        }
    }
}

/// Records the result of one upsert: per record, or the upsert's failure for all of them.
fn settle(
    results: &mut BatchResults,
    members: &[&Pending<'_>],
    outcome: Result<Vec<RecordOutcome>, SalesforceError>,
) {
    let outcomes = match outcome {
        Ok(outcomes) => outcomes,
        Err(error) => return fail_all(results, members, &error),
    };
    for (member, record) in members.iter().zip(outcomes) {
        match record.errors.first() {
            None => results.succeeded(member.event, member.write.role, record.id),
            // A parent the fleet believed to exist is gone: retry with its stub (see
            // `RecordWriter::update_known`).
            Some(error) if is_missing_parent(&record.errors) => results.failed(
                member.event,
                Failure::quoting(FailureClass::Retryable, PARENT_MISSING, &error.message),
            ),
            Some(error) => results.refused(
                member.event,
                member.write,
                record.failure_class().unwrap_or(FailureClass::Permanent),
                error,
            ),
        }
    }
}

/// A failed call or subrequest fails each of its writes; shutdown leaves them pending.
fn fail_all(results: &mut BatchResults, members: &[&Pending<'_>], error: &SalesforceError) {
    if matches!(error, SalesforceError::Interrupted) {
        members.iter().for_each(|m| results.not_attempted(m.event));
        return;
    }
    let failure = Failure::from(error);
    members
        .iter()
        .for_each(|m| results.failed(m.event, failure.clone()));
}
