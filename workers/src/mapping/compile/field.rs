//! Validation of one field mapping: `Field__c = { path = "...", transform = "...", ... }`.
//!
//! Refuses combinations that could only fail (or silently do nothing) at run time.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{api_name, paths, Checked};
use crate::mapping::field::{ExistingParentRule, FieldRule, LookupRule, Source};
use crate::mapping::file::{RawField, RawLookup};
use crate::mapping::path::JsonPath;
use crate::mapping::template::Template;
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
    let source = match (
        raw.constant,
        paths(raw.path, raw.fallback_paths)?,
        raw.template,
    ) {
        (None, None, None) => return Err("give a `path` (or a `template` or a `constant`)".into()),
        (Some(value), None, None) => Source::Constant(json_value(value)?),
        (None, Some(paths), None) => Source::Paths(paths),
        (None, None, Some(text)) => Source::Template(Template::parse(&text)?),
        _ => return Err("give only one of `path`, `template` and `constant`".into()),
    };
    let is_constant = matches!(source, Source::Constant(_));
    let shaping = raw.transform.is_some()
        || raw.currency_path.is_some()
        || raw.multiply_path.is_some()
        || raw.add.is_some()
        || raw.value_map.is_some()
        || raw.lookup.is_some()
        || raw.max_length.is_some()
        || raw.default.is_some();
    if is_constant && shaping {
        return Err("a `constant` is written as given: remove transform, currency_path, multiply_path, add, value_map, max_length, lookup and default".into());
    }
    let is_money = matches!(transform, Transform::Money | Transform::MoneyDecimal);
    let currency_path = raw.currency_path.map(|p| JsonPath::parse(&p)).transpose()?;
    match (is_money, &currency_path) {
        (true, None) => {
            return Err(format!(
                "transform {:?} needs `currency_path`",
                raw.transform.unwrap_or_default()
            ))
        }
        (true, Some(_)) | (false, None) => {}
        (false, Some(_)) => {
            return Err(
                "`currency_path` only goes with transform \"money\" or \"money_decimal\"".into(),
            )
        }
    }
    let multiply_path = raw.multiply_path.map(|p| JsonPath::parse(&p)).transpose()?;
    if multiply_path.is_some() && !(is_money || transform == Transform::Number) {
        return Err(
            "`multiply_path` only goes with transform \"money\", \"money_decimal\" or \"number\""
                .into(),
        );
    }
    if raw.add.is_some() && transform != Transform::Number {
        return Err("`add` only goes with transform \"number\"".into());
    }
    if raw.default.is_some() && raw.optional {
        return Err("`default` already covers a missing value: remove `optional`".into());
    }
    let default = raw.default.map(json_value).transpose()?;
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
    let (lookup, existing_parent) = match raw.lookup {
        None => (None, None),
        Some(lookup) if lookup.only_if_exists => (None, Some(compile_existing_parent(lookup)?)),
        Some(RawLookup {
            sobject: Some(_), ..
        }) => {
            return Err("`lookup.sobject` goes with `only_if_exists = true` (a lookup through the relationship needs no sObject)".into())
        }
        Some(lookup) => (
            Some(compile_lookup(
                name,
                lookup.relationship,
                lookup.external_id_field,
            )?),
            None,
        ),
    };
    if existing_parent.is_some() && default.is_some() {
        return Err("a lookup with `only_if_exists` takes no `default`".into());
    }
    Ok(FieldRule {
        name: name.to_owned(),
        source,
        transform,
        currency_path,
        multiply_path,
        add: raw.add,
        value_map,
        max_length: raw.max_length,
        lookup,
        existing_parent,
        default,
        optional: raw.optional,
    })
}

/// `lookup = { sobject, external_id_field, only_if_exists = true }`: the field itself gets the
/// parent's record id, so no relationship name is involved.
fn compile_existing_parent(lookup: RawLookup) -> Checked<ExistingParentRule> {
    if lookup.relationship.is_some() {
        return Err("a lookup with `only_if_exists` writes the parent's record id into the field: remove `relationship`".into());
    }
    let sobject = lookup.sobject.ok_or(
        "a lookup with `only_if_exists` needs `sobject` (the parent to query, e.g. \"Contact\")",
    )?;
    api_name(&sobject)?;
    api_name(&lookup.external_id_field)?;
    Ok(ExistingParentRule {
        sobject,
        external_id_field: lookup.external_id_field,
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
