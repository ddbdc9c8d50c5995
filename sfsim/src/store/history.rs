//! The write history of records: who wrote what, when, through which API call. This is
//! what tests assert on to prove "newest wins" and "exactly once" against the org.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::clock;

/// One committed write to one record.
#[derive(Debug, Clone, Serialize)]
pub struct WriteEntry {
    /// When it was committed (epoch milliseconds).
    pub at_ms: i64,
    /// The same instant in Salesforce's DateTime format.
    pub at: String,
    /// The simulator's id of the HTTP request (also sent back as `X-Sfsim-Request-Id`).
    pub request_id: String,
    /// The API call that wrote it, e.g. `sobject.upsert`, `collections.upsert`, `bulk.job`.
    pub api: String,
    /// `insert`, `update` or `delete`.
    pub operation: &'static str,
    /// The field values this write set (after conversion), by API name.
    pub fields: BTreeMap<String, Value>,
}

impl WriteEntry {
    /// An entry stamped at `at_ms` (one clock reading per write batch).
    pub fn at(
        at_ms: i64,
        request_id: &str,
        api: &str,
        operation: &'static str,
        fields: BTreeMap<String, Value>,
    ) -> Self {
        Self {
            at_ms,
            at: clock::format_datetime(at_ms),
            request_id: request_id.to_string(),
            api: api.to_string(),
            operation,
            fields,
        }
    }
}
