//! Validating and storing one insert or update: field access and conversion, an external id
//! repeated in the body, parent lookups by external id, required fields, validation rules,
//! unique values, injected lock failures, then the system fields (`Id`, dates, auto-number
//! and full `Name`) and the write history entry.

use std::collections::BTreeMap;

use serde_json::Value;

use super::checks::{check_lookups, check_required, check_unique, lock_fault, resolve_parent};
use super::rules::check_rules;
use super::{RecordInput, Stamp, WriteContext};
use crate::error::RecordError;
use crate::schema::{NameKind, ObjectDef};
use crate::store::change::{Change, ChangeKind};
use crate::store::history::WriteEntry;
use crate::store::{match_key, Db, Record, Txn};
use crate::values;

/// Validates and stores one insert (`existing` is `None`) or update. Returns the id.
#[expect(
    clippy::too_many_arguments,
    reason = "the batch state (store, transaction, context, stamp) plus what one write names"
)]
pub(super) fn write(
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
    // The stored version, for PRIORVALUE and ISCHANGED; copied only when rules need it.
    let enforces_rules = !object.validation_rules.is_empty();
    let prior = (enforces_rules && !creating).then(|| record.clone());
    // Fields whose stored value really changes: what an UPDATE change event carries.
    let mut changed = BTreeMap::new();
    for (name, value) in &changes {
        let old = record.fields.insert(name.clone(), value.clone());
        if old.unwrap_or(Value::Null) != *value {
            changed.insert(name.clone(), value.clone());
        }
    }
    check_required(object, &record)?;
    if enforces_rules {
        check_rules(object, prior.as_ref(), &record)?;
    }
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
    let change = if !ctx.events.publishes(&object.name) {
        None
    } else if creating {
        let mut values = record.fields.clone();
        values.retain(|name, value| name != "Id" && !value.is_null());
        Some(Change {
            object: object.name.clone(),
            id: id.clone(),
            kind: ChangeKind::Create,
            values,
        })
    } else {
        for system in ["LastModifiedDate", "SystemModstamp"] {
            if let Some(value) = record.fields.get(system) {
                changed.insert(system.to_string(), value.clone());
            }
        }
        Some(Change {
            object: object.name.clone(),
            id: id.clone(),
            kind: ChangeKind::Update,
            values: changed,
        })
    };
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
    if let Some(change) = change {
        db.record_change(txn, change);
    }
    Ok(id)
}
