//! Writing records: the one place that decides what an insert, update, upsert or delete
//! does to the org, shared by single-record REST, sObject Collections and Bulk jobs so the
//! three APIs cannot drift apart: field checks, validation rules (`rules`), required and
//! unique values, then the store.
//!
//! A batch runs under the store lock. Each operation is validated completely before it
//! touches the store, so with `allOrNone:false` a failed record changes nothing; with
//! `allOrNone:true` the batch's transaction is rolled back and every healthy record reports
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK` (docs/salesforce-api.md §4.1).

use std::collections::BTreeMap;
use std::sync::Arc;

mod checks;
mod rules;
mod target;
mod write;

use parking_lot::Mutex;
use serde_json::Value;

use crate::clock;
use crate::error::RecordError;
use crate::ids::IdGenerator;
use crate::pubsub::bus::EventBus;
use crate::schema::{ObjectDef, Schema};
use crate::store::change::{Change, ChangeKind};
use crate::store::history::WriteEntry;
use crate::store::{Db, Txn};
use checks::lock_fault;
use target::{existing_id, upsert};
use write::write;

/// A lookup set through the parent's external id: `"Parent__r": {"Ext__c": "v"}` (§3.4).
#[derive(Debug, Clone)]
pub struct ParentRef {
    /// The lookup field being set, e.g. `Stripe_Customer__c`.
    pub lookup_field: String,
    /// The parent object.
    pub parent_object: String,
    /// The parent's match field.
    pub key_field: String,
    /// The value to find.
    pub key: String,
}

/// One record's input after parsing: converted values, parent references, and any
/// per-record problem found while reading it.
#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    /// Values by canonical field API name (converted, not yet validated).
    pub values: Vec<(String, Value)>,
    /// Lookups to resolve through parents' external ids.
    pub parent_refs: Vec<ParentRef>,
    /// A failure already known before the store is consulted (e.g. a bad Bulk cell).
    pub deferred_error: Option<RecordError>,
}

/// One write a client asked for, as `apply_batch` takes it from any of the three APIs.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create a record.
    Insert {
        /// Object.
        object: Arc<ObjectDef>,
        /// Values.
        input: RecordInput,
    },
    /// Change a record found by id.
    Update {
        /// Object.
        object: Arc<ObjectDef>,
        /// Id as sent (15 or 18 characters, or garbage).
        id: String,
        /// Values.
        input: RecordInput,
    },
    /// Insert or update by a match field (external id, idLookup field or `Id`).
    Upsert {
        /// Object.
        object: Arc<ObjectDef>,
        /// Canonical name of the match field.
        key_field: String,
        /// The match value.
        key: String,
        /// Values.
        input: RecordInput,
    },
    /// Delete a record by id.
    Delete {
        /// Object.
        object: Arc<ObjectDef>,
        /// Id as sent.
        id: String,
    },
    /// Rejected before reaching the store (e.g. a duplicate key within one request).
    Rejected(RecordError),
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// A record-level error.
    Record(RecordError),
    /// The match key found several records (REST single upsert answers 300).
    MultipleMatches(Vec<String>),
}

/// The result of one operation, in request order.
#[derive(Debug, Clone)]
pub struct OpResult {
    /// The record's id, when known (also on some failures, §4.1).
    pub id: Option<String>,
    /// Whether the record was (or would have been) inserted.
    pub created: bool,
    /// Success, or why not.
    pub outcome: Result<(), OpError>,
}

/// Who is writing, for ids, history and fault injection.
pub struct WriteContext<'a> {
    /// The org's schema.
    pub schema: &'a Schema,
    /// Id source.
    pub ids: &'a IdGenerator,
    /// The HTTP request (or Bulk job) doing the write.
    pub request_id: &'a str,
    /// The API call name recorded in history.
    pub api: &'a str,
    /// Share of records that fail with `UNABLE_TO_LOCK_ROW` (fault injection).
    pub lock_row_rate: f64,
    /// Where committed changes become change events; appended while the caller still
    /// holds the store lock, so event order is commit order.
    pub events: &'a EventBus,
    /// The user making the write: the change events' `commitUser`.
    pub user_id: &'a str,
    /// The enclosing transaction of an all-or-none Composite request, if any: a batch that
    /// succeeds is added to it instead of committed; the Composite handler commits or rolls
    /// back the whole.
    pub enclosing: Option<&'a Mutex<Txn>>,
}

/// The time of a write batch, read once: every record of a batch gets the same stamp,
/// as records of one Salesforce transaction do.
struct Stamp {
    ms: i64,
    text: String,
}

/// Applies `ops` in order; see the module documentation for the all-or-none rules.
pub fn apply_batch(
    db: &mut Db,
    ctx: &WriteContext<'_>,
    ops: Vec<WriteOp>,
    all_or_none: bool,
) -> Vec<OpResult> {
    let mut txn = Txn::default();
    let ms = clock::now_ms();
    let stamp = Stamp {
        ms,
        text: clock::format_datetime(ms),
    };
    let results: Vec<OpResult> = ops
        .into_iter()
        .map(|op| apply_one(db, &mut txn, ctx, &stamp, op))
        .collect();
    let any_failed = results.iter().any(|result| result.outcome.is_err());
    if !(all_or_none && any_failed) {
        if let Some(enclosing) = ctx.enclosing {
            enclosing.lock().absorb(txn);
            return results;
        }
        let changes = db.commit(txn);
        ctx.events.publish(changes, ms, ctx.user_id);
        return results;
    }
    db.rollback(txn, |name| ctx.schema.object(name).cloned());
    results
        .into_iter()
        .map(|result| {
            let outcome = match result.outcome {
                Ok(()) => Err(OpError::Record(RecordError::new(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "Record rolled back because not all records were valid and the request was using AllOrNone header",
                    Vec::new(),
                ))),
                failed => failed,
            };
            OpResult {
                // Records that matched existing ones keep their id (§4.1).
                id: if result.created { None } else { result.id },
                created: result.created,
                outcome,
            }
        })
        .collect()
}

/// A failed result.
fn failure(id: Option<String>, created: bool, error: RecordError) -> OpResult {
    OpResult {
        id,
        created,
        outcome: Err(OpError::Record(error)),
    }
}

fn apply_one(
    db: &mut Db,
    txn: &mut Txn,
    ctx: &WriteContext<'_>,
    stamp: &Stamp,
    op: WriteOp,
) -> OpResult {
    match op {
        WriteOp::Rejected(error) => failure(None, false, error),
        WriteOp::Insert { object, input } => finish(
            write(db, txn, ctx, stamp, &object, None, &input, None),
            None,
            true,
        ),
        WriteOp::Update { object, id, input } => match existing_id(db, &object, &id) {
            Ok(id) => finish(
                write(db, txn, ctx, stamp, &object, Some(&id), &input, None),
                Some(id),
                false,
            ),
            Err(error) => failure(None, false, error),
        },
        WriteOp::Upsert {
            object,
            key_field,
            key,
            input,
        } => upsert(db, txn, ctx, stamp, &object, &key_field, &key, &input),
        WriteOp::Delete { object, id } => match existing_id(db, &object, &id) {
            Ok(id) => {
                if let Err(error) = lock_fault(ctx, &id) {
                    return failure(Some(id), false, error);
                }
                db.remove(txn, &object, &id);
                let entry =
                    WriteEntry::at(stamp.ms, ctx.request_id, ctx.api, "delete", BTreeMap::new());
                db.record_history(txn, &id, entry);
                if ctx.events.publishes(&object.name) {
                    let change = Change {
                        object: object.name.clone(),
                        id: id.clone(),
                        kind: ChangeKind::Delete,
                        values: BTreeMap::new(),
                    };
                    db.record_change(txn, change);
                }
                OpResult {
                    id: Some(id),
                    created: false,
                    outcome: Ok(()),
                }
            }
            Err(error) => failure(None, false, error),
        },
    }
}

/// The result of a write that returned the record's id or an error.
fn finish(result: Result<String, RecordError>, id: Option<String>, created: bool) -> OpResult {
    match result {
        Ok(id) => OpResult {
            id: Some(id),
            created,
            outcome: Ok(()),
        },
        Err(error) => failure(id, created, error),
    }
}
