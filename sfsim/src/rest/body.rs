//! Reading sObject JSON bodies into [`RecordInput`]s, and writing records back as JSON.
//!
//! Field names are matched case-insensitively (docs/salesforce-api.md §2.2). A field the object
//! does not have is `INVALID_FIELD` for the whole request; so is a value of the wrong JSON type
//! (`JSON_PARSER_ERROR`), because the real org cannot even deserialise such a body.

use serde_json::{Map, Value};

use crate::dml::{ParentRef, RecordInput};
use crate::error::ApiError;
use crate::schema::{ObjectDef, Schema};
use crate::store::Record;
use crate::values;

/// Parses a request body as a JSON value; a syntax error is `JSON_PARSER_ERROR`.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::json_parser(format!(
            "Unexpected character: {error} at [line:{}, column:{}]",
            error.line(),
            error.column()
        ))
    })
}

/// Reads one sObject's fields. Keys in `skip` (lower case) are ignored, e.g. the
/// `attributes` object or a Collections update's `id`.
pub fn record_input(
    schema: &Schema,
    object: &ObjectDef,
    fields: &Map<String, Value>,
    skip: &[&str],
) -> Result<RecordInput, ApiError> {
    let mut input = RecordInput::default();
    for (key, value) in fields {
        let lower = key.to_ascii_lowercase();
        if lower == "attributes" || skip.contains(&lower.as_str()) {
            continue;
        }
        if let Some(field) = object.field(key) {
            let converted = values::from_json(field, value).map_err(ApiError::json_parser)?;
            input.values.push((field.name.clone(), converted));
            continue;
        }
        let Some(lookup) = object.relationship(key) else {
            return Err(ApiError::no_such_column(key, &object.name));
        };
        match value {
            Value::Null => input.values.push((lookup.name.clone(), Value::Null)),
            Value::Object(reference) => {
                input.parent_refs.push(parent_ref(schema, &lookup.name, lookup.reference_to.as_deref(), reference)?);
            }
            other => {
                return Err(ApiError::json_parser(format!(
                    "Cannot deserialize instance of reference from {} value or request may be missing a required field at [line:1, column:1]",
                    if other.is_array() { "START_ARRAY" } else { "VALUE_STRING" }
                )))
            }
        }
    }
    Ok(input)
}

/// `"Parent__r": {"Ext__c": "value"}` (§3.4): exactly one match field of the parent.
fn parent_ref(
    schema: &Schema,
    lookup_field: &str,
    target: Option<&str>,
    reference: &Map<String, Value>,
) -> Result<ParentRef, ApiError> {
    let parent = target
        .and_then(|name| schema.object(name))
        .ok_or_else(ApiError::not_found)?;
    let mut keys = reference
        .iter()
        .filter(|(key, _)| !key.eq_ignore_ascii_case("attributes"));
    let (Some((key_name, key_value)), None) = (keys.next(), keys.next()) else {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "A relationship reference to {} must name exactly one External ID field",
                parent.name
            ),
        ));
    };
    let key_field = parent
        .field(key_name)
        .ok_or_else(|| ApiError::no_such_column(key_name, &parent.name))?;
    if !key_field.matchable {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "{} is not an External ID or indexed field for {}",
                key_field.name, parent.name
            ),
        ));
    }
    Ok(ParentRef {
        lookup_field: lookup_field.to_string(),
        parent_object: parent.name.clone(),
        key_field: key_field.name.clone(),
        key: values::as_text(key_value),
    })
}

/// The REST path of a record.
pub fn record_url(version: u32, object: &str, id: &str) -> String {
    format!("/services/data/v{version}.0/sobjects/{object}/{id}")
}

/// A record as `GET /sobjects/{Object}/{id}` returns it: `attributes` then every field
/// of the object in schema order, null when unset.
pub fn record_json(object: &ObjectDef, record: &Record, version: u32) -> Value {
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        serde_json::json!({"type": object.name, "url": record_url(version, &object.name, &record.id)}),
    );
    for field in &object.fields {
        let value = record
            .fields
            .get(&field.name)
            .cloned()
            .unwrap_or(Value::Null);
        map.insert(field.name.clone(), value);
    }
    Value::Object(map)
}
