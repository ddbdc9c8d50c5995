//! Objects of the simulated org ([`ObjectDef`]): their fields with case-insensitive lookup by
//! API name and by relationship name, and how their `Name` field behaves ([`NameKind`]).
//! Built from a schema file entry, with the system fields added first.

use std::collections::HashMap;

use super::file::ObjectEntry;
use super::{FieldDef, FieldKind};
use crate::error::SimError;

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

/// One sObject of the simulated org, with its fields indexed for case-insensitive lookup.
#[derive(Debug)]
pub struct ObjectDef {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Plural label.
    pub label_plural: String,
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

    pub(super) fn from_entry(entry: &ObjectEntry) -> Result<Self, SimError> {
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
            label_plural: entry
                .label_plural
                .clone()
                .unwrap_or_else(|| format!("{}s", entry.label)),
            key_prefix: entry.key_prefix.clone(),
            name_kind,
            fields,
            by_exact_name,
            by_name,
            by_relationship,
        })
    }
}
