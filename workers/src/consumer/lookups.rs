//! Lookups set only where the parent exists (`lookup = { ..., only_if_exists = true }` in the
//! mapping): a `Stripe_Customer__c` links to the Contact whose `Stripe_Customer_ID__c` holds
//! the customer's id, if there is such a Contact.
//!
//! Salesforce fails the whole record when a lookup through an external id matches nothing
//! (docs/salesforce-api.md §3.4), and the Contact field is not unique, so the fleet cannot
//! write `Contact__r: {Stripe_Customer_ID__c: ...}`. Instead, before writing a batch, one SOQL
//! query per parent object and field finds the parents of every pending lookup:
//! `SELECT Id, F FROM Contact WHERE F IN ('cus_1', 'cus_2', ...)`. A record whose parent
//! exists gets the parent's record id in the lookup field; the others are written without
//! the field (an existing link is left as it is). The fleet never creates the parent.
//!
//! - **Several parents with one value**: the one with the smallest record id wins. Record ids
//!   of one object grow as records are created, and their characters sort in the order of
//!   Salesforce's base-62 digits, so this is in practice the oldest; above all it is the same
//!   answer on every replica and every retry.
//! - **Case**: SOQL compares text ignoring case, so answers are matched to values ignoring
//!   ASCII case too.
//! - **Long batches**: the query goes in the URL, and Salesforce limits a request's URI and
//!   headers to 16,384 bytes (help article 000386264, docs/salesforce-api.md §6.1). Values
//!   are split over several queries so that each encoded query stays under
//!   [`MAX_ENCODED_QUERY_BYTES`]: a realtime batch of 200 customers is one query, a Bulk batch
//!   of 10,000 about 23 (some 440 Stripe customer ids fit in one).
//!
//! A query that fails fails the events that needed it (by its class: retried or
//! dead-lettered); the other events of the batch are written.

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
    future::Future,
};

use salesforce_client::{soql, SalesforceError};
use serde_json::{Map, Value};

use super::outcome::BatchResults;
use crate::{
    mapping::{MappedEvent, RecordWrite},
    store::Failure,
};

/// Most bytes of one percent-encoded parent query: of the 16,384 bytes Salesforce allows for
/// the URI and headers together, this leaves over 4,000 for the rest of the URL, the token
/// and the other headers (which take well under 1,000).
pub const MAX_ENCODED_QUERY_BYTES: usize = 12_000;

/// One query for parents: the object and field, the values it asks for, and its SOQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentQuery {
    /// The parent sObject, e.g. `Contact`.
    pub sobject: String,
    /// The field matched, e.g. `Stripe_Customer_ID__c`.
    pub field: String,
    /// The values asked for, each once.
    pub values: Vec<String>,
    /// `SELECT Id, {field} FROM {sobject} WHERE {field} IN (...)`.
    pub soql: String,
}

/// The parents found, by (sobject, field, value in lower case).
#[derive(Debug, Default, Clone)]
pub struct FoundParents {
    ids: HashMap<(String, String, String), String>,
}

impl FoundParents {
    /// The record id of the parent with `value` in `sobject.field`, if one exists.
    pub fn id(&self, sobject: &str, field: &str, value: &str) -> Option<&str> {
        self.ids
            .get(&(
                sobject.to_owned(),
                field.to_owned(),
                value.to_ascii_lowercase(),
            ))
            .map(String::as_str)
    }

    /// The fields to send for `write`: its own, plus every pending lookup whose parent
    /// exists, as the parent's record id.
    pub fn fields_of<'w>(&self, write: &'w RecordWrite) -> Cow<'w, Map<String, Value>> {
        let mut fields = Cow::Borrowed(&write.fields);
        for lookup in &write.pending_lookups {
            if let Some(id) = self.id(&lookup.sobject, &lookup.external_id_field, &lookup.value) {
                fields
                    .to_mut()
                    .insert(lookup.field.clone(), Value::String(id.to_owned()));
            }
        }
        fields
    }

    /// Records the answer to `query`: per value, the parent with the smallest record id.
    pub fn add_answer(&mut self, query: &ParentQuery, records: &[Value]) {
        for record in records {
            let (Some(id), Some(value)) = (
                record.get("Id").and_then(Value::as_str),
                record.get(&query.field).and_then(Value::as_str),
            ) else {
                continue;
            };
            let key = (
                query.sobject.clone(),
                query.field.clone(),
                value.to_ascii_lowercase(),
            );
            let smaller = |current: &String| id_order(id) < id_order(current);
            if self.ids.get(&key).is_none_or(smaller) {
                self.ids.insert(key, id.to_owned());
            }
        }
    }
}

/// Record ids compare by their first 15 characters (the 18-character form only adds a
/// checksum); ASCII order of `0-9A-Za-z` is the order of Salesforce's base-62 digits.
fn id_order(id: &str) -> &str {
    id.get(..15).unwrap_or(id)
}

/// The queries that find the parents of every pending lookup of `events`: one per parent
/// object and field, split when the encoded query would exceed `max_bytes`.
pub fn parent_queries(events: &[&MappedEvent], max_bytes: usize) -> Vec<ParentQuery> {
    let mut wanted: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for lookup in events
        .iter()
        .flat_map(|event| &event.writes)
        .flat_map(|write| &write.pending_lookups)
    {
        let values = wanted
            .entry((&lookup.sobject, &lookup.external_id_field))
            .or_default();
        if !values.iter().any(|v| v.eq_ignore_ascii_case(&lookup.value)) {
            values.push(&lookup.value);
        }
    }
    let mut queries = Vec::new();
    for ((sobject, field), values) in wanted {
        let head = format!("SELECT Id, {field} FROM {sobject} WHERE {field} IN (");
        let mut current: Vec<String> = Vec::new();
        let mut size = encoded_len(&head) + encoded_len(")");
        for value in values {
            let literal = soql::quote(value);
            let added = encoded_len(&literal) + encoded_len(",");
            if !current.is_empty() && size + added > max_bytes {
                queries.push(query(sobject, field, &head, std::mem::take(&mut current)));
                size = encoded_len(&head) + encoded_len(")");
            }
            size += added;
            current.push(value.to_owned());
        }
        if !current.is_empty() {
            queries.push(query(sobject, field, &head, current));
        }
    }
    queries
}

fn query(sobject: &str, field: &str, head: &str, values: Vec<String>) -> ParentQuery {
    let literals: Vec<String> = values.iter().map(|v| soql::quote(v)).collect();
    ParentQuery {
        sobject: sobject.to_owned(),
        field: field.to_owned(),
        soql: format!("{head}{})", literals.join(",")),
        values,
    }
}

/// Bytes of `text` once percent-encoded as a URL query value (unreserved characters stay,
/// every other byte becomes `%XX`).
fn encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Finds the parents of `events`' pending lookups with `run`, which answers a list of SOQL
/// queries (all pages of each, in order: `SalesforceClient::query_many` sends five to a call),
/// and returns them. An event whose query failed is marked failed in `results` (or not
/// attempted, on shutdown), so its writes are not sent.
pub async fn resolve<F, Fut>(
    events: &[&MappedEvent],
    results: &mut BatchResults,
    run: F,
) -> FoundParents
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Vec<Result<Vec<Value>, SalesforceError>>>,
{
    let mut found = FoundParents::default();
    let queries = parent_queries(events, MAX_ENCODED_QUERY_BYTES);
    if queries.is_empty() {
        return found;
    }
    let outcomes = run(queries.iter().map(|query| query.soql.clone()).collect()).await;
    for (query, outcome) in queries.iter().zip(outcomes) {
        let records = match outcome {
            Ok(records) => records,
            Err(error) => {
                for (index, event) in events.iter().enumerate() {
                    if needs(event, query) {
                        match &error {
                            SalesforceError::Interrupted => results.not_attempted(index),
                            other => results.failed(index, Failure::from(other)),
                        }
                    }
                }
                continue;
            }
        };
        found.add_answer(query, &records);
    }
    found
}

/// Whether `event` has a pending lookup that `query` answers.
fn needs(event: &MappedEvent, query: &ParentQuery) -> bool {
    event
        .writes
        .iter()
        .flat_map(|write| &write.pending_lookups)
        .any(|lookup| {
            lookup.sobject == query.sobject
                && lookup.external_id_field == query.field
                && query
                    .values
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(&lookup.value))
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::{PendingLookup, RecordTarget, WriteRole};

    fn customer(id: &str) -> MappedEvent {
        MappedEvent {
            writes: vec![RecordWrite {
                sobject: "Stripe_Customer__c".into(),
                target: RecordTarget::ExternalId {
                    field: "Stripe_Customer_ID__c".into(),
                    value: id.into(),
                },
                fields: json!({"Stripe_Customer_ID__c": id})
                    .as_object()
                    .unwrap()
                    .clone(),
                role: WriteRole::Main,
                aspect: None,
                on_dead_letter: Vec::new(),
                pending_lookups: vec![PendingLookup {
                    field: "Contact__c".into(),
                    sobject: "Contact".into(),
                    external_id_field: "Stripe_Customer_ID__c".into(),
                    value: id.into(),
                }],
            }],
            deletions: Vec::new(),
        }
    }

    #[test]
    fn one_query_per_parent_field_with_each_value_once() {
        let events = [customer("cus_1"), customer("cus_2"), customer("CUS_1")];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let queries = parent_queries(&refs, MAX_ENCODED_QUERY_BYTES);
        assert_eq!(queries.len(), 1);
        assert_eq!(
            queries[0].soql,
            "SELECT Id, Stripe_Customer_ID__c FROM Contact WHERE Stripe_Customer_ID__c IN ('cus_1','cus_2')"
        );
        assert!(parent_queries(&[], MAX_ENCODED_QUERY_BYTES).is_empty());
    }

    #[test]
    fn long_value_lists_are_split_under_the_size_limit() {
        let events: Vec<MappedEvent> = (0..1_000)
            .map(|n| customer(&format!("cus_{n:014}")))
            .collect();
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let queries = parent_queries(&refs, MAX_ENCODED_QUERY_BYTES);
        assert!(queries.len() > 1, "{} queries", queries.len());
        assert!(queries
            .iter()
            .all(|q| encoded_len(&q.soql) <= MAX_ENCODED_QUERY_BYTES));
        let asked: usize = queries.iter().map(|q| q.values.len()).sum();
        assert_eq!(asked, 1_000, "every value exactly once");
    }

    #[test]
    fn the_smallest_record_id_wins_and_missing_parents_leave_the_field_out() {
        let events = [customer("cus_1"), customer("cus_2")];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let query = &parent_queries(&refs, MAX_ENCODED_QUERY_BYTES)[0];
        let mut found = FoundParents::default();
        found.add_answer(
            query,
            &[
                json!({"Id": "003B00000000002AAA", "Stripe_Customer_ID__c": "cus_1"}),
                json!({"Id": "003A00000000009AAA", "Stripe_Customer_ID__c": "CUS_1"}),
                json!({"Id": "003C00000000001AAA", "Stripe_Customer_ID__c": "cus_1"}),
            ],
        );
        let linked = found.fields_of(&events[0].writes[0]);
        assert_eq!(linked["Contact__c"], "003A00000000009AAA");
        let alone = found.fields_of(&events[1].writes[0]);
        assert!(matches!(alone, Cow::Borrowed(_)));
        assert!(!alone.contains_key("Contact__c"));
    }

    #[tokio::test]
    async fn a_failed_query_fails_only_the_events_that_needed_it() {
        let mut plain = customer("cus_3");
        plain.writes[0].pending_lookups.clear();
        let events = [customer("cus_1"), plain];
        let refs: Vec<&MappedEvent> = events.iter().collect();
        let mut results = BatchResults::new(2, None);
        let found = resolve(&refs, &mut results, |soqls| async move {
            soqls
                .iter()
                .map(|_| Err(SalesforceError::Transport("connection reset".into())))
                .collect()
        })
        .await;
        assert!(results.has_failed(0));
        assert!(!results.has_failed(1));
        assert!(found
            .id("Contact", "Stripe_Customer_ID__c", "cus_1")
            .is_none());
    }
}
