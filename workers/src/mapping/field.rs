//! One field mapping: where a Salesforce field's value comes from and how it is converted.
//!
//! Evaluation order: read the first non-null of `path` and `fallback_paths` (or take the
//! `constant`) → `transform` (with `currency_path` / `multiply_path`) → `value_map` →
//! `max_length` → `lookup` wrapping. A missing value fails the event unless the field is
//! `optional`, in which case an absent value omits the field and a null clears it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::MappingError;
use super::path::{describe, first_present, JsonPath, Lookup};
use super::rule::Context;
use super::transform::{Scaling, Transform};

/// Where a field's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The first non-null of these paths.
    Paths(Vec<JsonPath>),
    /// Always this value.
    Constant(Value),
}

/// Write the value through the parent's external id instead of as a plain value.
#[derive(Debug, Clone)]
pub(crate) struct LookupRule {
    /// E.g. `Stripe_Customer__r`.
    pub relationship: String,
    /// E.g. `Stripe_Customer_ID__c`.
    pub external_id_field: String,
}

/// A compiled field mapping.
#[derive(Debug, Clone)]
pub(crate) struct FieldRule {
    pub name: String,
    pub source: Source,
    pub transform: Transform,
    pub currency_path: Option<JsonPath>,
    pub multiply_path: Option<JsonPath>,
    pub value_map: Option<BTreeMap<String, Value>>,
    pub max_length: Option<usize>,
    pub lookup: Option<LookupRule>,
    pub optional: bool,
}

impl FieldRule {
    /// The `(key, value)` to put in the record body, or `None` to leave the field out.
    pub(crate) fn evaluate(
        &self,
        context: &Context<'_>,
        sobject: &str,
    ) -> Result<Option<(String, Value)>, MappingError> {
        let paths = match &self.source {
            Source::Constant(value) => return Ok(Some((self.name.clone(), value.clone()))),
            Source::Paths(paths) => paths,
        };
        let (found, winner) = first_present(paths, context.event);
        let (value, path) = match (found, winner) {
            (Lookup::Found(value), Some(path)) => (value, path),
            (Lookup::Null, _) if self.optional => {
                // A null lookup is cleared through the lookup field itself.
                return Ok(Some((self.name.clone(), Value::Null)));
            }
            _ if self.optional => return Ok(None),
            _ => return Err(context.missing(sobject, &self.name, &describe(paths))),
        };
        let bad = |reason: String| context.bad(sobject, &self.name, path.as_str(), reason);
        let scaling = self.scaling(context, sobject)?;
        let mut converted = self.transform.apply(value, scaling).map_err(bad)?;
        if let Some(map) = &self.value_map {
            converted = map_value(map, &converted).map_err(bad)?;
        }
        if let (Some(limit), Value::String(text)) = (self.max_length, &converted) {
            if text.chars().count() > limit {
                converted = Value::String(text.chars().take(limit).collect());
            }
        }
        match &self.lookup {
            None => Ok(Some((self.name.clone(), converted))),
            Some(lookup) => {
                let Value::String(key) = converted else {
                    return Err(bad(format!("a lookup key must be text, got {converted}")));
                };
                let parent = serde_json::json!({ lookup.external_id_field.as_str(): key });
                Ok(Some((lookup.relationship.clone(), parent)))
            }
        }
    }

    /// Reads the currency exponent and multiplier the transform needs.
    fn scaling(&self, context: &Context<'_>, sobject: &str) -> Result<Scaling, MappingError> {
        let mut scaling = Scaling {
            exponent: 0,
            multiplier: 1,
        };
        if let Some(path) = &self.currency_path {
            let currency = match path.lookup(context.event) {
                Lookup::Found(Value::String(code)) if !code.is_empty() => code,
                Lookup::Found(other) => {
                    let reason = format!("expected a currency code, got {other}");
                    return Err(context.bad(sobject, &self.name, path.as_str(), reason));
                }
                Lookup::Null | Lookup::Absent => {
                    return Err(context.missing(sobject, &self.name, path.as_str()))
                }
            };
            scaling.exponent = context.exponent(currency);
        }
        if let Some(path) = &self.multiply_path {
            scaling.multiplier = match path.lookup(context.event) {
                Lookup::Found(value) => value.as_i64().ok_or_else(|| {
                    let reason = format!("expected an integer multiplier, got {value}");
                    context.bad(sobject, &self.name, path.as_str(), reason)
                })?,
                // Metered prices have no quantity: the amount stands alone.
                Lookup::Null | Lookup::Absent => 1,
            };
        }
        Ok(scaling)
    }
}

/// Looks the value's text up in a `value_map`.
fn map_value(map: &BTreeMap<String, Value>, value: &Value) -> Result<Value, String> {
    let key = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    map.get(&key).cloned().ok_or_else(|| {
        let known: Vec<&str> = map.keys().map(String::as_str).collect();
        format!("{key:?} is not in value_map (known: {})", known.join(", "))
    })
}
