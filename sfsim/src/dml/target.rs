//! Finding the record an update, upsert or delete is about: ids as clients send them (15 or
//! 18 characters, or garbage), upserts by a match field with their 0 / 1 / several-match
//! outcomes, and the error Salesforce gives for an id that matches nothing.

use serde_json::Value;

use super::write::write;
use super::{failure, finish, OpError, OpResult, RecordInput, Stamp, WriteContext};
use crate::error::RecordError;
use crate::ids;
use crate::schema::ObjectDef;
use crate::store::{Db, Txn};

/// Inserts or updates by a match field: no match inserts (except by `Id`, which must
/// exist), one match is updated, several fail with their ids (REST answers 300).
#[expect(
    clippy::too_many_arguments,
    reason = "the batch state (store, transaction, context, stamp) plus what one upsert names"
)]
pub(super) fn upsert(
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

/// The error for an id that names no live record of `object`.
pub(super) fn not_found_id(object: &ObjectDef, id: &str, db: &Db) -> RecordError {
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
pub(super) fn existing_id(db: &Db, object: &ObjectDef, id: &str) -> Result<String, RecordError> {
    match ids::normalize(id) {
        Some(canonical) if db.get(&object.name, &canonical).is_some() => Ok(canonical),
        _ => Err(not_found_id(object, id, db)),
    }
}
