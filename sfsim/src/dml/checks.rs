//! The record-level checks of a write, each with Salesforce's error code and wording:
//! parent references (docs/salesforce-api.md §3.4), lookup ids, required fields, unique values,
//! and the injected `UNABLE_TO_LOCK_ROW` (§2.7).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ParentRef, WriteContext};
use crate::error::RecordError;
use crate::ids;
use crate::schema::{FieldKind, ObjectDef, Schema};
use crate::store::{Db, Record};
use crate::values;

/// Fails a share of writes with `UNABLE_TO_LOCK_ROW` when that fault is configured.
pub(super) fn lock_fault(ctx: &WriteContext<'_>, id: &str) -> Result<(), RecordError> {
    if ctx.lock_row_rate > 0.0 && rand::random::<f64>() < ctx.lock_row_rate {
        return Err(RecordError::new(
            "UNABLE_TO_LOCK_ROW",
            format!("unable to obtain exclusive access to this record or 1 records: {id}"),
            Vec::new(),
        ));
    }
    Ok(())
}

/// Finds the parent named by an external-id reference.
pub(super) fn resolve_parent(
    db: &Db,
    schema: &Schema,
    parent: &ParentRef,
) -> Result<String, RecordError> {
    let Some(parent_object) = schema.object(&parent.parent_object) else {
        return Err(RecordError::new(
            "INVALID_FIELD",
            format!(
                "Foreign key external ID: {} not found for field {} in entity {}",
                parent.key, parent.key_field, parent.parent_object
            ),
            Vec::new(),
        ));
    };
    let key_field = parent_object.field(&parent.key_field);
    let matches = key_field
        .map(|field| db.find_by(&parent_object.name, field, &parent.key))
        .unwrap_or_default();
    match matches.as_slice() {
        [id] => Ok(id.clone()),
        // Wording from docs/salesforce-api.md §3.4 (marked unverified there).
        [] => Err(RecordError::new(
            "INVALID_FIELD",
            format!("Foreign key external ID: {} not found for field {} in entity {}", parent.key, parent.key_field, parent_object.name),
            Vec::new(),
        )),
        _ => Err(RecordError::new(
            "MULTIPLE_RECORDS_FOUND",
            format!("Foreign key external ID: {} matched more than one record for field {} in entity {}", parent.key, parent.key_field, parent_object.name),
            Vec::new(),
        )),
    }
}

/// Lookup fields set by id must hold a well-formed id of the right object that exists.
pub(super) fn check_lookups(
    db: &Db,
    schema: &Schema,
    object: &ObjectDef,
    changes: &mut BTreeMap<String, Value>,
) -> Result<(), RecordError> {
    for (name, value) in changes.iter_mut() {
        let Some(field) = object.field(name) else {
            continue;
        };
        if field.kind != FieldKind::Lookup || value.is_null() {
            continue;
        }
        let text = values::as_text(value);
        let fields = vec![field.name.clone()];
        let Some(id) = ids::normalize(&text) else {
            return Err(RecordError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {text}", field.label),
                fields,
            ));
        };
        let target = field
            .reference_to
            .as_deref()
            .and_then(|name| schema.object(name));
        let Some(target) = target.filter(|target| id.starts_with(&target.key_prefix)) else {
            return Err(RecordError::new(
                "FIELD_INTEGRITY_EXCEPTION",
                format!("{}: id value of incorrect type: {text}", field.label),
                fields,
            ));
        };
        if db.get(&target.name, &id).is_none() {
            return Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                Vec::new(),
            ));
        }
        *value = Value::String(id);
    }
    Ok(())
}

/// `REQUIRED_FIELD_MISSING` when a required field is unset after the write.
pub(super) fn check_required(object: &ObjectDef, record: &Record) -> Result<(), RecordError> {
    let missing: Vec<String> = object
        .required_fields()
        .filter(|field| record.fields.get(&field.name).is_none_or(Value::is_null))
        .map(|field| field.name.clone())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(RecordError::new(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", missing.join(", ")),
        missing,
    ))
}

/// `DUPLICATE_VALUE` when a unique field's new value is held by another record.
pub(super) fn check_unique(
    db: &Db,
    object: &ObjectDef,
    record: &Record,
    changes: &BTreeMap<String, Value>,
) -> Result<(), RecordError> {
    for (name, value) in changes {
        let Some(field) = object.field(name).filter(|field| field.unique) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let holders = db.find_by(&object.name, field, &values::as_text(value));
        if let Some(other) = holders.iter().find(|id| **id != record.id) {
            return Err(RecordError::new(
                "DUPLICATE_VALUE",
                format!(
                    "duplicate value found: {} duplicates value on record with id: {other}",
                    field.name
                ),
                Vec::new(),
            ));
        }
    }
    Ok(())
}
