//! Change events as a client reads them: the Avro payload decoded with the schema
//! `GetSchema` returns, into JSON field values and a typed `ChangeEventHeader`
//! (Salesforce, "Change Event Message Structure",
//! <https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm>).
//!
//! Compound fields (a Contact's `Name`: `FirstName`, `LastName`, …) arrive as nested Avro
//! records; they are flattened to the names the REST API uses (`FirstName`), and the bitmaps'
//! `Name.FirstName` entries become `FirstName` too, so a consumer sees one vocabulary.

use std::collections::HashMap;

use apache_avro::types::Value as Avro;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bitmap;

/// Why an event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The schema JSON is not an Avro record schema.
    #[error("schema: {0}")]
    Schema(String),
    /// The payload does not match the schema.
    #[error("payload: {0}")]
    Payload(String),
    /// The `ChangeEventHeader` is missing or malformed.
    #[error("header: {0}")]
    Header(String),
}

/// The header every change event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEventHeader {
    /// sObject API name, e.g. `Contact`.
    pub entity_name: String,
    /// The records the change applies to (several when Salesforce merged identical changes).
    pub record_ids: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `UNDELETE`, or a gap (`GAP_CREATE`, …, `GAP_OVERFLOW`).
    pub change_type: String,
    /// Client and API that made the change, when Salesforce knows them.
    #[serde(default)]
    pub change_origin: String,
    /// Identifies the transaction.
    pub transaction_key: String,
    /// Order of the change inside its transaction.
    pub sequence_number: i64,
    /// When the transaction committed, Unix milliseconds.
    pub commit_timestamp: i64,
    /// The org's commit sequence number.
    pub commit_number: i64,
    /// Id of the user who committed the change.
    pub commit_user: String,
    /// Fields the change set (UPDATE), flattened names.
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// Fields the change set to null, flattened names.
    #[serde(default)]
    pub nulled_fields: Vec<String>,
    /// Large text fields sent as diffs, flattened names.
    #[serde(default)]
    pub diff_fields: Vec<String>,
}

impl ChangeEventHeader {
    /// Whether this is a gap event (`GAP_*`, including `GAP_OVERFLOW`): the record data is
    /// not in the event and must be read from Salesforce.
    pub fn is_gap(&self) -> bool {
        self.change_type.starts_with("GAP_")
    }
}

/// One decoded change event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// The header.
    pub header: ChangeEventHeader,
    /// Field values present in the event (non-null ones, compound fields flattened).
    pub fields: Map<String, Value>,
}

/// A change event schema, parsed once per schema id.
#[derive(Debug)]
pub struct EventSchema {
    avro: apache_avro::Schema,
    /// Top-level field names by Avro position.
    top: Vec<String>,
    /// Compound field position → its nested field names.
    nested: HashMap<usize, Vec<String>>,
}

impl EventSchema {
    /// Parses the `schema_json` of a `SchemaInfo`.
    pub fn parse(schema_json: &str) -> Result<Self, DecodeError> {
        let avro = apache_avro::Schema::parse_str(schema_json)
            .map_err(|error| DecodeError::Schema(error.to_string()))?;
        let json: Value = serde_json::from_str(schema_json)
            .map_err(|error| DecodeError::Schema(error.to_string()))?;
        let fields = json["fields"]
            .as_array()
            .ok_or_else(|| DecodeError::Schema("no `fields`".into()))?;
        let top = fields
            .iter()
            .map(|field| field["name"].as_str().unwrap_or_default().to_string())
            .collect();
        let nested = fields
            .iter()
            .enumerate()
            .filter_map(|(position, field)| Some((position, record_field_names(&field["type"])?)))
            .collect();
        Ok(Self { avro, top, nested })
    }

    /// Decodes one event's payload.
    pub fn decode(&self, payload: &[u8]) -> Result<ChangeEvent, DecodeError> {
        let mut reader = payload;
        let value = apache_avro::from_avro_datum(&self.avro, &mut reader, None)
            .map_err(|error| DecodeError::Payload(error.to_string()))?;
        let Value::Object(mut record) = to_json(value) else {
            return Err(DecodeError::Payload("not a record".into()));
        };
        let mut raw_header = record
            .remove("ChangeEventHeader")
            .ok_or_else(|| DecodeError::Header("missing".into()))?;
        for list in ["changedFields", "nulledFields", "diffFields"] {
            let names = self.field_names(&raw_header[list])?;
            raw_header[list] = Value::from(names);
        }
        let header: ChangeEventHeader = serde_json::from_value(raw_header)
            .map_err(|error| DecodeError::Header(error.to_string()))?;
        let mut fields = Map::new();
        for (name, value) in record {
            match value {
                Value::Null => {}
                // A compound field: its parts under their own names.
                Value::Object(parts) => {
                    fields.extend(parts.into_iter().filter(|(_, value)| !value.is_null()))
                }
                value => {
                    fields.insert(name, value);
                }
            }
        }
        Ok(ChangeEvent { header, fields })
    }

    /// Names of an encoded bitmap list, compound parts flattened (`Name.FirstName` →
    /// `FirstName`, a whole compound → each of its parts).
    fn field_names(&self, encoded: &Value) -> Result<Vec<String>, DecodeError> {
        let encoded: Vec<String> = match encoded {
            Value::Null => Vec::new(),
            other => serde_json::from_value(other.clone())
                .map_err(|error| DecodeError::Header(format!("field bitmaps: {error}")))?,
        };
        let names = bitmap::decode(&encoded, &self.top, |position| {
            self.nested.get(&position).cloned()
        })
        .ok_or_else(|| DecodeError::Header(format!("undecodable field bitmaps {encoded:?}")))?;
        let mut flat = Vec::new();
        for name in names {
            if let Some((_, part)) = name.split_once('.') {
                flat.push(part.to_string());
            } else if let Some(position) = self.top.iter().position(|top| *top == name) {
                match self.nested.get(&position) {
                    Some(parts) => flat.extend(parts.iter().cloned()),
                    None => flat.push(name),
                }
            }
        }
        Ok(flat)
    }
}

/// The field names of a record type, or of the record inside a `[null, record]` union.
fn record_field_names(kind: &Value) -> Option<Vec<String>> {
    let record = match kind {
        Value::Array(variants) => variants
            .iter()
            .find(|variant| variant["type"] == "record")?,
        Value::Object(_) if kind["type"] == "record" => kind,
        _ => return None,
    };
    Some(
        record["fields"]
            .as_array()?
            .iter()
            .map(|field| field["name"].as_str().unwrap_or_default().to_string())
            .collect(),
    )
}

/// Avro to JSON: unions unwrapped, enums as their symbols, bytes as strings where UTF-8.
pub fn to_json(value: Avro) -> Value {
    match value {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Bool(b),
        Avro::Int(i) => Value::from(i),
        Avro::Long(l) => Value::from(l),
        Avro::Float(f) => Value::from(f64::from(f)),
        Avro::Double(d) => Value::from(d),
        Avro::String(s) | Avro::Enum(_, s) => Value::String(s),
        Avro::Bytes(bytes) | Avro::Fixed(_, bytes) => {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        Avro::Union(_, inner) => to_json(*inner),
        Avro::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Avro::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key, to_json(value)))
                .collect(),
        ),
        Avro::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, to_json(value)))
                .collect(),
        ),
        other => Value::String(format!("{other:?}")),
    }
}
