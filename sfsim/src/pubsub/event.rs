//! A change event as the event bus keeps it, before Avro encoding: the `ChangeEventHeader`
//! facts plus the changed field values. Encoding happens per delivery (`avro`), outside the
//! store lock.

use std::collections::BTreeMap;

use serde_json::Value;

/// `ChangeEventHeader.changeType`, in the order of the Avro enum's symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    /// A record was created.
    Create,
    /// A record was deleted.
    Delete,
    /// Gap: records were created but the change could not be captured in detail.
    GapCreate,
    /// Gap: records were deleted.
    GapDelete,
    /// A transaction changed too many records (over 100,000) for individual events.
    GapOverflow,
    /// Gap: records were undeleted.
    GapUndelete,
    /// Gap: records were updated.
    GapUpdate,
    /// A record was restored from the recycle bin.
    Undelete,
    /// A record was updated.
    Update,
}

impl ChangeType {
    /// Every symbol, in the Avro enum's order (the index is what Avro encodes).
    pub const ALL: [ChangeType; 9] = [
        Self::Create,
        Self::Delete,
        Self::GapCreate,
        Self::GapDelete,
        Self::GapOverflow,
        Self::GapUndelete,
        Self::GapUpdate,
        Self::Undelete,
        Self::Update,
    ];

    /// The symbol, e.g. `GAP_UPDATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Delete => "DELETE",
            Self::GapCreate => "GAP_CREATE",
            Self::GapDelete => "GAP_DELETE",
            Self::GapOverflow => "GAP_OVERFLOW",
            Self::GapUndelete => "GAP_UNDELETE",
            Self::GapUpdate => "GAP_UPDATE",
            Self::Undelete => "UNDELETE",
            Self::Update => "UPDATE",
        }
    }

    /// Position of the symbol in the Avro enum.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// Whether this is a gap or overflow event (header only; clients re-read records).
    pub fn is_gap(self) -> bool {
        self.as_str().starts_with("GAP_")
    }
}

/// One change event on the bus.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// Object API name (`entityName`).
    pub entity: String,
    /// Ids of the records it concerns (`recordIds`).
    pub record_ids: Vec<String>,
    /// What happened.
    pub change_type: ChangeType,
    /// `changeOrigin`.
    pub change_origin: String,
    /// `transactionKey`: the same for every event of one transaction.
    pub transaction_key: String,
    /// `sequenceNumber`: position of the change within its transaction, from 1.
    pub sequence_number: i32,
    /// `commitTimestamp`, epoch milliseconds.
    pub commit_timestamp: i64,
    /// `commitNumber`: grows with every committed transaction.
    pub commit_number: i64,
    /// `commitUser`: id of the user who committed.
    pub commit_user: String,
    /// Field values: every non-null field for CREATE, the changed ones (Null when nulled)
    /// for UPDATE, none for DELETE and gap events.
    pub values: BTreeMap<String, Value>,
}
