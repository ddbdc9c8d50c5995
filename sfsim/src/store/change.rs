//! What a committed transaction changed, record by record, in the order it happened: the
//! raw material of Change Data Capture events. The store only collects them; which objects
//! publish events and how they are encoded is `crate::pubsub`'s business.

use std::collections::BTreeMap;

use serde_json::Value;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Inserted.
    Create,
    /// Updated.
    Update,
    /// Deleted.
    Delete,
    /// Restored from the recycle bin (no write path does this yet).
    Undelete,
}

/// One record's change in a transaction.
#[derive(Debug, Clone)]
pub struct Change {
    /// Object API name, e.g. `Contact`.
    pub object: String,
    /// 18-character record id.
    pub id: String,
    /// Insert, update, delete or undelete.
    pub kind: ChangeKind,
    /// For a create every non-null field; for an update the fields whose value changed,
    /// `Null` for a field set to null; empty for a delete.
    pub values: BTreeMap<String, Value>,
}
