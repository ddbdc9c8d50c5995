//! Applies mapped events to Salesforce with as few calls as possible.
//!
//! Writes by external id are grouped per sObject and external id field into sObject
//! Collections upserts of up to 200 records, and the upserts of a batch go together in one
//! Composite request ([`super::calls`], [`super::upserts`]): a burst of events costs one
//! call, not one per event or per object type. Parent stubs (a subscription's customer,
//! which may not exist yet) go first in that request, deduplicated, so children's lookups
//! resolve. Writes by Salesforce id or by query (Checkout completion, a product's plans) go
//! one event at a time ([`super::targeted`]). Before any write, lookups that are set only when the parent exists
//! are resolved ([`super::lookups`]); after all writes, the records an event's list no longer
//! has are deleted ([`super::deletions`]).
//!
//! Before every call the shared circuit breaker must be closed; call-level failures feed it.

use std::collections::HashSet;

use salesforce_client::{FailureClass, SalesforceClient, SalesforceError};
use tokio_util::sync::CancellationToken;

use super::{
    calls::upserts,
    lookups::{self, FoundParents},
    outcome::{BatchResults, WriteError, WriteResult},
    plan::{plan, record_key, stubs_to_write, writes_of, Pending, WritePlan},
};
use crate::{
    guard::CircuitBreaker,
    mapping::{Fence, MappedEvent, WriteRole},
    store::{Failure, KnownRecords},
    telemetry,
};

/// Sends mapped events to Salesforce.
#[derive(Clone)]
pub struct RecordWriter {
    pub(super) client: SalesforceClient,
    pub(super) breaker: CircuitBreaker,
    known: KnownRecords,
    stream: &'static str,
    fence: Option<Fence>,
}

impl RecordWriter {
    /// A writer for events of `stream` (a metrics label), whose writes carry `fence` (the
    /// mapping's, if any: its refusals are superseded writes, not failures).
    pub fn new(
        client: SalesforceClient,
        breaker: CircuitBreaker,
        known: KnownRecords,
        stream: &'static str,
        fence: Option<Fence>,
    ) -> Self {
        Self {
            client,
            breaker,
            known,
            stream,
            fence,
        }
    }

    /// The fence the writes carry, if any.
    pub fn fence(&self) -> Option<&Fence> {
        self.fence.as_ref()
    }

    /// Applies `events` (in order: an earlier write to the same record happens first) and
    /// returns one result per event, in the same order.
    ///
    /// Parent stubs go first, once per parent, one Collections upsert per parent type in the
    /// same Composite request as the children, and only for parents not known to exist
    /// ([`KnownRecords`]): a stub carries only the parent's external id, so upserting it
    /// creates a missing parent and leaves an existing one unchanged. Writing them before
    /// the children (rather than after a child failed) keeps every record's writes in event
    /// order.
    pub async fn apply(
        &self,
        events: &[&MappedEvent],
        shutdown: &CancellationToken,
    ) -> Vec<WriteResult> {
        let mut results = BatchResults::new(events.len(), self.fence.as_ref());
        let found = lookups::resolve(events, &mut results, |soqls| async move {
            if !self.breaker.wait_until_closed(shutdown).await {
                return soqls
                    .iter()
                    .map(|_| Err(SalesforceError::Interrupted))
                    .collect();
            }
            self.timed_all(self.client.query_many(&soqls)).await
        })
        .await;
        let mut parents: Vec<(&str, &str)> = writes_of(events, WriteRole::ParentStub)
            .filter_map(|stub| record_key(stub.write))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        let answers = self.known.lookup(&parents).await;
        let known: HashSet<(&str, &str)> = parents
            .into_iter()
            .zip(answers)
            .filter_map(|(parent, known)| known.then_some(parent))
            .collect();
        let stubs = stubs_to_write(events, |sobject, id| known.contains(&(sobject, id)));
        let mains: Vec<Pending<'_>> = writes_of(events, WriteRole::Main).collect();
        self.write_all(&stubs, &mains, &found, &mut results, shutdown)
            .await;
        self.delete_missing(events, &mut results, shutdown).await;
        self.update_known(events, &results).await;
        results.into_results()
    }

    /// Remembers the records of applied events; forgets the parents of events whose child
    /// found a parent missing, so their retry writes the stubs again.
    async fn update_known(&self, events: &[&MappedEvent], results: &BatchResults) {
        let mut written = Vec::new();
        let mut missing = Vec::new();
        for (index, event) in events.iter().enumerate() {
            match results.get(index) {
                Some(WriteResult::Failed(failure)) if failure.code == PARENT_MISSING => {
                    missing.extend(
                        event
                            .writes
                            .iter()
                            .filter(|w| w.role == WriteRole::ParentStub)
                            .filter_map(record_key),
                    );
                }
                Some(WriteResult::Applied { .. }) | None => {
                    written.extend(event.writes.iter().filter_map(record_key))
                }
                _ => {}
            }
        }
        self.known.remember(&written).await;
        self.known.forget(&missing).await;
    }

    /// Writes the parent `stubs`, then the `mains` (with the parents `found` for their
    /// pending lookups), as [`plan`] orders each, and records each event's result. The
    /// Collections upserts of both go in the same calls, stubs first; writes by id or by
    /// query follow, one call each. A stub written by id or by query must land before the
    /// children: then the stubs are sent on their own first, as two phases.
    async fn write_all(
        &self,
        stubs: &[Pending<'_>],
        mains: &[Pending<'_>],
        found: &FoundParents,
        results: &mut BatchResults,
        shutdown: &CancellationToken,
    ) {
        let stub_plan = plan(stubs, |event| results.has_failed(event));
        let together = stub_plan.single.is_empty();
        if !together {
            self.send_upserts(upserts(&[&stub_plan]), found, results, shutdown)
                .await;
            self.write_singles(&stub_plan, found, results, shutdown)
                .await;
        }
        let main_plan = plan(mains, |event| results.has_failed(event));
        let plans = if together {
            vec![&stub_plan, &main_plan]
        } else {
            vec![&main_plan]
        };
        self.send_upserts(upserts(&plans), found, results, shutdown)
            .await;
        self.write_singles(&main_plan, found, results, shutdown)
            .await;
    }

    /// Writes the plan's writes by id or by query, one call each.
    async fn write_singles(
        &self,
        plan: &WritePlan<'_, '_>,
        found: &FoundParents,
        results: &mut BatchResults,
        shutdown: &CancellationToken,
    ) {
        for write in &plan.single {
            if results.has_failed(write.event) {
                continue;
            }
            if !self.breaker.wait_until_closed(shutdown).await {
                results.not_attempted(write.event);
                continue;
            }
            let fields = found.fields_of(write.write);
            let target = &write.write.target;
            match self.write_one(write.write, target, &fields, shutdown).await {
                Ok(id) => results.succeeded(write.event, write.write.role, id),
                Err(None) => results.not_attempted(write.event),
                Err(Some(error)) => results.write_error(write.event, write.write, error),
            }
        }
    }

    /// [`Self::timed`] for several queries sent together (`query_many`: five to a call):
    /// observed as one outcome, the first failure's if any.
    async fn timed_all(
        &self,
        call: impl std::future::Future<Output = Vec<Result<Vec<serde_json::Value>, SalesforceError>>>,
    ) -> Vec<Result<Vec<serde_json::Value>, SalesforceError>> {
        let started = std::time::Instant::now();
        let results = call.await;
        let failure = results.iter().find_map(|result| result.as_ref().err());
        self.observe(failure, started).await;
        results
    }

    /// Times a call and feeds the breaker with its outcome.
    pub(super) async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, SalesforceError>>,
    ) -> Result<T, SalesforceError> {
        let started = std::time::Instant::now();
        let result = call.await;
        self.observe(result.as_ref().err(), started).await;
        result
    }

    /// Counts a call, records its latency and feeds the breaker.
    async fn observe(&self, failure: Option<&SalesforceError>, started: std::time::Instant) {
        let outcome = failure.map_or("ok", |error| error.class().label());
        metrics::counter!(telemetry::SALESFORCE_CALLS, "stream" => self.stream, "outcome" => outcome).increment(1);
        metrics::histogram!(telemetry::SALESFORCE_LATENCY, "stream" => self.stream)
            .record(started.elapsed().as_secs_f64());
        match failure {
            // Nothing was learnt about Salesforce.
            Some(SalesforceError::Interrupted) => {}
            Some(error) if error.class() == FailureClass::Retryable => {
                self.breaker.record_failure().await
            }
            _ => self.breaker.record_success().await,
        }
    }
}

/// The failure a failed call records, or `None` when shutdown interrupted it.
pub(super) fn failure_of(error: SalesforceError) -> Option<WriteError> {
    match error {
        SalesforceError::Interrupted => None,
        other => Some(WriteError::Failed(Failure::from(&other))),
    }
}

/// The failure code of a child whose parent does not exist.
pub(super) const PARENT_MISSING: &str = "PARENT_MISSING";

/// Whether a record's errors say its parent (looked up by external id) does not exist.
pub(super) fn is_missing_parent(errors: &[salesforce_client::ApiError]) -> bool {
    errors
        .iter()
        .any(|e| e.message.contains("Foreign key external ID") && e.message.contains("not found"))
}
