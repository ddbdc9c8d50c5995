//! Value transforms named in the mapping file (`transform = "money"`).
//!
//! Each transform turns one JSON value from the event into the JSON value Salesforce expects
//! for the field's type (see `docs/salesforce-api.md` §7). A transform that cannot convert its
//! input explains why; the caller turns that into a `MappingError::BadValue` naming the event
//! type, field and path.

use serde_json::Value;

use super::datetime::{in_salesforce_range, unix_to_salesforce_date, unix_to_salesforce_datetime};
use super::money::{decimal_minor_units_to_decimal, decimal_with_exponent};

/// How a value is converted before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    /// Any scalar unchanged (the default). Objects and arrays are refused.
    Raw,
    /// Strings unchanged; numbers and booleans as their text.
    Text,
    /// Like `string`, upper-cased (currency codes: `usd` → `USD`).
    Upper,
    /// Like `string`, lower-cased.
    Lower,
    /// Integer minor units to the currency's decimal (needs `currency_path`).
    Money,
    /// Like `money`, also accepting a decimal string of minor units (Stripe's `*_decimal`
    /// fields, for prices below one minor unit).
    MoneyDecimal,
    /// Unix seconds to a Salesforce DateTime, `2026-11-25T11:31:43.000Z`.
    DateTime,
    /// Unix seconds to a Salesforce Date (UTC day), `2026-11-25`.
    Date,
    /// A JSON boolean (checkbox fields).
    Bool,
    /// A JSON number unchanged (Number fields), optionally multiplied.
    Number,
}

/// The names accepted in the file, in the order the docs list them.
pub(crate) const TRANSFORM_NAMES: &[&str] = &[
    "raw",
    "string",
    "upper",
    "lower",
    "money",
    "money_decimal",
    "datetime",
    "date",
    "bool",
    "number",
];

/// Extra inputs of the `money` and `number` transforms, read from other paths of the event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scaling {
    /// Decimals of the currency's minor unit (money only).
    pub exponent: u32,
    /// Factor from `multiply_path` (1 when absent), e.g. a subscription item's quantity.
    pub multiplier: i64,
}

impl Transform {
    /// Parses a transform name from the file.
    pub(crate) fn parse(name: &str) -> Option<Transform> {
        Some(match name {
            "raw" => Transform::Raw,
            "string" => Transform::Text,
            "upper" => Transform::Upper,
            "lower" => Transform::Lower,
            "money" => Transform::Money,
            "money_decimal" => Transform::MoneyDecimal,
            "datetime" => Transform::DateTime,
            "date" => Transform::Date,
            "bool" => Transform::Bool,
            "number" => Transform::Number,
            _ => return None,
        })
    }

    /// Converts a non-null `value`; the error is a reason for `BadValue`.
    pub(crate) fn apply(self, value: &Value, scaling: Scaling) -> Result<Value, String> {
        match self {
            Transform::Raw => scalar(value).map(|_| value.clone()),
            Transform::Text => text(value).map(Value::String),
            Transform::Upper => text(value).map(|t| Value::String(t.to_uppercase())),
            Transform::Lower => text(value).map(|t| Value::String(t.to_lowercase())),
            Transform::Money => {
                let amount = integer(value, "an integer amount in minor units")?;
                let amount = multiply(amount, scaling.multiplier)?;
                decimal_with_exponent(amount, scaling.exponent)
                    .map(Value::Number)
                    .map_err(|error| error.to_string())
            }
            Transform::MoneyDecimal => match value {
                Value::String(text) if scaling.multiplier == 1 => {
                    decimal_minor_units_to_decimal(text, scaling.exponent)
                        .map(Value::Number)
                        .map_err(|error| error.to_string())
                }
                Value::String(_) => Err("multiply_path goes with integer amounts only".into()),
                other => Transform::Money.apply(other, scaling),
            },
            Transform::DateTime => {
                unix_seconds(value).map(|secs| Value::String(unix_to_salesforce_datetime(secs)))
            }
            Transform::Date => {
                unix_seconds(value).map(|secs| Value::String(unix_to_salesforce_date(secs)))
            }
            Transform::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                other => Err(format!("expected true or false, got {other}")),
            },
            Transform::Number if !value.is_number() => {
                Err(format!("expected a number, got {value}"))
            }
            Transform::Number if scaling.multiplier == 1 => Ok(value.clone()),
            Transform::Number => {
                let number = integer(value, "an integer to multiply")?;
                multiply(number, scaling.multiplier).map(Value::from)
            }
        }
    }
}

fn scalar(value: &Value) -> Result<(), String> {
    match value {
        Value::Object(_) | Value::Array(_) => Err(format!(
            "expected a single value, got {}; point the path at one of its fields",
            kind(value)
        )),
        _ => Ok(()),
    }
}

fn text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(format!("expected text, got {}", kind(other))),
    }
}

fn integer(value: &Value, wanted: &str) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("expected {wanted}, got {value}"))
}

fn multiply(amount: i64, factor: i64) -> Result<i64, String> {
    amount
        .checked_mul(factor)
        .ok_or_else(|| format!("{amount} × {factor} overflows"))
}

fn unix_seconds(value: &Value) -> Result<i64, String> {
    let secs = integer(value, "Unix seconds (an integer)")?;
    if in_salesforce_range(secs) {
        Ok(secs)
    } else {
        Err(format!(
            "{secs} is outside the dates Salesforce stores (1700-01-01 to 4000-12-31)"
        ))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAIN: Scaling = Scaling {
        exponent: 2,
        multiplier: 1,
    };

    #[test]
    fn names_round_trip() {
        for name in TRANSFORM_NAMES {
            assert!(Transform::parse(name).is_some(), "{name}");
        }
        assert_eq!(Transform::parse("mony"), None);
    }

    #[test]
    fn conversions() {
        let apply = |t: Transform, v: Value| t.apply(&v, PLAIN);
        assert_eq!(apply(Transform::Upper, json!("usd")), Ok(json!("USD")));
        assert_eq!(apply(Transform::Text, json!(42)), Ok(json!("42")));
        assert_eq!(apply(Transform::Money, json!(1234)), Ok(json!(12.34)));
        assert_eq!(
            apply(Transform::MoneyDecimal, json!(1234)),
            Ok(json!(12.34))
        );
        assert_eq!(
            apply(Transform::MoneyDecimal, json!("1234.5")),
            Ok(json!(12.345))
        );
        assert_eq!(
            apply(Transform::DateTime, json!(0)),
            Ok(json!("1970-01-01T00:00:00.000Z"))
        );
        assert_eq!(
            apply(Transform::Date, json!(951_782_400)),
            Ok(json!("2000-02-29"))
        );
        assert_eq!(apply(Transform::Bool, json!(true)), Ok(json!(true)));
        assert_eq!(apply(Transform::Number, json!(2.5)), Ok(json!(2.5)));
        assert_eq!(apply(Transform::Raw, json!("x")), Ok(json!("x")));
    }

    #[test]
    fn multiplied_money_and_numbers() {
        let seats = Scaling {
            exponent: 0,
            multiplier: 3,
        };
        assert_eq!(Transform::Money.apply(&json!(1000), seats), Ok(json!(3000)));
        assert_eq!(Transform::Number.apply(&json!(2), seats), Ok(json!(6)));
    }

    #[test]
    fn refusals_explain_themselves() {
        let apply = |t: Transform, v: Value| t.apply(&v, PLAIN).unwrap_err();
        assert!(apply(Transform::Money, json!("12.5")).contains("integer amount"));
        assert!(apply(Transform::Money, json!(12.5)).contains("integer amount"));
        assert!(apply(Transform::MoneyDecimal, json!("12,5")).contains("not a decimal"));
        assert!(apply(Transform::DateTime, json!("soon")).contains("Unix seconds"));
        assert!(apply(Transform::DateTime, json!(99_999_999_999_i64)).contains("outside"));
        assert!(apply(Transform::Raw, json!({"id": 1})).contains("an object"));
        assert!(apply(Transform::Upper, json!([1])).contains("an array"));
        assert!(apply(Transform::Bool, json!("yes")).contains("true or false"));
        assert!(apply(Transform::Number, json!("7")).contains("number"));
    }
}
