//! What Salesforce answered for one record of an upsert or a Collections call (its
//! `UpsertResult` / `SaveResult`): the id, whether it was created, and its errors.

use serde_json::Value;

use crate::error::{api_error_from_json, ApiError, FailureClass};

/// The outcome of one record in an upsert: what Salesforce answered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    /// The record id, when known.
    pub id: Option<String>,
    /// True when the upsert created the record.
    pub created: bool,
    /// Empty on success.
    pub errors: Vec<ApiError>,
}

impl RecordOutcome {
    /// True if the record was written.
    pub fn is_success(&self) -> bool {
        self.errors.is_empty()
    }

    /// The class of the first error (None on success).
    pub fn failure_class(&self) -> Option<FailureClass> {
        self.errors
            .first()
            .map(|error| crate::error::classify(0, &error.code, &error.message))
    }
}

/// Reads an UpsertResult / SaveResult object.
pub(crate) fn record_outcome(value: &Value, created_by_status: bool) -> RecordOutcome {
    let errors: Vec<ApiError> = value
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| errors.iter().map(api_error_from_json).collect())
        .unwrap_or_default();
    let success = value
        .get("success")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let errors: Vec<ApiError> = if success {
        Vec::new()
    } else if errors.is_empty() {
        vec![ApiError {
            code: "UNKNOWN".into(),
            message: "Salesforce reported no success and no error".into(),
            fields: Vec::new(),
        }]
    } else {
        errors
    };
    RecordOutcome {
        id: value.get("id").and_then(Value::as_str).map(str::to_owned),
        created: value
            .get("created")
            .and_then(Value::as_bool)
            .unwrap_or(created_by_status),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn record_outcomes_read_collections_items() {
        let ok = record_outcome(
            &json!({"id":"a01","success":true,"errors":[],"created":true}),
            false,
        );
        assert!(ok.is_success() && ok.created);
        let failed = record_outcome(
            &json!({"success":false,"created":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"x","fields":[]}]}),
            false,
        );
        assert_eq!(failed.failure_class(), Some(FailureClass::Retryable));
        let invalid = record_outcome(
            &json!({"success":false,"errors":[{"statusCode":"STRING_TOO_LONG","message":"x","fields":["Name__c"]}]}),
            false,
        );
        assert_eq!(invalid.failure_class(), Some(FailureClass::Permanent));
        assert_eq!(invalid.errors[0].fields, vec!["Name__c"]);
    }
}
