//! Fields of the simulated org: their types ([`FieldKind`]) and definitions ([`FieldDef`]),
//! built from schema file entries with the defaults Salesforce applies (lengths, precision),
//! plus the system fields every object has. Validation and formatting read these.

use super::file::FieldEntry;
use crate::error::SimError;

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
    pub(super) fn system(name: &str, label: &str, kind: FieldKind) -> Self {
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

    pub(super) fn from_entry(entry: &FieldEntry, object: &str) -> Result<Self, SimError> {
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
