//! sObject Collections (docs/salesforce-api.md §4): upsert by external id, update by record
//! id and delete by record id, up to 200 records per call, `allOrNone` false so that each
//! record succeeds or fails on its own. One call whatever the number of records, which is
//! why the workers write through these rather than record by record.

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::{
    client::{encode_component, Body, SalesforceClient, COLLECTION_LIMIT},
    error::SalesforceError,
    record::{record_outcome, RecordOutcome},
};

impl SalesforceClient {
    /// Upserts up to 200 records of one sObject by external id in one call
    /// (`PATCH /composite/sobjects/{Object}/{Field}`), `allOrNone` false: each record
    /// succeeds or fails on its own. Outcomes are in request order.
    pub async fn upsert_collection(
        &self,
        sobject: &str,
        external_id_field: &str,
        records: &[Map<String, Value>],
    ) -> Result<Vec<RecordOutcome>, SalesforceError> {
        check_collection_size(records.len())?;
        let records: Vec<Value> = records
            .iter()
            .map(|fields| {
                let mut record = fields.clone();
                record.insert("attributes".into(), json!({ "type": sobject }));
                Value::Object(record)
            })
            .collect();
        let path = format!(
            "{}/composite/sobjects/{sobject}/{external_id_field}",
            self.data_path()
        );
        let body = json!({ "allOrNone": false, "records": records });
        let answer = self
            .call(Method::PATCH, &path, Some(Body::Json(body)))
            .await?;
        collection_outcomes(&answer.body, records.len())
    }

    /// Updates up to 200 records of one sObject by their Salesforce ids in one call
    /// (`PATCH /composite/sobjects`, docs/salesforce-api.md §4.2), `allOrNone` false: each
    /// record succeeds or fails on its own. `records` are (id, fields); outcomes are in
    /// request order.
    pub async fn update_collection(
        &self,
        sobject: &str,
        records: &[(String, Map<String, Value>)],
    ) -> Result<Vec<RecordOutcome>, SalesforceError> {
        let records: Vec<(&str, &str, &Map<String, Value>)> = records
            .iter()
            .map(|(id, fields)| (sobject, id.as_str(), fields))
            .collect();
        self.update_mixed_collection(&records).await
    }

    /// Updates up to 200 records by their Salesforce ids in one call, objects of several
    /// types mixed (`PATCH /composite/sobjects` takes each record's type from its
    /// `attributes`). `records` are (sObject, id, fields); outcomes are in request order.
    pub async fn update_mixed_collection(
        &self,
        records: &[(&str, &str, &Map<String, Value>)],
    ) -> Result<Vec<RecordOutcome>, SalesforceError> {
        check_collection_size(records.len())?;
        let body: Vec<Value> = records
            .iter()
            .map(|(sobject, id, fields)| {
                let mut record = (*fields).clone();
                record.insert("attributes".into(), json!({ "type": sobject }));
                record.insert("id".into(), Value::String((*id).to_owned()));
                Value::Object(record)
            })
            .collect();
        let path = format!("{}/composite/sobjects", self.data_path());
        let body = json!({ "allOrNone": false, "records": body });
        let answer = self
            .call(Method::PATCH, &path, Some(Body::Json(body)))
            .await?;
        collection_outcomes(&answer.body, records.len())
    }

    /// Deletes up to 200 records by id in one call
    /// (`DELETE /composite/sobjects?ids=...&allOrNone=false`, docs/salesforce-api.md §4.3):
    /// each record succeeds or fails on its own; outcomes are in request order.
    pub async fn delete_collection(
        &self,
        ids: &[String],
    ) -> Result<Vec<RecordOutcome>, SalesforceError> {
        check_collection_size(ids.len())?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let encoded: Vec<String> = ids.iter().map(|id| encode_component(id)).collect();
        let path = format!(
            "{}/composite/sobjects?ids={}&allOrNone=false",
            self.data_path(),
            encoded.join(",")
        );
        let answer = self.call(Method::DELETE, &path, None).await?;
        collection_outcomes(&answer.body, ids.len())
    }
}

/// Refuses more records than one Collections call takes.
fn check_collection_size(count: usize) -> Result<(), SalesforceError> {
    if count > COLLECTION_LIMIT {
        return Err(SalesforceError::Unexpected(format!(
            "{count} records given; a collection takes at most {COLLECTION_LIMIT}"
        )));
    }
    Ok(())
}

/// Reads a Collections answer: one result per record, in request order.
fn collection_outcomes(body: &str, expected: usize) -> Result<Vec<RecordOutcome>, SalesforceError> {
    let results: Vec<Value> = serde_json::from_str(body).map_err(|_| {
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
