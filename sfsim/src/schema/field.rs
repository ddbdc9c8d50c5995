//! Fields of the simulated org: their types ([`FieldKind`]) and definitions ([`FieldDef`]),
//! built from the metadata model with the defaults Salesforce applies (lengths, precision),
//! plus the system fields every object has. Validation and formatting read these.

use salesforce_metadata::{FieldMeta, FieldType};

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
    /// The simulated kind of a metadata type; `None` for types the simulator does not
    /// implement.
    fn of(kind: &FieldType) -> Option<Self> {
        Some(match kind {
            FieldType::Text => Self::Text,
            FieldType::TextArea | FieldType::LongTextArea => Self::TextArea,
            FieldType::Email => Self::Email,
            FieldType::Phone => Self::Phone,
            FieldType::Url => Self::Url,
            FieldType::Picklist => Self::Picklist,
            FieldType::Currency => Self::Currency,
            FieldType::Number => Self::Number,
            FieldType::Percent => Self::Percent,
            FieldType::Checkbox => Self::Boolean,
            FieldType::Date => Self::Date,
            FieldType::DateTime => Self::DateTime,
            FieldType::Lookup | FieldType::MasterDetail => Self::Lookup,
            FieldType::AutoNumber | FieldType::Other(_) => return None,
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

    pub(super) fn from_meta(field: &FieldMeta) -> Result<Self, SimError> {
        let kind = FieldKind::of(&field.kind).ok_or_else(|| {
            SimError::Schema(format!(
                "{}: <type>: unsupported field type {}",
                field.file,
                field.kind.api_name()
            ))
        })?;
        if field.formula.is_some() {
            return Err(SimError::Schema(format!(
                "{}: <formula>: formula fields are not simulated",
                field.file
            )));
        }
        Ok(Self {
            name: field.name.clone(),
            label: field.label.clone(),
            kind,
            length: field.max_length().unwrap_or(255),
            precision: field.precision.unwrap_or(18),
            scale: field.scale.unwrap_or(0),
            required: field.is_required(),
            external_id: field.external_id,
            unique: field.unique,
            case_sensitive: field.case_sensitive,
            matchable: field.external_id || field.id_lookup,
            picklist: field
                .picklist
                .as_ref()
                .map(|picklist| picklist.values.clone())
                .unwrap_or_default(),
            restricted: field
                .picklist
                .as_ref()
                .is_some_and(|picklist| picklist.restricted),
            reference_to: field.reference_to.clone(),
            relationship_name: field.relationship_name(),
            createable: true,
            updateable: true,
        })
    }
}
