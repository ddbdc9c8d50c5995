//! Applies mapped events to Salesforce with as few calls as possible.
//!
//! Writes by external id are grouped per sObject and external id field and sent as sObject
//! Collections upserts of up to 200 records: a burst of events costs one call per object
//! type, not one per event. Parent stubs (a subscription's customer, which may not exist
//! yet) go first, deduplicated, so children's lookups resolve. Writes by Salesforce id or
//! by query (Checkout completion) go one by one.
//!
//! Before every call the shared circuit breaker must be closed; call-level failures feed it.

use salesforce_client::{soql, FailureClass, SalesforceClient, SalesforceError, COLLECTION_LIMIT};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::known::KnownRecords;
use crate::{
    guard::CircuitBreaker,
    mapping::{MappedEvent, RecordTarget, RecordWrite, WriteRole},
    store::Failure,
    telemetry,
};

/// What happened to one event's writes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// Every write succeeded; the id of the event's first main record.
    Applied(Option<String>),
    /// A write failed.
    Failed(Failure, FailureClass),
    /// Shutdown came before the writes were attempted; leave the entry pending.
    NotAttempted,
}

/// Sends mapped events to Salesforce.
#[derive(Clone)]
pub struct RecordWriter {
    client: SalesforceClient,
    breaker: CircuitBreaker,
    known: KnownRecords,
    stream: &'static str,
}

/// Records written by one Collections call: (sObject, external id field).
type Group<'w> = (&'w str, &'w str);

/// One round of Collections calls: per group, the writes to send.
type Round<'p, 'w> = Vec<(Group<'w>, Vec<&'p Pending<'w>>)>;

/// One write of one event.
struct Pending<'a> {
    event: usize,
    write: &'a RecordWrite,
}

impl RecordWriter {
    /// A writer for events of `stream` (a metrics label).
    pub fn new(
        client: SalesforceClient,
        breaker: CircuitBreaker,
        known: KnownRecords,
        stream: &'static str,
    ) -> Self {
        Self {
            client,
            breaker,
            known,
            stream,
        }
    }

    /// Applies `events` (in order: an earlier write to the same record happens first) and
    /// returns one result per event, in the same order.
    ///
    /// Parent stubs go first, once per parent, in one Collections call per parent type, and
    /// only for parents not known to exist ([`KnownRecords`]): a stub carries only the
    /// parent's external id, so upserting it creates a missing parent and leaves an existing
    /// one unchanged. Writing them before the children (rather than after a child failed)
    /// keeps every record's writes in event order.
    pub async fn apply(
        &self,
        events: &[&MappedEvent],
        shutdown: &CancellationToken,
    ) -> Vec<WriteResult> {
        let mut results: Vec<Option<WriteResult>> = vec![None; events.len()];
        let mut seen_stubs = std::collections::HashSet::new();
        let stubs: Vec<Pending<'_>> = writes_of(events, WriteRole::ParentStub)
            .filter(|stub| {
                seen_stubs.insert((
                    stub.write.sobject.clone(),
                    external_value(stub.write).map(str::to_owned),
                ))
            })
            .collect();
        let stub_keys: Vec<(&str, &str)> =
            stubs.iter().filter_map(|s| record_key(s.write)).collect();
        let known = self.known.lookup(&stub_keys).await;
        let stubs: Vec<Pending<'_>> = stubs
            .into_iter()
            .filter(|stub| {
                record_key(stub.write)
                    .and_then(|key| stub_keys.iter().position(|k| *k == key))
                    .is_none_or(|index| !known[index])
            })
            .collect();
        if !stubs.is_empty() {
            self.write_all(&stubs, &mut results, shutdown).await;
            // A stub's success says nothing about its event yet; only failures carry over.
            for result in results.iter_mut() {
                if matches!(result, Some(WriteResult::Applied(_))) {
                    *result = None;
                }
            }
        }
        let mains: Vec<Pending<'_>> = writes_of(events, WriteRole::Main).collect();
        self.write_all(&mains, &mut results, shutdown).await;
        self.update_known(events, &results).await;
        // An event without main writes changes nothing and is done.
        results
            .into_iter()
            .map(|r| r.unwrap_or(WriteResult::Applied(None)))
            .collect()
    }

    /// Remembers the records of applied events; forgets the parents of events whose child
    /// found a parent missing, so their retry writes the stubs again.
    async fn update_known(&self, events: &[&MappedEvent], results: &[Option<WriteResult>]) {
        let mut written = Vec::new();
        let mut missing = Vec::new();
        for (event, result) in events.iter().zip(results) {
            let keys = event.writes.iter().filter_map(record_key);
            match result {
                Some(WriteResult::Failed(failure, _)) if failure.code == PARENT_MISSING => {
                    missing.extend(
                        event
                            .writes
                            .iter()
                            .filter(|w| w.role == WriteRole::ParentStub)
                            .filter_map(record_key),
                    );
                }
                Some(WriteResult::Applied(_)) | None => written.extend(keys),
                _ => {}
            }
        }
        self.known.remember(&written).await;
        self.known.forget(&missing).await;
    }

    /// Writes `pending` and records results (first failure of an event wins; the first
    /// main record id is kept). Rounds run in order, so of two writes to one record the
    /// one of the earlier event is sent first.
    async fn write_all(
        &self,
        pending: &[Pending<'_>],
        results: &mut [Option<WriteResult>],
        shutdown: &CancellationToken,
    ) {
        // Upserts by external id, in rounds so that no collection names one record twice.
        let mut rounds: Vec<Round<'_, '_>> = Vec::new();
        let mut single: Vec<&Pending<'_>> = Vec::new();
        for write in pending {
            if matches!(results[write.event], Some(WriteResult::Failed(..))) {
                continue;
            }
            match &write.write.target {
                RecordTarget::ExternalId { field, value } => {
                    let group = (write.write.sobject.as_str(), field.as_str());
                    // The first round whose collection for this group does not name the record yet.
                    let free = rounds.iter().position(|round| {
                        !round.iter().any(|(g, members)| {
                            *g == group
                                && members
                                    .iter()
                                    .any(|m| external_value(m.write) == Some(value.as_str()))
                        })
                    });
                    let index = free.unwrap_or_else(|| {
                        rounds.push(Vec::new());
                        rounds.len() - 1
                    });
                    let round = &mut rounds[index];
                    match round.iter_mut().find(|(g, _)| *g == group) {
                        Some((_, members)) => members.push(write),
                        None => round.push((group, vec![write])),
                    }
                }
                _ => single.push(write),
            }
        }
        let precedence = group_precedence(pending);
        for mut round in rounds {
            order_groups(&mut round, &precedence);
            for ((sobject, field), members) in round {
                for chunk in members.chunks(COLLECTION_LIMIT) {
                    if !self.breaker.wait_until_closed(shutdown).await {
                        for member in chunk {
                            results[member.event].get_or_insert(WriteResult::NotAttempted);
                        }
                        continue;
                    }
                    let records: Vec<Map<String, Value>> =
                        chunk.iter().map(|m| m.write.fields.clone()).collect();
                    let outcome = self
                        .timed(self.client.upsert_collection(sobject, field, &records))
                        .await;
                    match outcome {
                        Err(error) => {
                            for member in chunk {
                                record_failure(results, member.event, &error);
                            }
                        }
                        Ok(outcomes) => {
                            for (member, record) in chunk.iter().zip(outcomes) {
                                if record.is_success() {
                                    record_success(results, member, record.id);
                                } else if is_missing_parent(&record.errors) {
                                    // A parent the fleet believed to exist is gone: retry
                                    // with its stub (see `update_known`).
                                    let message = record.errors[0].message.clone();
                                    set_failed(
                                        results,
                                        member.event,
                                        FailureClass::Retryable,
                                        PARENT_MISSING,
                                        &message,
                                    );
                                } else {
                                    let error = &record.errors[0];
                                    let class =
                                        record.failure_class().unwrap_or(FailureClass::Permanent);
                                    set_failed(
                                        results,
                                        member.event,
                                        class,
                                        &error.code,
                                        &error.message,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        for write in single {
            if results_failed(results, write.event) {
                continue;
            }
            if !self.breaker.wait_until_closed(shutdown).await {
                results[write.event].get_or_insert(WriteResult::NotAttempted);
                continue;
            }
            match self.write_one(write.write, &write.write.target).await {
                Ok(id) => record_success(results, write, id),
                Err(error) => record_failure(results, write.event, &error),
            }
        }
    }

    /// Writes one record by Salesforce id or by query (with its fallback).
    async fn write_one(
        &self,
        write: &RecordWrite,
        target: &RecordTarget,
    ) -> Result<Option<String>, SalesforceError> {
        match target {
            RecordTarget::ExternalId { field, value } => {
                let outcome = self
                    .timed(
                        self.client
                            .upsert(&write.sobject, field, value, &write.fields),
                    )
                    .await?;
                match outcome.errors.first() {
                    None => Ok(outcome.id),
                    Some(error) => Err(SalesforceError::Api {
                        status: 400,
                        code: error.code.clone(),
                        errors: outcome.errors.clone(),
                        class: outcome.failure_class().unwrap_or(FailureClass::Permanent),
                    }),
                }
            }
            RecordTarget::SalesforceId(id) => {
                self.timed(self.client.update(&write.sobject, id, &write.fields))
                    .await?;
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
                let found = self.timed(self.client.query(&query)).await?;
                match (found.as_slice(), fallback) {
                    ([record], _) => {
                        let id = record
                            .get("Id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        let target = RecordTarget::SalesforceId(id);
                        Box::pin(self.write_one(write, &target)).await
                    }
                    ([], Some(fallback)) => Box::pin(self.write_one(write, fallback)).await,
                    ([], None) => Err(permanent(
                        "NO_MATCHING_RECORD",
                        format!("no {} with {field} = {value}", write.sobject),
                    )),
                    (_, _) => Err(permanent(
                        "MULTIPLE_MATCHES",
                        format!("several {} records with {field} = {value}", write.sobject),
                    )),
                }
            }
        }
    }

    /// Times a call and feeds the breaker with its outcome.
    async fn timed<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, SalesforceError>>,
    ) -> Result<T, SalesforceError> {
        let started = std::time::Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => error.class().label(),
        };
        metrics::counter!(telemetry::SALESFORCE_CALLS, "stream" => self.stream, "outcome" => outcome).increment(1);
        metrics::histogram!(telemetry::SALESFORCE_LATENCY, "stream" => self.stream)
            .record(started.elapsed().as_secs_f64());
        match &result {
            Err(error) if error.class() == FailureClass::Retryable => {
                self.breaker.record_failure().await
            }
            _ => self.breaker.record_success().await,
        }
        result
    }
}

/// The writes of `role` of every event, in event order, each tagged with its event.
fn writes_of<'a>(
    events: &'a [&'a MappedEvent],
    role: WriteRole,
) -> impl Iterator<Item = Pending<'a>> + 'a {
    events.iter().enumerate().flat_map(move |(event, mapped)| {
        mapped
            .writes
            .iter()
            .filter(move |w| w.role == role)
            .map(move |write| Pending { event, write })
    })
}

/// Pairs (earlier group, later group) from the order of each event's writes: a
/// subscription must exist before a transaction that looks it up is written.
fn group_precedence<'w>(pending: &[Pending<'w>]) -> Vec<(Group<'w>, Group<'w>)> {
    let mut pairs = Vec::new();
    let mut previous: Option<(usize, Group<'w>)> = None;
    for write in pending {
        let RecordTarget::ExternalId { field, .. } = &write.write.target else {
            continue;
        };
        let group = (write.write.sobject.as_str(), field.as_str());
        if let Some((event, earlier)) = previous {
            if event == write.event && earlier != group && !pairs.contains(&(earlier, group)) {
                pairs.push((earlier, group));
            }
        }
        previous = Some((write.event, group));
    }
    pairs
}

/// Orders a round's groups so that every group comes after the groups some event writes
/// before it (a topological order; on a cycle the remaining groups keep their order).
fn order_groups(round: &mut Round<'_, '_>, precedence: &[(Group<'_>, Group<'_>)]) {
    let mut ordered: Round<'_, '_> = Vec::with_capacity(round.len());
    while !round.is_empty() {
        let ready = round
            .iter()
            .position(|(group, _)| {
                !precedence
                    .iter()
                    .any(|(before, after)| after == group && round.iter().any(|(g, _)| g == before))
            })
            .unwrap_or(0);
        ordered.push(round.remove(ready));
    }
    *round = ordered;
}

/// The failure code of a child whose parent does not exist.
const PARENT_MISSING: &str = "PARENT_MISSING";

fn is_missing_parent(errors: &[salesforce_client::ApiError]) -> bool {
    errors
        .iter()
        .any(|e| e.message.contains("Foreign key external ID") && e.message.contains("not found"))
}

/// (sObject, external id) of a write by external id.
fn record_key(write: &RecordWrite) -> Option<(&str, &str)> {
    external_value(write).map(|value| (write.sobject.as_str(), value))
}

fn external_value(write: &RecordWrite) -> Option<&str> {
    match &write.target {
        RecordTarget::ExternalId { value, .. } => Some(value),
        _ => None,
    }
}

fn results_failed(results: &[Option<WriteResult>], event: usize) -> bool {
    matches!(results[event], Some(WriteResult::Failed(..)))
}

fn record_success(results: &mut [Option<WriteResult>], pending: &Pending<'_>, id: Option<String>) {
    let slot = &mut results[pending.event];
    match slot {
        Some(WriteResult::Failed(..)) => {}
        Some(WriteResult::Applied(Some(_))) => {}
        _ => {
            let id = if pending.write.role == WriteRole::Main {
                id
            } else {
                None
            };
            *slot = Some(WriteResult::Applied(id));
        }
    }
}

fn record_failure(results: &mut [Option<WriteResult>], event: usize, error: &SalesforceError) {
    let (code, message) = match error {
        SalesforceError::Api { code, errors, .. } => (
            code.clone(),
            errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        ),
        other => (
            other.code().unwrap_or("CALL_FAILED").to_owned(),
            other.to_string(),
        ),
    };
    set_failed(results, event, error.class(), &code, &message);
}

fn set_failed(
    results: &mut [Option<WriteResult>],
    event: usize,
    class: FailureClass,
    code: &str,
    message: &str,
) {
    if !results_failed(results, event) {
        results[event] = Some(failed(class, code, message));
    }
}

fn failed(class: FailureClass, code: &str, message: &str) -> WriteResult {
    WriteResult::Failed(
        Failure {
            class: class.label().to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
        },
        class,
    )
}

fn permanent(code: &str, message: String) -> SalesforceError {
    SalesforceError::Api {
        status: 0,
        code: code.to_owned(),
        errors: vec![salesforce_client::ApiError {
            code: code.to_owned(),
            message,
            fields: Vec::new(),
        }],
        class: FailureClass::Permanent,
    }
}
