//! Applying an update to an object the way Stripe does, and reporting what changed as the
//! `previous_attributes` of the `*.updated` event: fields are replaced, `metadata` is merged
//! key by key with `""` deleting a key (https://docs.stripe.com/api/metadata).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::form::blank_to_none;

/// Sets each `(field, value)` and merges `metadata`; returns the old value of every field
/// that changed and, under `metadata`, the old value (or `null`) of every changed key.
/// Nothing changed: an empty map (and Stripe sends no event).
pub fn apply(
    object: &mut Value,
    fields: Vec<(&str, Value)>,
    metadata: Option<BTreeMap<String, String>>,
) -> Map<String, Value> {
    let mut previous = Map::new();
    for (field, new) in fields {
        if object[field] != new {
            previous.insert(
                field.to_string(),
                std::mem::replace(&mut object[field], new),
            );
        }
    }
    let mut old_metadata = Map::new();
    for (key, value) in metadata.unwrap_or_default() {
        let old = object["metadata"].get(&key).cloned().unwrap_or(Value::Null);
        let new = text_or_null(Some(value));
        if old == new {
            continue;
        }
        if let Some(metadata) = object["metadata"].as_object_mut() {
            match &new {
                Value::Null => metadata.remove(&key),
                _ => metadata.insert(key.clone(), new),
            };
        }
        old_metadata.insert(key, old);
    }
    if !old_metadata.is_empty() {
        previous.insert("metadata".into(), Value::Object(old_metadata));
    }
    previous
}

/// Text as a JSON value, with Stripe's `""` (and absence) meaning `null`.
pub fn text_or_null(value: Option<String>) -> Value {
    value
        .and_then(blank_to_none)
        .map_or(Value::Null, Value::String)
}

/// Metadata as given at creation, without the keys set to `""`.
pub fn initial_metadata(metadata: Option<BTreeMap<String, String>>) -> Value {
    let kept: Map<String, Value> = metadata
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_replaced_metadata_merged_previous_reported() {
        let mut object =
            json!({"active": true, "name": "A", "metadata": {"keep": "1", "drop": "2"}});
        let metadata = BTreeMap::from([
            ("drop".to_string(), String::new()),
            ("new".to_string(), "3".to_string()),
            ("keep".to_string(), "1".to_string()),
        ]);
        let previous = apply(
            &mut object,
            vec![("active", json!(false)), ("name", json!("A"))],
            Some(metadata),
        );
        assert_eq!(
            object,
            json!({"active": false, "name": "A", "metadata": {"keep": "1", "new": "3"}})
        );
        assert_eq!(
            Value::Object(previous),
            json!({"active": true, "metadata": {"drop": "2", "new": null}})
        );
    }

    #[test]
    fn nothing_changed_reports_nothing() {
        let mut object = json!({"name": "A", "metadata": {}});
        assert!(apply(&mut object, vec![("name", json!("A"))], None).is_empty());
    }
}
