//! The schema file format (JSON). `sfsim/sfsim-schema.json` is the default and the
//! reference example; an org with other objects or field names only needs another file.

use serde::Deserialize;

/// The whole file: a list of objects.
#[derive(Debug, Deserialize)]
pub struct SchemaFile {
    /// Objects of the simulated org.
    pub objects: Vec<ObjectEntry>,
}

/// One sObject.
#[derive(Debug, Deserialize)]
pub struct ObjectEntry {
    /// API name, e.g. `Stripe_Customer__c`.
    pub name: String,
    /// Label used in error messages.
    pub label: String,
    /// Plural label (describe's `labelPlural`); default: the label + "s".
    #[serde(default)]
    pub label_plural: Option<String>,
    /// Three-character id prefix, e.g. `a01`.
    pub key_prefix: String,
    /// How the standard `Name` field behaves.
    pub name_field: NameEntry,
    /// Custom (and writable standard) fields.
    pub fields: Vec<FieldEntry>,
}

/// The standard `Name` field.
#[derive(Debug, Deserialize)]
pub struct NameEntry {
    /// `auto_number`, `text` or `full_name` (Contact-style, built from FirstName LastName).
    pub kind: String,
    /// Field label.
    pub label: String,
    /// Display format of an auto-number, e.g. `SC-{000000}`.
    #[serde(default)]
    pub format: Option<String>,
}

/// One field.
#[derive(Debug, Default, Deserialize)]
pub struct FieldEntry {
    /// API name.
    pub name: String,
    /// Label used in error messages (`<Label>: data value too large: ...`).
    pub label: String,
    /// `text`, `textarea`, `email`, `phone`, `url`, `picklist`, `currency`, `number`,
    /// `percent`, `boolean`, `date`, `datetime` or `lookup`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Maximum length of text-like fields.
    #[serde(default)]
    pub length: Option<usize>,
    /// Total digits of numeric fields.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Digits after the point of numeric fields.
    #[serde(default)]
    pub scale: Option<u32>,
    /// Required on create (and may not be cleared).
    #[serde(default)]
    pub required: bool,
    /// Flagged External ID: usable for upsert and relationship references.
    #[serde(default)]
    pub external_id: bool,
    /// Unique: a second record with the same value fails with `DUPLICATE_VALUE`.
    #[serde(default)]
    pub unique: bool,
    /// Unique case-sensitive; otherwise matching ignores case (docs/salesforce-api.md §10.3 guess).
    #[serde(default)]
    pub case_sensitive: bool,
    /// A standard field with `idLookup` (e.g. Contact.Email): usable as an upsert key.
    #[serde(default)]
    pub id_lookup: bool,
    /// Picklist values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Restricted picklist: other values fail.
    #[serde(default)]
    pub restricted: bool,
    /// Lookup target object.
    #[serde(default)]
    pub reference_to: Option<String>,
    /// Lookup relationship name, e.g. `Stripe_Customer__r`.
    #[serde(default)]
    pub relationship_name: Option<String>,
}
