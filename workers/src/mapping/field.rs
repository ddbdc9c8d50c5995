//! One field mapping: where a Salesforce field's value comes from and how it is converted.
//!
//! Evaluation order: read the first non-null of `path` and `fallback_paths` (or fill the
//! `template`, or take the `constant`) → `transform` (with `currency_path` /
//! `multiply_path`, then `add`) → `value_map` → `max_length` → `lookup` wrapping. A missing
//! value is written as the `default` if there is one; otherwise it fails the event unless
//! the field is `optional`, in which case an absent value omits the field and a null clears
//! it. A lookup with `only_if_exists` is not written here: it becomes a [`PendingLookup`]
//! that the writer resolves against Salesforce.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::error::MappingError;
use super::path::{describe, first_present, JsonPath, Lookup};
use super::record::PendingLookup;
use super::rule::Context;
use super::template::Template;
use super::transform::{Scaling, Transform};

/// Where a field's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The first non-null of these paths.
    Paths(Vec<JsonPath>),
    /// Text built from several values.
    Template(Template),
    /// Always this value.
    Constant(Value),
}

/// Write the value as a lookup through the parent's external id instead of as a plain value.
#[derive(Debug, Clone)]
pub(crate) struct LookupRule {
    /// E.g. `Stripe_Customer__r`.
    pub relationship: String,
    /// E.g. `Stripe_Customer_ID__c`.
    pub external_id_field: String,
}

/// Write the id of the parent whose `external_id_field` holds the value, only when such a
/// parent exists (`lookup = { sobject, external_id_field, only_if_exists = true }`).
#[derive(Debug, Clone)]
pub(crate) struct ExistingParentRule {
    /// The parent's sObject, e.g. `Contact`.
    pub sobject: String,
    /// The parent's field that holds the value, e.g. `Stripe_Customer_ID__c`.
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
    /// Added after the `number` transform (a tier's first quantity: previous `up_to` + 1).
    pub add: Option<i64>,
    pub value_map: Option<BTreeMap<String, Value>>,
    pub max_length: Option<usize>,
    pub lookup: Option<LookupRule>,
    pub existing_parent: Option<ExistingParentRule>,
    /// Written as given when the source has no value (absent or null).
    pub default: Option<Value>,
    pub optional: bool,
}

/// What a field contributes to its record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Evaluated {
    /// Nothing: the field is left out of the body.
    Omit,
    /// This key (the field, or its relationship for a lookup) with this value.
    Set(String, Value),
    /// A lookup the writer fills in if the parent exists.
    Pending(PendingLookup),
}

/// The value a source found, and where (for messages).
enum Found<'a> {
    Value(Cow<'a, Value>, String),
    Null,
    Absent,
}

impl FieldRule {
    /// What the field contributes to the record body.
    pub(crate) fn evaluate(
        &self,
        context: &Context<'_>,
        sobject: &str,
    ) -> Result<Evaluated, MappingError> {
        let found = match &self.source {
            Source::Constant(value) => return Ok(Evaluated::Set(self.name.clone(), value.clone())),
            Source::Paths(paths) => match first_present(paths, context.scope()) {
                (Lookup::Found(value), Some(path)) => {
                    Found::Value(Cow::Borrowed(value), path.to_string())
                }
                (Lookup::Null, _) => Found::Null,
                _ => Found::Absent,
            },
            Source::Template(template) => match template.render(context.scope()) {
                Ok(Some(text)) => {
                    Found::Value(Cow::Owned(Value::String(text)), template.to_string())
                }
                Ok(None) => Found::Absent,
                Err(bad) => return Err(context.bad(sobject, &self.name, &bad.path, bad.reason)),
            },
        };
        let (value, path) = match (found, &self.default) {
            (Found::Value(value, path), _) => (value, path),
            (_, Some(default)) => return Ok(Evaluated::Set(self.name.clone(), default.clone())),
            // A null lookup is cleared through the lookup field itself.
            (Found::Null, None) if self.optional => {
                return Ok(Evaluated::Set(self.name.clone(), Value::Null))
            }
            _ if self.optional => return Ok(Evaluated::Omit),
            _ => return Err(context.missing(sobject, &self.name, &self.source_text())),
        };
        let bad = |reason: String| context.bad(sobject, &self.name, &path, reason);
        let scaling = self.scaling(context, sobject)?;
        let mut converted = self.transform.apply(&value, scaling).map_err(bad)?;
        if let Some(add) = self.add {
            converted = add_integer(&converted, add).map_err(bad)?;
        }
        if let Some(map) = &self.value_map {
            converted = map_value(map, &converted).map_err(bad)?;
        }
        if let (Some(limit), Value::String(text)) = (self.max_length, &converted) {
            if text.chars().count() > limit {
                converted = Value::String(text.chars().take(limit).collect());
            }
        }
        if let Some(parent) = &self.existing_parent {
            let Value::String(key) = converted else {
                return Err(bad(format!("a lookup key must be text, got {converted}")));
            };
            return Ok(Evaluated::Pending(PendingLookup {
                field: self.name.clone(),
                sobject: parent.sobject.clone(),
                external_id_field: parent.external_id_field.clone(),
                value: key,
            }));
        }
        match &self.lookup {
            None => Ok(Evaluated::Set(self.name.clone(), converted)),
            Some(lookup) => {
                let Value::String(key) = converted else {
                    return Err(bad(format!("a lookup key must be text, got {converted}")));
                };
                let parent = serde_json::json!({ lookup.external_id_field.as_str(): key });
                Ok(Evaluated::Set(lookup.relationship.clone(), parent))
            }
        }
    }

    /// The paths or template the value comes from, for messages.
    fn source_text(&self) -> String {
        match &self.source {
            Source::Paths(paths) => describe(paths),
            Source::Template(template) => template.to_string(),
            Source::Constant(value) => value.to_string(),
        }
    }

    /// Reads the currency exponent and multiplier the transform needs.
    fn scaling(&self, context: &Context<'_>, sobject: &str) -> Result<Scaling, MappingError> {
        let mut scaling = Scaling {
            exponent: 0,
            multiplier: 1,
        };
        if let Some(path) = &self.currency_path {
            let currency = match path.lookup_in(context.scope()) {
                Lookup::Found(Value::String(code)) if !code.is_empty() => code,
                Lookup::Found(other) => {
                    let reason = format!("expected a currency code, got {other}");
                    return Err(context.bad(sobject, &self.name, path.as_str(), reason));
                }
                Lookup::Null | Lookup::Absent => {
                    return Err(context.missing(sobject, &self.name, path.as_str()))
                }
            };
            scaling.exponent = context.exponent(currency).ok_or_else(|| {
                let reason = format!(
                    "{currency:?} is not a currency Stripe charges in (ISO 4217 with minor units); \
                     if your account really sees it, give its decimals in [currency_exponents]"
                );
                context.bad(sobject, &self.name, path.as_str(), reason)
            })?;
        }
        if let Some(path) = &self.multiply_path {
            scaling.multiplier = match path.lookup_in(context.scope()) {
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

/// `value + add` for an integer `value`.
fn add_integer(value: &Value, add: i64) -> Result<Value, String> {
    value
        .as_i64()
        .and_then(|number| number.checked_add(add))
        .map(Value::from)
        .ok_or_else(|| format!("cannot add {add} to {value} (an integer is needed)"))
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
