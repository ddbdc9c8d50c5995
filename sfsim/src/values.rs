//! Field values: converting what a client sent (JSON or a CSV cell) into what the org
//! stores, and the per-field validation rules with Salesforce's error texts
//! (docs/salesforce-api.md §2.3, §7).
//!
//! Two kinds of failure exist, as in the real org: a value of the wrong JSON type cannot
//! even be deserialised (REST answers `JSON_PARSER_ERROR` for the whole request), while a
//! well-typed but invalid value fails only its record (`STRING_TOO_LONG`, ...).

use serde_json::{Number, Value};

use crate::clock;
use crate::error::RecordError;
use crate::schema::{FieldDef, FieldKind};

/// Converts a JSON body value. `Err` carries the `JSON_PARSER_ERROR` message.
pub fn from_json(field: &FieldDef, value: &Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = |wanted: &str| parser_message(wanted, value);
    match field.kind {
        FieldKind::Boolean => match value {
            Value::Bool(flag) => Ok(Value::Bool(*flag)),
            Value::String(text) => parse_bool(text)
                .map(Value::Bool)
                .ok_or_else(|| mismatch("boolean")),
            _ => Err(mismatch("boolean")),
        },
        kind if kind.is_numeric() => match value {
            Value::Number(number) => Ok(Value::Number(number.clone())),
            Value::String(text) => parse_number(text).ok_or_else(|| mismatch("double")),
            _ => Err(mismatch("double")),
        },
        FieldKind::Date => match value {
            Value::String(text) => clock::parse_date(text)
                .map(Value::String)
                .ok_or_else(|| mismatch("date")),
            _ => Err(mismatch("date")),
        },
        FieldKind::DateTime => match value {
            Value::String(text) => clock::parse_datetime(text)
                .map(|ms| Value::String(clock::format_datetime(ms)))
                .ok_or_else(|| mismatch("datetime")),
            _ => Err(mismatch("datetime")),
        },
        _ => match value {
            Value::String(text) if text.is_empty() => Ok(Value::Null),
            Value::String(text) => Ok(Value::String(text.clone())),
            Value::Number(number) => Ok(Value::String(number.to_string())),
            Value::Bool(flag) => Ok(Value::String(flag.to_string())),
            _ => Err(mismatch("string")),
        },
    }
}

/// Converts a Bulk CSV cell (already known not to be empty; `#N/A` means null).
pub fn from_csv(field: &FieldDef, cell: &str) -> Result<Value, RecordError> {
    if cell == "#N/A" {
        return Ok(Value::Null);
    }
    let wrong_type = || {
        RecordError::new(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            format!("{}: value not of required type: {cell}", field.label),
            vec![field.name.clone()],
        )
    };
    match field.kind {
        FieldKind::Boolean => parse_bool(cell).map(Value::Bool).ok_or_else(wrong_type),
        kind if kind.is_numeric() => parse_number(cell).ok_or_else(wrong_type),
        FieldKind::Date => clock::parse_date(cell)
            .map(Value::String)
            .ok_or_else(wrong_type),
        FieldKind::DateTime => clock::parse_datetime(cell)
            .map(|ms| Value::String(clock::format_datetime(ms)))
            .ok_or_else(wrong_type),
        _ => Ok(Value::String(cell.to_string())),
    }
}

/// Checks a converted, non-null value against the field's constraints and normalises
/// numbers to the field's scale.
pub fn validate(field: &FieldDef, value: Value) -> Result<Value, RecordError> {
    let fields = || vec![field.name.clone()];
    match (&value, field.kind) {
        (Value::Number(number), kind) if kind.is_numeric() => {
            let float = number.as_f64().unwrap_or(0.0);
            let integer_digits = field.precision.saturating_sub(field.scale);
            let bound = 10f64.powi(i32::try_from(integer_digits).unwrap_or(i32::MAX));
            if !float.is_finite() || float.abs() >= bound {
                return Err(RecordError::new(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    format!(
                        "{}: value outside of valid range on numeric field: {float:?}",
                        field.label
                    ),
                    fields(),
                ));
            }
            let factor = 10f64.powi(i32::try_from(field.scale).unwrap_or(0));
            let rounded = (float * factor).round() / factor;
            Ok(Number::from_f64(rounded).map_or(Value::Null, Value::Number))
        }
        (Value::String(text), _) => {
            if text.chars().count() > field.length {
                return Err(RecordError::new(
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {text} (max length={})",
                        field.label, field.length
                    ),
                    fields(),
                ));
            }
            if field.kind == FieldKind::Email && !is_valid_email(text) {
                return Err(RecordError::new(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {text}", field.label),
                    fields(),
                ));
            }
            if field.kind == FieldKind::Picklist
                && field.restricted
                && !field.picklist.iter().any(|allowed| allowed == text)
            {
                return Err(RecordError::new(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    format!(
                        "{}: bad value for restricted picklist field: {text}",
                        field.label
                    ),
                    fields(),
                ));
            }
            Ok(value)
        }
        _ => Ok(value),
    }
}

/// The text form of a value as used for external-id matching and CSV output.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parser_message(wanted: &str, value: &Value) -> String {
    let (token, shown) = match value {
        Value::String(text) => ("VALUE_STRING", text.clone()),
        Value::Number(number) if number.is_f64() => ("VALUE_NUMBER_FLOAT", number.to_string()),
        Value::Number(number) => ("VALUE_NUMBER_INT", number.to_string()),
        Value::Bool(true) => ("VALUE_TRUE", "true".to_string()),
        Value::Bool(false) => ("VALUE_FALSE", "false".to_string()),
        Value::Object(_) => ("START_OBJECT", "{".to_string()),
        Value::Array(_) => ("START_ARRAY", "[".to_string()),
        Value::Null => ("VALUE_NULL", "null".to_string()),
    };
    // The real message ends with the position in the body; serde_json does not report
    // positions of values, so the simulator always says line 1, column 1.
    format!(
        "Cannot deserialize instance of {wanted} from {token} value {shown} or request may be missing a required field at [line:1, column:1]"
    )
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn parse_number(text: &str) -> Option<Value> {
    let float: f64 = text.trim().parse().ok()?;
    Number::from_f64(float).map(Value::Number)
}

/// A pragmatic email check (the exact rules are unverified, §7): one `@`, a non-empty local
/// part without spaces, and a dotted domain of letters, digits and hyphens.
fn is_valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert!(is_valid_email("jenny.rosen@example.com"));
        assert!(!is_valid_email("not-an-email"));
        assert!(!is_valid_email("a@b"));
        assert!(!is_valid_email("a b@example.com"));
    }
}
