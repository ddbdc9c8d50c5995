//! The Composite resource (docs/salesforce-api.md §4.4): up to 25 subrequests in one call
//! that counts once against the API limits and passes the [`crate::CallGate`] once, like
//! any other call. Later subrequests may refer to earlier results with `@{refId.path}`.
//!
//! [`CompositeRequest`] is a typed builder ([`Subrequest`] has helpers for sObject
//! Collections inserts, updates and upserts by external id, and queries);
//! [`SalesforceClient::composite`] sends it and returns one [`SubResponse`] per
//! subrequest, in request order, whose Collections results read as [`RecordOutcome`]s.

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::{
    client::{encode_component, Body, SalesforceClient, COLLECTION_LIMIT},
    error::SalesforceError,
    record::{record_outcome, RecordOutcome},
};

/// Most subrequests of one Composite request (§4.4).
pub const COMPOSITE_LIMIT: usize = 25;
/// Most subrequests of one Composite request that are sObject Collections or queries (§4.4).
pub const COMPOSITE_COLLECTIONS_LIMIT: usize = 5;

/// One subrequest: an ordinary REST call, its path relative to `/services/data/vXX.X`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subrequest {
    /// HTTP method.
    pub method: Method,
    /// Path (and query) after `/services/data/vXX.X`, e.g. `/composite/sobjects`.
    pub path: String,
    /// How later subrequests and the results name this one; unique in the request.
    pub reference_id: String,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl Subrequest {
    /// Upserts up to 200 records of one sObject by external id, `allOrNone` false (the
    /// subrequest form of [`SalesforceClient::upsert_collection`]).
    pub fn upsert_collection(
        reference_id: impl Into<String>,
        sobject: &str,
        external_id_field: &str,
        records: &[Map<String, Value>],
    ) -> Self {
        Self {
            method: Method::PATCH,
            path: format!("/composite/sobjects/{sobject}/{external_id_field}"),
            reference_id: reference_id.into(),
            body: Some(collection_body(sobject, records.iter().cloned())),
        }
    }

    /// Inserts up to 200 records of one sObject, `allOrNone` false.
    pub fn insert_collection(
        reference_id: impl Into<String>,
        sobject: &str,
        records: &[Map<String, Value>],
    ) -> Self {
        Self {
            method: Method::POST,
            path: "/composite/sobjects".into(),
            reference_id: reference_id.into(),
            body: Some(collection_body(sobject, records.iter().cloned())),
        }
    }

    /// Updates up to 200 records of one sObject by id, `allOrNone` false; `records` are
    /// (id, fields).
    pub fn update_collection(
        reference_id: impl Into<String>,
        sobject: &str,
        records: &[(String, Map<String, Value>)],
    ) -> Self {
        let records = records.iter().map(|(id, fields)| {
            let mut record = fields.clone();
            record.insert("id".into(), Value::String(id.clone()));
            record
        });
        Self {
            method: Method::PATCH,
            path: "/composite/sobjects".into(),
            reference_id: reference_id.into(),
            body: Some(collection_body(sobject, records)),
        }
    }

    /// Runs a SOQL query (first page only).
    pub fn query(reference_id: impl Into<String>, soql: &str) -> Self {
        Self {
            method: Method::GET,
            path: format!("/query?q={}", encode_component(soql)),
            reference_id: reference_id.into(),
            body: None,
        }
    }

    /// Whether the subrequest counts towards [`COMPOSITE_COLLECTIONS_LIMIT`].
    pub fn is_collection_or_query(&self) -> bool {
        ["/composite/sobjects", "/query", "/queryAll"]
            .iter()
            .any(|prefix| {
                self.path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
            })
    }

    /// How many records a Collections subrequest carries (0 for others).
    fn record_count(&self) -> usize {
        self.body
            .as_ref()
            .and_then(|body| body.get("records"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    }
}

fn collection_body(sobject: &str, records: impl Iterator<Item = Map<String, Value>>) -> Value {
    let records: Vec<Value> = records
        .map(|mut record| {
            record.insert("attributes".into(), json!({ "type": sobject }));
            Value::Object(record)
        })
        .collect();
    json!({ "allOrNone": false, "records": records })
}

/// A Composite request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompositeRequest {
    /// True: one failed subrequest rolls every subrequest back. False: only the
    /// subrequests that reference a failed one fail.
    pub all_or_none: bool,
    /// True lets Salesforce run unrelated subrequests in any order to bulkify them (the
    /// default from v49.0); false runs them in request order. Sent explicitly always.
    pub collate_subrequests: bool,
    /// The subrequests, run in order (when not collated).
    pub subrequests: Vec<Subrequest>,
}

impl CompositeRequest {
    /// An empty request with `allOrNone` false and `collateSubrequests` false: each
    /// subrequest on its own, in request order.
    pub fn in_order() -> Self {
        Self::default()
    }

    /// Adds a subrequest.
    pub fn push(&mut self, subrequest: Subrequest) -> &mut Self {
        self.subrequests.push(subrequest);
        self
    }

    /// Whether one more subrequest, collection/query or not, fits the limits.
    pub fn has_room_for(&self, subrequest: &Subrequest) -> bool {
        let heavy = self
            .subrequests
            .iter()
            .filter(|s| s.is_collection_or_query())
            .count();
        self.subrequests.len() < COMPOSITE_LIMIT
            && (!subrequest.is_collection_or_query() || heavy < COMPOSITE_COLLECTIONS_LIMIT)
    }

    /// Refuses what Salesforce would refuse as a whole (§4.4), before sending.
    fn check(&self) -> Result<(), SalesforceError> {
        let heavy = self
            .subrequests
            .iter()
            .filter(|s| s.is_collection_or_query())
            .count();
        let oversized = self
            .subrequests
            .iter()
            .any(|s| s.record_count() > COLLECTION_LIMIT);
        if self.subrequests.len() > COMPOSITE_LIMIT
            || heavy > COMPOSITE_COLLECTIONS_LIMIT
            || oversized
        {
            return Err(SalesforceError::Unexpected(format!(
                "a composite request takes at most {COMPOSITE_LIMIT} subrequests, \
                 {COMPOSITE_COLLECTIONS_LIMIT} of them collections or queries, \
                 {COLLECTION_LIMIT} records per collection"
            )));
        }
        Ok(())
    }
}

/// What Salesforce answered for one subrequest.
#[derive(Debug, Clone, PartialEq)]
pub struct SubResponse {
    /// The subrequest's reference id.
    pub reference_id: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its response body (`Null` when empty).
    pub body: Value,
}

impl SubResponse {
    /// The subrequest's failure as a call failure (classified like a standalone call's),
    /// or `None` when it succeeded.
    pub fn error(&self) -> Option<SalesforceError> {
        (self.status >= 400).then(|| {
            SalesforceError::from_response(self.status, "application/json", &self.body.to_string())
        })
    }

    /// The per-record results of a Collections subrequest of `expected` records, in
    /// request order; the subrequest's own failure when it failed as a whole.
    pub fn record_outcomes(&self, expected: usize) -> Result<Vec<RecordOutcome>, SalesforceError> {
        if let Some(error) = self.error() {
            return Err(error);
        }
        let results = self.body.as_array().ok_or_else(|| {
            SalesforceError::Unexpected("collections answer is not a JSON array".into())
        })?;
        if results.len() != expected {
            return Err(SalesforceError::Unexpected(format!(
                "{} results for {expected} records",
                results.len()
            )));
        }
        Ok(results.iter().map(|r| record_outcome(r, false)).collect())
    }
}

impl SalesforceClient {
    /// Sends a Composite request (`POST /composite`): one API call, one pass through the
    /// call gate. Returns one [`SubResponse`] per subrequest, in request order; a failed
    /// subrequest is a response with its status, not an `Err`.
    pub async fn composite(
        &self,
        request: &CompositeRequest,
    ) -> Result<Vec<SubResponse>, SalesforceError> {
        request.check()?;
        let data_path = self.data_path();
        let subrequests: Vec<Value> = request
            .subrequests
            .iter()
            .map(|sub| {
                let mut item = json!({
                    "method": sub.method.as_str(),
                    "url": format!("{data_path}{}", sub.path),
                    "referenceId": sub.reference_id,
                });
                if let Some(body) = &sub.body {
                    item["body"] = body.clone();
                }
                item
            })
            .collect();
        let body = json!({
            "allOrNone": request.all_or_none,
            "collateSubrequests": request.collate_subrequests,
            "compositeRequest": subrequests,
        });
        let answer = self
            .call(
                Method::POST,
                &format!("{data_path}/composite"),
                Some(Body::Json(body)),
            )
            .await?;
        parse_responses(&answer.body, &request.subrequests)
    }
}

/// Reads `compositeResponse`: one item per subrequest, matched by reference id.
fn parse_responses(body: &str, sent: &[Subrequest]) -> Result<Vec<SubResponse>, SalesforceError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|_| SalesforceError::Unexpected("composite answer is not JSON".into()))?;
    let items = value
        .get("compositeResponse")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            SalesforceError::Unexpected("composite answer has no compositeResponse".into())
        })?;
    let responses: Vec<SubResponse> = items
        .iter()
        .map(|item| SubResponse {
            reference_id: item
                .get("referenceId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            status: item
                .get("httpStatusCode")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(500),
            body: item.get("body").cloned().unwrap_or(Value::Null),
        })
        .collect();
    // Collated subrequests may come back in another order: put them in request order.
    sent.iter()
        .map(|sub| {
            responses
                .iter()
                .find(|r| r.reference_id == sub.reference_id)
                .cloned()
                .ok_or_else(|| match responses.iter().find_map(SubResponse::error) {
                    Some(error) => error,
                    None => SalesforceError::Unexpected(format!(
                        "no composite response for {}",
                        sub.reference_id
                    )),
                })
        })
        .collect()
}

impl SalesforceClient {
    /// Runs SOQL queries, five to a Composite request (one API call where separate queries
    /// would cost five); a query whose answer has more pages reads them through
    /// `nextRecordsUrl`, one call each. A single query is sent on its own. Answers in order;
    /// a failed request fails each of its queries.
    pub async fn query_many(&self, soqls: &[String]) -> Vec<Result<Vec<Value>, SalesforceError>> {
        if let [soql] = soqls {
            return vec![self.query(soql).await];
        }
        let mut answers = Vec::with_capacity(soqls.len());
        for chunk in soqls.chunks(COMPOSITE_COLLECTIONS_LIMIT) {
            let mut request = CompositeRequest::in_order();
            for (index, soql) in chunk.iter().enumerate() {
                request.push(Subrequest::query(format!("query{index}"), soql));
            }
            match self.composite(&request).await {
                Ok(responses) => {
                    for response in responses {
                        answers.push(match response.error() {
                            Some(error) => Err(error),
                            None => self.all_pages(response.body).await,
                        });
                    }
                }
                Err(error) => answers.extend(chunk.iter().map(|_| Err(error.clone()))),
            }
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(reference: &str) -> Subrequest {
        Subrequest::upsert_collection(reference, "A__c", "Ext__c", &[Map::new()])
    }

    #[test]
    fn collections_and_queries_count_towards_their_own_limit() {
        assert!(upsert("a").is_collection_or_query());
        assert!(Subrequest::query("q", "SELECT Id FROM A__c").is_collection_or_query());
        let single = Subrequest {
            method: Method::PATCH,
            path: "/sobjects/A__c/Ext__c/x".into(),
            reference_id: "s".into(),
            body: None,
        };
        assert!(!single.is_collection_or_query());
        let mut request = CompositeRequest::in_order();
        for i in 0..COMPOSITE_COLLECTIONS_LIMIT {
            assert!(request.has_room_for(&upsert(&i.to_string())));
            request.push(upsert(&i.to_string()));
        }
        assert!(!request.has_room_for(&upsert("x")));
        assert!(request.has_room_for(&single));
        assert!(request.check().is_ok());
        request.push(upsert("x"));
        assert!(request.check().is_err());
    }

    #[test]
    fn responses_come_back_in_request_order() {
        let sent = [upsert("a"), upsert("b")];
        let body = r#"{"compositeResponse":[
            {"referenceId":"b","httpStatusCode":400,"body":[{"errorCode":"PROCESSING_HALTED","message":"m"}],"httpHeaders":{}},
            {"referenceId":"a","httpStatusCode":200,"body":[{"id":"a01","success":true,"errors":[],"created":true}],"httpHeaders":{}}]}"#;
        let responses = parse_responses(body, &sent).unwrap();
        assert_eq!(responses[0].reference_id, "a");
        let outcomes = responses[0].record_outcomes(1).unwrap();
        assert!(outcomes[0].is_success() && outcomes[0].created);
        let error = responses[1].record_outcomes(1).unwrap_err();
        assert_eq!(error.code(), Some("PROCESSING_HALTED"));
    }

    #[test]
    fn a_limit_error_fails_every_subrequest() {
        let sent = [upsert("a")];
        let body = r#"{"compositeResponse":[{"referenceId":null,"httpStatusCode":400,"httpHeaders":{},
            "body":[{"errorCode":"LIMIT_EXCEEDED","message":"The request can't contain more than 25 operations."}]}]}"#;
        let error = parse_responses(body, &sent).unwrap_err();
        assert_eq!(error.code(), Some("LIMIT_EXCEEDED"));
    }
}
