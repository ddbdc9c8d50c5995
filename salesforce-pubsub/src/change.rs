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

#[cfg(test)]
mod tests {
    use apache_avro::types::Value as Avro;

    use super::*;

    /// A Contact change event schema in Salesforce's shape: the header, a compound `Name`,
    /// and plain fields, each `["null", type]`.
    const SCHEMA: &str = r#"{
      "type": "record", "name": "ContactChangeEvent", "namespace": "com.sforce.eventbus",
      "fields": [
        {"name": "ChangeEventHeader", "type": {"type": "record", "name": "ChangeEventHeader", "fields": [
          {"name": "entityName", "type": "string"},
          {"name": "recordIds", "type": {"type": "array", "items": "string"}},
          {"name": "changeType", "type": "string"},
          {"name": "changeOrigin", "type": "string"},
          {"name": "transactionKey", "type": "string"},
          {"name": "sequenceNumber", "type": "int"},
          {"name": "commitTimestamp", "type": "long"},
          {"name": "commitNumber", "type": "long"},
          {"name": "commitUser", "type": "string"},
          {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
          {"name": "diffFields", "type": {"type": "array", "items": "string"}},
          {"name": "changedFields", "type": {"type": "array", "items": "string"}}
        ]}},
        {"name": "Name", "type": ["null", {"type": "record", "name": "Switchable_PersonName", "fields": [
          {"name": "FirstName", "type": ["null", "string"], "default": null},
          {"name": "LastName", "type": ["null", "string"], "default": null}
        ]}], "default": null},
        {"name": "Email", "type": ["null", "string"], "default": null},
        {"name": "Phone", "type": ["null", "string"], "default": null}
      ]
    }"#;

    fn strings(items: &[&str]) -> Avro {
        Avro::Array(items.iter().map(|s| Avro::String((*s).into())).collect())
    }

    fn payload(changed: &[&str], nulled: &[&str]) -> Vec<u8> {
        let schema = apache_avro::Schema::parse_str(SCHEMA).expect("schema");
        let header = Avro::Record(vec![
            ("entityName".into(), Avro::String("Contact".into())),
            ("recordIds".into(), strings(&["003000000000001AAA"])),
            ("changeType".into(), Avro::String("UPDATE".into())),
            ("changeOrigin".into(), Avro::String(String::new())),
            ("transactionKey".into(), Avro::String("tx".into())),
            ("sequenceNumber".into(), Avro::Int(1)),
            ("commitTimestamp".into(), Avro::Long(1_700_000_000_000)),
            ("commitNumber".into(), Avro::Long(42)),
            (
                "commitUser".into(),
                Avro::String("005000000000001AAA".into()),
            ),
            ("nulledFields".into(), strings(nulled)),
            ("diffFields".into(), strings(&[])),
            ("changedFields".into(), strings(changed)),
        ]);
        let name = Avro::Record(vec![
            (
                "FirstName".into(),
                Avro::Union(1, Box::new(Avro::String("Ada".into()))),
            ),
            ("LastName".into(), Avro::Union(0, Box::new(Avro::Null))),
        ]);
        let record = Avro::Record(vec![
            ("ChangeEventHeader".into(), header),
            ("Name".into(), Avro::Union(1, Box::new(name))),
            (
                "Email".into(),
                Avro::Union(1, Box::new(Avro::String("ada@example.com".into()))),
            ),
            ("Phone".into(), Avro::Union(0, Box::new(Avro::Null))),
        ]);
        apache_avro::to_avro_datum(&schema, record).expect("encodes")
    }

    #[test]
    fn compound_fields_and_bitmaps_are_flattened_to_the_rest_api_names() {
        let schema = EventSchema::parse(SCHEMA).expect("parses");
        // Email (position 2), FirstName inside Name (position 1, nested 0); Phone nulled (3).
        let event = schema
            .decode(&payload(&["0x04", "1-0x01"], &["0x08"]))
            .expect("decodes");
        assert_eq!(event.header.entity_name, "Contact");
        assert_eq!(event.header.record_ids, ["003000000000001AAA"]);
        assert_eq!(event.header.commit_number, 42);
        assert_eq!(event.header.changed_fields, ["Email", "FirstName"]);
        assert_eq!(event.header.nulled_fields, ["Phone"]);
        assert_eq!(event.fields["FirstName"], "Ada");
        assert_eq!(event.fields["Email"], "ada@example.com");
        assert!(!event.fields.contains_key("LastName"), "nulls are left out");
        assert!(!event.fields.contains_key("Name"));
        // A whole compound in the bitmap names each of its parts.
        let whole = schema.decode(&payload(&["1-0x03"], &[])).expect("decodes");
        assert_eq!(whole.header.changed_fields, ["FirstName", "LastName"]);
    }

    #[test]
    fn a_payload_of_another_schema_is_a_clear_error() {
        let schema = EventSchema::parse(SCHEMA).expect("parses");
        assert!(matches!(
            schema.decode(&[1, 2, 3]),
            Err(DecodeError::Payload(_))
        ));
        assert!(matches!(
            EventSchema::parse("{}"),
            Err(DecodeError::Schema(_))
        ));
    }
}
