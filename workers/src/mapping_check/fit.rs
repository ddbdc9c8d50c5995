//! Whether a value a mapping writes fits a field, decided from the field's metadata alone:
//! the pure rules of the mapping check, one function per question so each is tested alone.
//! An `Err` is the problem in words; notes are risks worth a warning that do not stop a
//! worker.

use salesforce_metadata::{FieldMeta, FieldType};
use serde_json::Value;

use crate::mapping::inspect::ValueView;

/// Decimals nearly every currency has (USD, EUR, ...): a money field needs at least these.
const COMMON_DECIMALS: u32 = 2;

/// Digits of the largest amount Stripe accepts, in minor units (docs/stripe-webhooks.md §7).
const AMOUNT_DIGITS: u32 = 8;

/// What a field can hold, for messages.
fn holds(field: &FieldMeta) -> String {
    format!("{} is a {} field", field.name, field.kind.api_name())
}

/// Checks `value` against a field written as a plain value (not through a lookup).
/// `max_exponent` is the most decimals a currency can have under this mapping.
pub(crate) fn value_fits(
    field: &FieldMeta,
    value: &ValueView,
    max_exponent: u32,
) -> Result<Vec<String>, String> {
    let kind = &field.kind;
    match value {
        ValueView::Fixed(values) => {
            for value in values {
                fixed_fits(field, value)?;
            }
            Ok(Vec::new())
        }
        ValueView::Money if kind.is_numeric() => Ok(money_notes(field, max_exponent)?),
        ValueView::Number if kind.is_numeric() => Ok(Vec::new()),
        ValueView::DateTime if *kind == FieldType::DateTime => Ok(Vec::new()),
        ValueView::Date if *kind == FieldType::Date => Ok(Vec::new()),
        ValueView::Boolean if *kind == FieldType::Checkbox => Ok(Vec::new()),
        ValueView::Text
            if kind.is_text() || *kind == FieldType::Picklist || kind.is_reference() =>
        {
            Ok(Vec::new())
        }
        ValueView::Raw => match kind {
            FieldType::Date | FieldType::DateTime => Err(format!(
                "{}: Stripe sends times as Unix seconds; use transform \"{}\"",
                holds(field),
                if *kind == FieldType::Date {
                    "date"
                } else {
                    "datetime"
                }
            )),
            _ => Ok(Vec::new()),
        },
        ValueView::Money => Err(format!(
            "{}: money needs a Currency, Number or Percent field",
            holds(field)
        )),
        ValueView::Number => Err(format!(
            "{}: a number needs a Number, Currency or Percent field",
            holds(field)
        )),
        ValueView::DateTime => Err(format!(
            "{}: transform \"datetime\" needs a DateTime field",
            holds(field)
        )),
        ValueView::Date => Err(format!(
            "{}: transform \"date\" needs a Date field",
            holds(field)
        )),
        ValueView::Boolean => Err(format!(
            "{}: transform \"bool\" needs a Checkbox field",
            holds(field)
        )),
        ValueView::Text => Err(format!(
            "{}: text needs a text, picklist or lookup field",
            holds(field)
        )),
    }
}

/// One fixed value (a `constant`, a `value_map` output or a `default`) against the field.
pub(crate) fn fixed_fits(field: &FieldMeta, value: &Value) -> Result<(), String> {
    let kind = &field.kind;
    match value {
        Value::Null if field.is_required() => {
            Err(format!("{} is required: it cannot be cleared", field.name))
        }
        Value::Null => Ok(()),
        Value::String(text) if *kind == FieldType::Picklist => match &field.picklist {
            Some(picklist)
                if picklist.restricted && !picklist.values.iter().any(|value| value == text) =>
            {
                Err(format!(
                    "{text:?} is not a value of the restricted picklist {} ({})",
                    field.name,
                    picklist.values.join(", ")
                ))
            }
            _ => Ok(()),
        },
        Value::String(text) if kind.is_text() || kind.is_reference() => match field.max_length() {
            Some(limit) if text.chars().count() > limit => Err(format!(
                "{text:?} is longer than {}'s {limit} characters",
                field.name
            )),
            _ => Ok(()),
        },
        Value::Number(_) if kind.is_numeric() || kind.is_text() => Ok(()),
        Value::Bool(_) if *kind == FieldType::Checkbox || kind.is_text() => Ok(()),
        other => Err(format!("{}: {other} cannot be written to it", holds(field))),
    }
}

/// Money into a numeric field: room for the decimals (an error below two, a note below the
/// currency with the most) and for Stripe's largest amounts.
fn money_notes(field: &FieldMeta, max_exponent: u32) -> Result<Vec<String>, String> {
    let scale = field.scale.unwrap_or(0);
    let precision = field.precision.unwrap_or(18);
    if scale < COMMON_DECIMALS {
        return Err(format!(
            "{} has scale {scale}: amounts in two-decimal currencies (USD, EUR, ...) would be \
             rounded; money needs a scale of at least {COMMON_DECIMALS}",
            field.name
        ));
    }
    let mut notes = Vec::new();
    if scale < max_exponent {
        notes.push(format!(
            "{} has scale {scale}: amounts in currencies with {max_exponent} decimals (KWD, BHD, \
             JOD, OMR, TND) are rounded to {scale}",
            field.name
        ));
    }
    if precision.saturating_sub(scale) < AMOUNT_DIGITS {
        notes.push(format!(
            "{} has {} digits before the point: Stripe amounts of up to {AMOUNT_DIGITS} digits \
             may not fit",
            field.name,
            precision.saturating_sub(scale)
        ));
    }
    Ok(notes)
}

/// A mapping's `max_length` against the field's own length.
pub(crate) fn max_length_fits(field: &FieldMeta, max_length: Option<usize>) -> Result<(), String> {
    match (max_length, field.max_length()) {
        (Some(cut), Some(limit)) if cut > limit => Err(format!(
            "max_length {cut} is more than {}'s {limit} characters: longer values would be refused",
            field.name
        )),
        _ => Ok(()),
    }
}

/// A field set through `lookup`: a lookup whose relationship is the one named.
pub(crate) fn lookup_fits(field: &FieldMeta, relationship: &str) -> Result<(), String> {
    if !field.kind.is_reference() {
        return Err(format!(
            "{}: `lookup` needs a Lookup or MasterDetail field",
            holds(field)
        ));
    }
    match field.relationship_name() {
        Some(name) if name.eq_ignore_ascii_case(relationship) => Ok(()),
        Some(name) => Err(format!(
            "the relationship of {} is {name}, not {relationship}",
            field.name
        )),
        None => Err(format!(
            "{} has no relationship name the mapping can use",
            field.name
        )),
    }
}

/// A field a record is matched on by upsert (a target's `external_id`, a lookup's
/// `external_id_field`).
pub(crate) fn is_match_key(field: &FieldMeta) -> Result<(), String> {
    if field.external_id || field.id_lookup {
        Ok(())
    } else {
        Err(format!("{} is not an External ID", field.name))
    }
}
