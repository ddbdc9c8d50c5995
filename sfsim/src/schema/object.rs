//! Objects of the simulated org ([`ObjectDef`]): their fields with case-insensitive lookup by
//! API name and by relationship name, how their `Name` field behaves ([`NameKind`]), and
//! their validation rules. Built from the metadata model, with the system fields added first.

use std::collections::HashMap;

use salesforce_metadata::{NameFieldKind, ObjectMeta, ValidationRule};

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
    /// The active validation rules, in file name order (inactive ones are not enforced).
    pub validation_rules: Vec<ValidationRule>,
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

    pub(super) fn from_meta(meta: &ObjectMeta, key_prefix: String) -> Result<Self, SimError> {
        let mut fields = vec![
            FieldDef::system("Id", &format!("{} ID", meta.label), FieldKind::Id),
            FieldDef::system("CreatedDate", "Created Date", FieldKind::DateTime),
            FieldDef::system(
                "LastModifiedDate",
                "Last Modified Date",
                FieldKind::DateTime,
            ),
            FieldDef::system("SystemModstamp", "System Modstamp", FieldKind::DateTime),
        ];
        let name_kind = match &meta.name_field.kind {
            NameFieldKind::AutoNumber { display_format } => {
                let (prefix, rest) = display_format
                    .split_once('{')
                    .unwrap_or((display_format, "0}"));
                NameKind::AutoNumber {
                    prefix: prefix.to_string(),
                    width: rest.trim_end_matches('}').len(),
                }
            }
            NameFieldKind::Text => NameKind::Text,
            NameFieldKind::FullName => NameKind::FullName,
        };
        let mut name_field = FieldDef::system("Name", &meta.name_field.label, FieldKind::Text);
        name_field.length = 80;
        name_field.case_sensitive = false;
        if name_kind == NameKind::Text {
            name_field.required = true;
            name_field.createable = true;
            name_field.updateable = true;
        }
        fields.push(name_field);
        for field in &meta.fields {
            fields.push(FieldDef::from_meta(field)?);
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
                    meta.file, field.name
                )));
            }
            if let Some(relationship) = &field.relationship_name {
                by_relationship.insert(relationship.to_ascii_lowercase(), index);
            }
        }
        Ok(Self {
            name: meta.name.clone(),
            label: meta.label.clone(),
            label_plural: meta
                .plural_label
                .clone()
                .unwrap_or_else(|| format!("{}s", meta.label)),
            key_prefix,
            name_kind,
            fields,
            validation_rules: meta
                .validation_rules
                .iter()
                .filter(|rule| rule.active)
                .cloned()
                .collect(),
            by_exact_name,
            by_name,
            by_relationship,
        })
    }
}
