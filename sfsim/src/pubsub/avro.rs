//! Avro schemas and payloads of change events, one schema per published object: a
//! `ChangeEventHeader` record first, then every field of the object as an optional value
//! (`["null", type]`), a person name (`FirstName`, `LastName`, ...) nested in a compound
//! `Name` record as Salesforce does. Field positions in this schema index the header's
//! bitmaps (`bitmap`). The schema id is derived from the schema text, so it is stable.

use std::collections::HashMap;
use std::sync::Arc;

use apache_avro::types::Value as Avro;
use base64::Engine as _;
use serde_json::{json, Value};

use super::bitmap::FieldSet;
use super::event::{ChangeEvent, ChangeType};
use crate::clock;
use crate::schema::{FieldKind, NameKind, ObjectDef, Schema};

/// Components of a person name, in Salesforce's order, as far as the object has them.
const NAME_PARTS: [&str; 5] = [
    "Salutation",
    "FirstName",
    "LastName",
    "MiddleName",
    "Suffix",
];

/// One top-level field of the event record after the header.
#[derive(Debug, Clone)]
enum Slot {
    Plain(String, FieldKind),
    Compound(String, Vec<(String, FieldKind)>),
}

impl Slot {
    fn name(&self) -> &str {
        match self {
            Self::Plain(name, _) | Self::Compound(name, _) => name,
        }
    }
}

/// The change event schema of one object.
#[derive(Debug)]
pub struct EventSchema {
    /// Object API name.
    pub entity: String,
    /// Stable id handed out by `GetTopic` and on every event.
    pub schema_id: String,
    /// The schema as JSON, as `GetSchema` returns it.
    pub json: String,
    schema: apache_avro::Schema,
    slots: Vec<Slot>,
}

/// The Avro type of a field's values.
fn avro_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Boolean => "boolean",
        FieldKind::Currency | FieldKind::Number | FieldKind::Percent => "double",
        // Pub/Sub delivers dates as epoch time (cdc_event_diff_pubsub_cometd); the exact
        // Avro type is unverified: DateTime as epoch ms, Date as epoch ms of midnight UTC.
        FieldKind::Date | FieldKind::DateTime => "long",
        _ => "string",
    }
}

fn optional(name: &str, kind_json: Value) -> Value {
    json!({"name": name, "type": ["null", kind_json], "default": null})
}

fn header_json() -> Value {
    let strings = json!({"type": "array", "items": "string"});
    let symbols: Vec<&str> = ChangeType::ALL.iter().map(|t| t.as_str()).collect();
    json!({
        "type": "record", "name": "ChangeEventHeader", "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "symbols": symbols}},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ]
    })
}

impl EventSchema {
    /// The schema of `object`'s change events.
    pub fn build(object: &ObjectDef) -> Result<Self, apache_avro::Error> {
        let full_name = object.name_kind == NameKind::FullName;
        let parts: Vec<(String, FieldKind)> = NAME_PARTS
            .iter()
            .filter_map(|part| object.field(part).map(|f| (f.name.clone(), f.kind)))
            .collect();
        let mut slots = Vec::new();
        for field in &object.fields {
            if field.name == "Id" || (full_name && NAME_PARTS.contains(&field.name.as_str())) {
                continue;
            }
            if full_name && field.name == "Name" {
                slots.push(Slot::Compound("Name".into(), parts.clone()));
            } else {
                slots.push(Slot::Plain(field.name.clone(), field.kind));
            }
        }
        let mut fields = vec![json!({"name": "ChangeEventHeader", "type": header_json()})];
        for slot in &slots {
            fields.push(match slot {
                Slot::Plain(name, kind) => optional(name, json!(avro_type(*kind))),
                Slot::Compound(name, parts) => {
                    let nested: Vec<Value> = parts
                        .iter()
                        .map(|(part, kind)| optional(part, json!(avro_type(*kind))))
                        .collect();
                    optional(
                        name,
                        json!({"type": "record", "name": name, "fields": nested}),
                    )
                }
            });
        }
        let event_name = match object.name.strip_suffix("__c") {
            Some(custom) => format!("{custom}__ChangeEvent"),
            None => format!("{}ChangeEvent", object.name),
        };
        let json = json!({
            "type": "record", "name": event_name, "namespace": "com.sforce.eventbus",
            "fields": fields,
        })
        .to_string();
        let schema = apache_avro::Schema::parse_str(&json)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, json.as_bytes());
        let schema_id =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
        Ok(Self {
            entity: object.name.clone(),
            schema_id,
            json,
            schema,
            slots,
        })
    }

    /// Top-level field names in schema order (position 0 is `ChangeEventHeader`).
    pub fn top_names(&self) -> Vec<String> {
        std::iter::once("ChangeEventHeader".to_string())
            .chain(self.slots.iter().map(|slot| slot.name().to_string()))
            .collect()
    }

    /// Names inside the compound field at top-level `position`, if it is one.
    pub fn nested_names(&self, position: usize) -> Option<Vec<String>> {
        match self.slots.get(position.checked_sub(1)?)? {
            Slot::Compound(_, parts) => Some(parts.iter().map(|(n, _)| n.clone()).collect()),
            Slot::Plain(..) => None,
        }
    }

    /// Positions of the named fields (compound components nested; unknown names ignored).
    fn field_set<'a>(&self, names: impl Iterator<Item = &'a String>) -> FieldSet {
        let mut set = FieldSet::default();
        for name in names {
            for (index, slot) in self.slots.iter().enumerate() {
                match slot {
                    Slot::Plain(plain, _) if plain == name => set.top.push(index + 1),
                    Slot::Compound(_, parts) => {
                        if let Some(part) = parts.iter().position(|(p, _)| p == name) {
                            set.nested.entry(index + 1).or_default().push(part);
                        }
                    }
                    Slot::Plain(..) => {}
                }
            }
        }
        set.top.sort_unstable();
        set
    }

    /// The Avro binary payload of `event`.
    pub fn encode(&self, event: &ChangeEvent) -> Result<Vec<u8>, apache_avro::Error> {
        let (changed, nulled) = if event.change_type == ChangeType::Update {
            let nulled = event
                .values
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(k, _)| k);
            (self.field_set(event.values.keys()), self.field_set(nulled))
        } else {
            (FieldSet::default(), FieldSet::default())
        };
        let strings =
            |items: Vec<String>| Avro::Array(items.into_iter().map(Avro::String).collect());
        let header = Avro::Record(vec![
            ("entityName".into(), Avro::String(event.entity.clone())),
            ("recordIds".into(), strings(event.record_ids.clone())),
            (
                "changeType".into(),
                Avro::Enum(
                    u32::try_from(event.change_type.index()).unwrap_or(0),
                    event.change_type.as_str().into(),
                ),
            ),
            (
                "changeOrigin".into(),
                Avro::String(event.change_origin.clone()),
            ),
            (
                "transactionKey".into(),
                Avro::String(event.transaction_key.clone()),
            ),
            ("sequenceNumber".into(), Avro::Int(event.sequence_number)),
            ("commitTimestamp".into(), Avro::Long(event.commit_timestamp)),
            ("commitNumber".into(), Avro::Long(event.commit_number)),
            ("commitUser".into(), Avro::String(event.commit_user.clone())),
            ("nulledFields".into(), strings(nulled.encode())),
            ("diffFields".into(), strings(Vec::new())),
            ("changedFields".into(), strings(changed.encode())),
        ]);
        let mut fields = vec![("ChangeEventHeader".to_string(), header)];
        for slot in &self.slots {
            let value = match slot {
                Slot::Plain(name, kind) => to_avro(event.values.get(name), *kind),
                Slot::Compound(_, parts) => {
                    let nested: Vec<(String, Avro)> = parts
                        .iter()
                        .map(|(part, kind)| (part.clone(), to_avro(event.values.get(part), *kind)))
                        .collect();
                    if nested
                        .iter()
                        .all(|(_, v)| *v == Avro::Union(0, Box::new(Avro::Null)))
                    {
                        Avro::Union(0, Box::new(Avro::Null))
                    } else {
                        Avro::Union(1, Box::new(Avro::Record(nested)))
                    }
                }
            };
            fields.push((slot.name().to_string(), value));
        }
        apache_avro::to_avro_datum(&self.schema, Avro::Record(fields))
    }
}

/// A stored JSON value as the optional Avro value of its field's type (null when absent
/// or not convertible).
fn to_avro(value: Option<&Value>, kind: FieldKind) -> Avro {
    let null = Avro::Union(0, Box::new(Avro::Null));
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return null;
    };
    let text = crate::values::as_text(value);
    let converted = match kind {
        FieldKind::Boolean => value
            .as_bool()
            .or_else(|| text.parse().ok())
            .map(Avro::Boolean),
        FieldKind::Currency | FieldKind::Number | FieldKind::Percent => value
            .as_f64()
            .or_else(|| text.parse().ok())
            .map(Avro::Double),
        FieldKind::DateTime => clock::parse_datetime(&text).map(Avro::Long),
        FieldKind::Date => clock::parse_datetime(&format!("{text}T00:00:00Z")).map(Avro::Long),
        _ => Some(Avro::String(text)),
    };
    converted.map_or(null, |v| Avro::Union(1, Box::new(v)))
}

/// The schemas of every published object, by object and by schema id.
#[derive(Debug, Default)]
pub struct EventSchemas {
    by_entity: HashMap<String, Arc<EventSchema>>,
    by_id: HashMap<String, Arc<EventSchema>>,
}

impl EventSchemas {
    /// Builds the schemas of `objects` (names not in `schema` are skipped).
    pub fn build(schema: &Schema, objects: &[String]) -> Result<Self, apache_avro::Error> {
        let mut schemas = Self::default();
        for object in objects.iter().filter_map(|name| schema.object(name)) {
            let built = Arc::new(EventSchema::build(object)?);
            schemas.by_id.insert(built.schema_id.clone(), built.clone());
            schemas.by_entity.insert(object.name.clone(), built);
        }
        Ok(schemas)
    }

    /// The schema of an object's events.
    pub fn for_entity(&self, entity: &str) -> Option<&Arc<EventSchema>> {
        self.by_entity.get(entity)
    }

    /// The schema with this id.
    pub fn by_id(&self, schema_id: &str) -> Option<&Arc<EventSchema>> {
        self.by_id.get(schema_id)
    }
}
