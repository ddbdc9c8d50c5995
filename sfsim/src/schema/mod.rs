//! The simulated org's data model: objects, fields, types and constraints.
//!
//! Loaded from a JSON file (see [`file`]); the default is seed 002's model, embedded from
//! `sfsim/sfsim-schema.json`. Names are matched case-insensitively, as the real org does
//! for object names in paths and field names in bodies (docs/salesforce-api.md §2.2). Unknown
//! objects and fields are errors, so a mapping mistake in the fleet shows up in tests.

pub mod file;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::SimError;
use file::{FieldEntry, ObjectEntry, SchemaFile};

/// The default schema file, compiled in.
pub const DEFAULT_SCHEMA_JSON: &str = include_str!("../../sfsim-schema.json");

/// A field's data type, as far as validation and formatting need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A record id (the `Id` field).
    Id,
    /// Text with a maximum length.
    Text,
    /// Long text area.
    TextArea,
    /// Email: validated server-side.
    Email,
    /// Phone: no format validation, only the length (§7).
    Phone,
    /// URL.
    Url,
    /// Picklist, restricted or not.
    Picklist,
    /// Currency: a number with precision and scale.
    Currency,
    /// Number.
    Number,
    /// Percent.
    Percent,
    /// Checkbox.
    Boolean,
    /// Date (`yyyy-MM-dd`).
    Date,
    /// DateTime.
    DateTime,
    /// Lookup (reference) to another object.
    Lookup,
}

impl FieldKind {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "text" => Self::Text,
            "textarea" => Self::TextArea,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "url" => Self::Url,
            "picklist" => Self::Picklist,
            "currency" => Self::Currency,
            "number" => Self::Number,
            "percent" => Self::Percent,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" => Self::DateTime,
            "lookup" => Self::Lookup,
            _ => return None,
        })
    }

    /// Whether values of this kind are numbers on the wire.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Currency | Self::Number | Self::Percent)
    }
}

/// One field of an object.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// API name.
    pub name: String,
    /// Label used in error messages.
    pub label: String,
    /// Data type.
    pub kind: FieldKind,
    /// Maximum length of text-like values.
    pub length: usize,
    /// Total digits of numbers.
    pub precision: u32,
    /// Digits after the point of numbers.
    pub scale: u32,
    /// Required on create.
    pub required: bool,
    /// External ID flag.
    pub external_id: bool,
    /// Unique constraint.
    pub unique: bool,
    /// Matching is case-sensitive.
    pub case_sensitive: bool,
    /// Usable as an upsert / relationship key (external id, idLookup, or `Id`).
    pub matchable: bool,
    /// Picklist values.
    pub picklist: Vec<String>,
    /// Restricted picklist.
    pub restricted: bool,
    /// Lookup target.
    pub reference_to: Option<String>,
    /// Lookup relationship name.
    pub relationship_name: Option<String>,
    /// Clients may set it on insert.
    pub createable: bool,
    /// Clients may set it on update.
    pub updateable: bool,
}

impl FieldDef {
    fn system(name: &str, label: &str, kind: FieldKind) -> Self {
        Self {
            name: name.to_string(),
            label: label.to_string(),
            kind,
            length: 18,
            precision: 0,
            scale: 0,
            required: false,
            external_id: false,
            unique: false,
            case_sensitive: true,
            matchable: name == "Id",
            picklist: Vec::new(),
            restricted: false,
            reference_to: None,
            relationship_name: None,
            createable: false,
            updateable: false,
        }
    }

    fn from_entry(entry: &FieldEntry, object: &str) -> Result<Self, SimError> {
        let kind = FieldKind::parse(&entry.kind).ok_or_else(|| {
            SimError::Schema(format!(
                "{object}.{}: unknown type {}",
                entry.name, entry.kind
            ))
        })?;
        let default_length = match kind {
            FieldKind::Email => 80,
            FieldKind::Phone => 40,
            FieldKind::TextArea => 32_768,
            FieldKind::Lookup => 18,
            _ => 255,
        };
        if kind == FieldKind::Lookup
            && (entry.reference_to.is_none() || entry.relationship_name.is_none())
        {
            return Err(SimError::Schema(format!(
                "{object}.{}: a lookup needs reference_to and relationship_name",
                entry.name
            )));
        }
        Ok(Self {
            name: entry.name.clone(),
            label: entry.label.clone(),
            kind,
            length: entry.length.unwrap_or(default_length),
            precision: entry.precision.unwrap_or(18),
            scale: entry.scale.unwrap_or(0),
            required: entry.required,
            external_id: entry.external_id,
            unique: entry.unique,
            case_sensitive: entry.case_sensitive,
            matchable: entry.external_id || entry.id_lookup,
            picklist: entry.values.clone(),
            restricted: entry.restricted,
            reference_to: entry.reference_to.clone(),
            relationship_name: entry.relationship_name.clone(),
            createable: true,
            updateable: true,
        })
    }
}

/// How an object's `Name` is produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameKind {
    /// Assigned on insert from a display format such as `SC-{000000}`; read-only.
    AutoNumber {
        /// Text before the number.
        prefix: String,
        /// Zero-padded width of the number.
        width: usize,
    },
    /// Ordinary required text.
    Text,
    /// Contact-style: `FirstName LastName`, read-only.
    FullName,
}

/// One sObject.
#[derive(Debug)]
pub struct ObjectDef {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Id key prefix.
    pub key_prefix: String,
    /// How `Name` works.
    pub name_kind: NameKind,
    /// All fields, system fields first.
    pub fields: Vec<FieldDef>,
    by_exact_name: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    by_relationship: HashMap<String, usize>,
}

impl ObjectDef {
    /// The field with this API name, ignoring case.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        // Clients almost always send the canonical case: try that without allocating.
        self.by_exact_name
            .get(name)
            .or_else(|| self.by_name.get(&name.to_ascii_lowercase()))
            .map(|index| &self.fields[*index])
    }

    /// The lookup field whose relationship name is `name` (e.g. `Stripe_Customer__r`).
    pub fn relationship(&self, name: &str) -> Option<&FieldDef> {
        self.by_relationship
            .get(&name.to_ascii_lowercase())
            .map(|index| &self.fields[*index])
    }

    /// Fields that must be set on insert.
    pub fn required_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|field| field.required)
    }

    fn from_entry(entry: &ObjectEntry) -> Result<Self, SimError> {
        let mut fields = vec![
            FieldDef::system("Id", &format!("{} ID", entry.label), FieldKind::Id),
            FieldDef::system("CreatedDate", "Created Date", FieldKind::DateTime),
            FieldDef::system(
                "LastModifiedDate",
                "Last Modified Date",
                FieldKind::DateTime,
            ),
            FieldDef::system("SystemModstamp", "System Modstamp", FieldKind::DateTime),
        ];
        let name_kind = match entry.name_field.kind.as_str() {
            "auto_number" => {
                let format = entry.name_field.format.clone().unwrap_or_default();
                let (prefix, rest) = format.split_once('{').unwrap_or((&format, "0}"));
                NameKind::AutoNumber {
                    prefix: prefix.to_string(),
                    width: rest.trim_end_matches('}').len(),
                }
            }
            "text" => NameKind::Text,
            "full_name" => NameKind::FullName,
            other => {
                return Err(SimError::Schema(format!(
                    "{}: unknown name_field kind {other}",
                    entry.name
                )))
            }
        };
        let mut name_field = FieldDef::system("Name", &entry.name_field.label, FieldKind::Text);
        name_field.length = 80;
        name_field.case_sensitive = false;
        if name_kind == NameKind::Text {
            name_field.required = true;
            name_field.createable = true;
            name_field.updateable = true;
        }
        fields.push(name_field);
        for field in &entry.fields {
            fields.push(FieldDef::from_entry(field, &entry.name)?);
        }
        let mut by_name = HashMap::new();
        let mut by_exact_name = HashMap::new();
        let mut by_relationship = HashMap::new();
        for (index, field) in fields.iter().enumerate() {
            by_exact_name.insert(field.name.clone(), index);
            if by_name
                .insert(field.name.to_ascii_lowercase(), index)
                .is_some()
            {
                return Err(SimError::Schema(format!(
                    "{}: field {} declared twice",
                    entry.name, field.name
                )));
            }
            if let Some(relationship) = &field.relationship_name {
                by_relationship.insert(relationship.to_ascii_lowercase(), index);
            }
        }
        if entry.key_prefix.len() != 3
            || !entry.key_prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(SimError::Schema(format!(
                "{}: key_prefix must be 3 letters or digits",
                entry.name
            )));
        }
        Ok(Self {
            name: entry.name.clone(),
            label: entry.label.clone(),
            key_prefix: entry.key_prefix.clone(),
            name_kind,
            fields,
            by_exact_name,
            by_name,
            by_relationship,
        })
    }
}

/// All objects of the simulated org.
#[derive(Debug, Clone)]
pub struct Schema {
    objects: Vec<Arc<ObjectDef>>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
}

impl Schema {
    /// Seed 002's model, from the embedded default file.
    pub fn seed_default() -> Result<Self, SimError> {
        Self::from_json(DEFAULT_SCHEMA_JSON)
    }

    /// Parses and checks a schema file.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let file: SchemaFile =
            serde_json::from_str(text).map_err(|error| SimError::Schema(error.to_string()))?;
        let mut objects = Vec::new();
        let mut by_name = HashMap::new();
        let mut by_prefix = HashMap::new();
        for entry in &file.objects {
            let object = ObjectDef::from_entry(entry)?;
            let index = objects.len();
            if by_name
                .insert(object.name.to_ascii_lowercase(), index)
                .is_some()
                || by_prefix.insert(object.key_prefix.clone(), index).is_some()
            {
                return Err(SimError::Schema(format!(
                    "{}: duplicate object name or key prefix",
                    object.name
                )));
            }
            objects.push(Arc::new(object));
        }
        let schema = Self {
            objects,
            by_name,
            by_prefix,
        };
        for object in &schema.objects {
            for field in &object.fields {
                if let Some(target) = &field.reference_to {
                    if schema.object(target).is_none() {
                        return Err(SimError::Schema(format!(
                            "{}.{} references unknown object {target}",
                            object.name, field.name
                        )));
                    }
                }
            }
        }
        Ok(schema)
    }

    /// The object with this API name, ignoring case.
    pub fn object(&self, name: &str) -> Option<&Arc<ObjectDef>> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|index| &self.objects[*index])
    }

    /// The object whose ids start with this key prefix.
    pub fn object_for_id(&self, id: &str) -> Option<&Arc<ObjectDef>> {
        id.get(..3)
            .and_then(|prefix| self.by_prefix.get(prefix))
            .map(|index| &self.objects[*index])
    }

    /// All objects, in file order.
    pub fn objects(&self) -> &[Arc<ObjectDef>] {
        &self.objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schema_loads_with_seed_objects() {
        let schema = Schema::seed_default().unwrap();
        let customer = schema.object("stripe_customer__c").unwrap();
        assert!(customer.field("Stripe_Customer_ID__C").unwrap().matchable);
        assert_eq!(
            customer.relationship("contact__r").unwrap().name,
            "Contact__c"
        );
        assert!(schema.object("Payment_Transaction__c").is_some());
    }
}
