//! Validation of one field mapping: `Field__c = { path = "...", transform = "...", ... }`.
//!
//! Refuses combinations that could only fail (or silently do nothing) at run time.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{api_name, paths, Checked};
use crate::mapping::field::{FieldRule, LookupRule, Source};
use crate::mapping::file::RawField;
use crate::mapping::path::JsonPath;
use crate::mapping::transform::{Transform, TRANSFORM_NAMES};

/// Validates the field called `name`.
pub(super) fn compile_field(name: &str, raw: RawField) -> Checked<FieldRule> {
    api_name(name)?;
    let transform = match raw.transform.as_deref() {
        None => Transform::Raw,
        Some(text) => Transform::parse(text).ok_or_else(|| {
            format!(
                "unknown transform {text:?} (known: {})",
                TRANSFORM_NAMES.join(", ")
            )
        })?,
    };
    let source = match (raw.constant, paths(raw.path, raw.fallback_paths)?) {
        (Some(_), Some(_)) => return Err("give either `constant` or `path`, not both".into()),
        (None, None) => return Err("give a `path` (or a `constant`)".into()),
        (Some(value), None) => Source::Constant(json_value(value)?),
        (None, Some(paths)) => Source::Paths(paths),
    };
    let is_constant = matches!(source, Source::Constant(_));
    let shaping = raw.transform.is_some()
        || raw.currency_path.is_some()
        || raw.multiply_path.is_some()
        || raw.value_map.is_some()
        || raw.lookup.is_some()
        || raw.max_length.is_some();
    if is_constant && shaping {
        return Err("a `constant` is written as given: remove transform, currency_path, multiply_path, value_map, max_length and lookup".into());
    }
    let currency_path = raw.currency_path.map(|p| JsonPath::parse(&p)).transpose()?;
    match (transform, &currency_path) {
        (Transform::Money, None) => return Err("transform \"money\" needs `currency_path`".into()),
        (Transform::Money, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err("`currency_path` only goes with transform \"money\"".into()),
    }
    let multiply_path = raw.multiply_path.map(|p| JsonPath::parse(&p)).transpose()?;
    if multiply_path.is_some() && !matches!(transform, Transform::Money | Transform::Number) {
        return Err("`multiply_path` only goes with transform \"money\" or \"number\"".into());
    }
    let value_map = match raw.value_map {
        Some(map) if map.is_empty() => return Err("`value_map` is empty".into()),
        Some(map) => Some(
            map.into_iter()
                .map(|(key, value)| json_value(value).map(|v| (key, v)))
                .collect::<Checked<BTreeMap<_, _>>>()?,
        ),
        None => None,
    };
    if raw.max_length == Some(0) {
        return Err("`max_length` must be at least 1".into());
    }
    let lookup = raw
        .lookup
        .map(|lookup| compile_lookup(name, lookup.relationship, lookup.external_id_field))
        .transpose()?;
    Ok(FieldRule {
        name: name.to_owned(),
        source,
        transform,
        currency_path,
        multiply_path,
        value_map,
        max_length: raw.max_length,
        lookup,
        optional: raw.optional,
    })
}

fn compile_lookup(
    name: &str,
    relationship: Option<String>,
    external_id_field: String,
) -> Checked<LookupRule> {
    api_name(&external_id_field)?;
    let relationship = match relationship {
        Some(given) => api_name(&given).map(|_| given)?,
        None => match name.strip_suffix("__c") {
            Some(stem) => format!("{stem}__r"),
            None => {
                return Err("standard lookups need `lookup.relationship` (e.g. \"Account\")".into())
            }
        },
    };
    Ok(LookupRule {
        relationship,
        external_id_field,
    })
}

/// A TOML scalar as the JSON value written to Salesforce.
fn json_value(value: toml::Value) -> Checked<Value> {
    match value {
        toml::Value::String(text) => Ok(Value::String(text)),
        toml::Value::Integer(number) => Ok(Value::from(number)),
        toml::Value::Boolean(flag) => Ok(Value::Bool(flag)),
        toml::Value::Float(number) => serde_json::Number::from_f64(number)
            .map(Value::Number)
            .ok_or_else(|| format!("{number} is not a finite number")),
        other => Err(format!(
            "{other} cannot be written to Salesforce (use text, a number or a boolean)"
        )),
    }
}
