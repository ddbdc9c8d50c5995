//! Writing records: the one place that decides what an insert, update, upsert or delete
//! does to the org, shared by single-record REST, sObject Collections and Bulk jobs so the
//! three APIs cannot drift apart.
//!
//! A batch runs under the store lock. Each operation is validated completely before it
//! touches the store, so with `allOrNone:false` a failed record changes nothing; with
//! `allOrNone:true` the batch's transaction is rolled back and every healthy record reports
//! `ALL_OR_NONE_OPERATION_ROLLED_BACK` (docs/salesforce-api.md §4.1).

use std::collections::BTreeMap;
use std::sync::Arc;

mod checks;

use serde_json::Value;

use crate::clock;
use crate::error::RecordError;
use crate::ids::{self, IdGenerator};
use crate::schema::{NameKind, ObjectDef, Schema};
use crate::store::history::WriteEntry;
use crate::store::{match_key, Db, Record, Txn};
use crate::values;
use checks::{check_lookups, check_required, check_unique, lock_fault, resolve_parent};

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

/// One write.
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
        db.commit(txn);
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

#[allow(clippy::too_many_arguments)]
fn upsert(
    db: &mut Db,
    txn: &mut Txn,
    ctx: &WriteContext<'_>,
    stamp: &Stamp,
    object: &ObjectDef,
    key_field: &str,
    key: &str,
    input: &RecordInput,
) -> OpResult {
    let Some(field) = object.field(key_field) else {
        return failure(
            None,
            false,
            RecordError::new(
                "INVALID_FIELD",
                format!(
                    "No such column '{key_field}' on sobject of type {}",
                    object.name
                ),
                Vec::new(),
            ),
        );
    };
    if key.is_empty() {
        if field.name == "Id" {
            return finish(
                write(db, txn, ctx, stamp, object, None, input, None),
                None,
                true,
            );
        }
        return failure(
            None,
            true,
            RecordError::new(
                "MISSING_ARGUMENT",
                format!("{} not specified", field.name),
                Vec::new(),
            ),
        );
    }
    let matches = db.find_by(&object.name, field, key);
    match matches.as_slice() {
        [] if field.name == "Id" => failure(None, false, not_found_id(object, key, db)),
        [] => {
            let forced = (field.name.clone(), Value::String(key.to_string()));
            finish(
                write(db, txn, ctx, stamp, object, None, input, Some(forced)),
                None,
                true,
            )
        }
        [id] => {
            let id = id.clone();
            finish(
                write(db, txn, ctx, stamp, object, Some(&id), input, None),
                Some(id),
                false,
            )
        }
        _ => OpResult {
            id: None,
            created: false,
            outcome: Err(OpError::MultipleMatches(matches)),
        },
    }
}

fn not_found_id(object: &ObjectDef, id: &str, db: &Db) -> RecordError {
    match ids::normalize(id) {
        Some(id) if id.starts_with(&object.key_prefix) && db.was_deleted(&id) => {
            RecordError::new("ENTITY_IS_DELETED", "entity is deleted", Vec::new())
        }
        Some(id) if id.starts_with(&object.key_prefix) => RecordError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            Vec::new(),
        ),
        _ => RecordError::new(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {id}", object.label),
            vec!["Id".to_string()],
        ),
    }
}

/// Resolves an id sent by a client to an existing record's canonical id.
fn existing_id(db: &Db, object: &ObjectDef, id: &str) -> Result<String, RecordError> {
    match ids::normalize(id) {
        Some(canonical) if db.get(&object.name, &canonical).is_some() => Ok(canonical),
        _ => Err(not_found_id(object, id, db)),
    }
}

/// Validates and stores one insert (`existing` is `None`) or update. Returns the id.
#[allow(clippy::too_many_arguments)]
fn write(
    db: &mut Db,
    txn: &mut Txn,
    ctx: &WriteContext<'_>,
    stamp: &Stamp,
    object: &ObjectDef,
    existing: Option<&str>,
    input: &RecordInput,
    forced: Option<(String, Value)>,
) -> Result<String, RecordError> {
    if let Some(error) = &input.deferred_error {
        return Err(error.clone());
    }
    let creating = existing.is_none();
    let mut changes = BTreeMap::new();
    let mut read_only = Vec::new();
    for (name, value) in &input.values {
        let Some(field) = object.field(name) else {
            return Err(RecordError::new(
                "INVALID_FIELD",
                format!("No such column '{name}' on sobject of type {}", object.name),
                Vec::new(),
            ));
        };
        if forced.as_ref().is_some_and(|(key, _)| key == &field.name) {
            // The external id also appears in the body: accepted when it is the same value
            // (a guess, docs/salesforce-api.md §3.3 / §10.3 leave it unverified).
            let same = forced.as_ref().is_some_and(|(_, key_value)| {
                match_key(field, &values::as_text(key_value))
                    == match_key(field, &values::as_text(value))
            });
            if !same {
                return Err(RecordError::new(
                    "INVALID_FIELD",
                    format!(
                        "The value of {} in the body does not match the external id in the URL",
                        field.name
                    ),
                    vec![field.name.clone()],
                ));
            }
            continue;
        }
        if (creating && !field.createable) || (!creating && !field.updateable) {
            read_only.push(field.name.clone());
            continue;
        }
        let value = if value.is_null() {
            Value::Null
        } else {
            values::validate(field, value.clone())?
        };
        changes.insert(field.name.clone(), value);
    }
    if !read_only.is_empty() {
        return Err(RecordError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", read_only.join(", ")),
            read_only,
        ));
    }
    if let Some((name, value)) = forced {
        if let Some(field) = object.field(&name) {
            changes.insert(field.name.clone(), values::validate(field, value)?);
        }
    }
    for parent in &input.parent_refs {
        let id = resolve_parent(db, ctx.schema, parent)?;
        changes.insert(parent.lookup_field.clone(), Value::String(id));
    }
    check_lookups(db, ctx.schema, object, &mut changes)?;

    let now = &stamp.text;
    let mut record = match existing {
        Some(id) => db.get(&object.name, id).cloned().ok_or_else(|| {
            RecordError::new("ENTITY_IS_DELETED", "entity is deleted", Vec::new())
        })?,
        None => Record {
            id: ctx.ids.next(&object.key_prefix),
            seq: 0,
            fields: BTreeMap::new(),
        },
    };
    for (name, value) in &changes {
        record.fields.insert(name.clone(), value.clone());
    }
    check_required(object, &record)?;
    check_unique(db, object, &record, &changes)?;
    lock_fault(ctx, &record.id)?;

    if creating {
        record
            .fields
            .insert("Id".into(), Value::String(record.id.clone()));
        record
            .fields
            .insert("CreatedDate".into(), Value::String(now.clone()));
        if let NameKind::AutoNumber { prefix, width } = &object.name_kind {
            let number = db.next_auto_number(&object.name);
            let name = Value::String(format!("{prefix}{number:0width$}"));
            record.fields.insert("Name".into(), name.clone());
            changes.insert("Name".into(), name);
        }
    }
    if object.name_kind == NameKind::FullName {
        let part = |name: &str| {
            record
                .fields
                .get(name)
                .map(values::as_text)
                .unwrap_or_default()
        };
        let full = format!("{} {}", part("FirstName"), part("LastName"))
            .trim()
            .to_string();
        record.fields.insert("Name".into(), Value::String(full));
    }
    record
        .fields
        .insert("LastModifiedDate".into(), Value::String(now.clone()));
    record
        .fields
        .insert("SystemModstamp".into(), Value::String(now.clone()));
    let id = record.id.clone();
    let operation = if creating { "insert" } else { "update" };
    if creating {
        db.insert(txn, object, record);
    } else {
        db.replace(txn, object, record);
    }
    db.record_history(
        txn,
        &id,
        WriteEntry::at(stamp.ms, ctx.request_id, ctx.api, operation, changes),
    );
    Ok(id)
}
