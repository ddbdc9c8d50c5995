//! The typed model of an org's data: objects ([`ObjectMeta`]), their fields ([`FieldMeta`])
//! and validation rules ([`ValidationRule`]). Every item keeps the file it came from, so a
//! consumer's error can send the user to the right file. Names are looked up ignoring case,
//! as Salesforce matches API names.

use crate::formula::{Formula, ValueKind};
use crate::standard::SYSTEM_FIELDS;

/// One sObject.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    /// API name, e.g. `Stripe_Customer__c`.
    pub name: String,
    /// Label.
    pub label: String,
    /// Plural label, when the file gives one.
    pub plural_label: Option<String>,
    /// A standard object (Contact): the project only extends it, its object file is absent.
    pub standard: bool,
    /// How the `Name` field behaves.
    pub name_field: NameField,
    /// `sharingModel` (`ReadWrite`, `ControlledByParent`, ...), when the file gives one.
    pub sharing_model: Option<String>,
    /// Description, when the file gives one.
    pub description: Option<String>,
    /// Custom fields (file name order), after a standard object's standard fields.
    pub fields: Vec<FieldMeta>,
    /// Validation rules, in file name order (inactive ones included).
    pub validation_rules: Vec<ValidationRule>,
    /// The object file, or the object's folder when there is none (standard objects).
    pub file: String,
}

impl ObjectMeta {
    /// The field with this API name, ignoring case (not the system fields nor `Name`).
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case(name))
    }

    /// Canonical name and formula type of any field a formula may read: the object's
    /// fields, `Name`, and the system fields every record has (`Id`, `CreatedDate`, ...).
    pub fn readable(&self, name: &str) -> Option<(String, ValueKind)> {
        if let Some(field) = self.field(name) {
            return Some((field.name.clone(), field.kind.value_kind()));
        }
        if name.eq_ignore_ascii_case("Name") {
            return Some(("Name".to_owned(), ValueKind::Text));
        }
        SYSTEM_FIELDS
            .iter()
            .find(|(system, _)| system.eq_ignore_ascii_case(name))
            .map(|(system, kind)| ((*system).to_owned(), *kind))
    }
}

/// The standard `Name` field of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameField {
    /// Its label.
    pub label: String,
    /// How its value comes about.
    pub kind: NameFieldKind,
}

/// How an object's `Name` gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFieldKind {
    /// Numbered by Salesforce on insert from a display format such as `SC-{000000}`;
    /// read-only.
    AutoNumber {
        /// The display format.
        display_format: String,
    },
    /// Text the client sets; required.
    Text,
    /// Contact-style: built from `FirstName` and `LastName`; read-only.
    FullName,
}

impl NameFieldKind {
    /// Whether clients may write `Name`.
    pub fn is_writable(&self) -> bool {
        *self == NameFieldKind::Text
    }
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    /// API name.
    pub name: String,
    /// Label (Salesforce uses it in error messages).
    pub label: String,
    /// Metadata API type.
    pub kind: FieldType,
    /// `length` as the file states it (text types).
    pub length: Option<usize>,
    /// `precision`: total digits (numbers).
    pub precision: Option<u32>,
    /// `scale`: digits after the point (numbers).
    pub scale: Option<u32>,
    /// `required` (a master-detail field always is: see [`FieldMeta::is_required`]).
    pub required: bool,
    /// `unique`.
    pub unique: bool,
    /// `externalId`: usable as an upsert key and in relationship references.
    pub external_id: bool,
    /// `caseSensitive` (of a unique field).
    pub case_sensitive: bool,
    /// A standard field with `idLookup` (Contact.Email): usable as an upsert key too.
    pub id_lookup: bool,
    /// `formula`: a formula field, computed by Salesforce and read-only.
    pub formula: Option<String>,
    /// The picklist's values, for picklists.
    pub picklist: Option<Picklist>,
    /// `referenceTo`: the parent object of a lookup or master-detail.
    pub reference_to: Option<String>,
    /// `relationshipName`: the parent's name for its *children* (subqueries), not the
    /// name a child uses for its parent (see [`FieldMeta::relationship_name`]).
    pub child_relationship_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// A standard field (not in any file; `file` is the object's folder).
    pub standard: bool,
    /// The field file.
    pub file: String,
}

impl FieldMeta {
    /// Required on insert: `required`, or any master-detail field.
    pub fn is_required(&self) -> bool {
        self.required || self.kind == FieldType::MasterDetail
    }

    /// Whether clients may set the field: not a formula, an auto-number or a roll-up
    /// summary, which Salesforce computes.
    pub fn is_writable(&self) -> bool {
        let computed = match &self.kind {
            FieldType::AutoNumber => true,
            FieldType::Other(name) => name == "Summary",
            _ => false,
        };
        self.formula.is_none() && !computed
    }

    /// The name a record uses for the parent of this lookup: the field name with `__c`
    /// replaced by `__r`, as Salesforce derives it for custom relationships
    /// (`Stripe_Customer__c` → `Stripe_Customer__r`).
    pub fn relationship_name(&self) -> Option<String> {
        if !self.kind.is_reference() {
            return None;
        }
        self.name
            .strip_suffix("__c")
            .map(|base| format!("{base}__r"))
    }

    /// Longest text the field holds: the stated length, or the length Salesforce fixes for
    /// the type (Text Area 255, Email 80, Phone 40, URL 255, Long Text Area default 32,768,
    /// picklist values 255, ids 18).
    pub fn max_length(&self) -> Option<usize> {
        match self.kind {
            FieldType::Text => self.length,
            FieldType::LongTextArea => Some(self.length.unwrap_or(32_768)),
            FieldType::TextArea | FieldType::Url | FieldType::Picklist => Some(255),
            FieldType::Email => Some(80),
            FieldType::Phone => Some(40),
            FieldType::Lookup | FieldType::MasterDetail => Some(18),
            _ => None,
        }
    }
}

/// A picklist's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picklist {
    /// API names of the values, in file order.
    pub values: Vec<String>,
    /// Restricted: other values are refused.
    pub restricted: bool,
    /// The global value set the values come from, if any.
    pub global_value_set: Option<String>,
}

/// A field's Metadata API type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// `Text`.
    Text,
    /// `TextArea` (always 255 characters).
    TextArea,
    /// `LongTextArea`.
    LongTextArea,
    /// `Email`.
    Email,
    /// `Phone`.
    Phone,
    /// `Url`.
    Url,
    /// `Number`.
    Number,
    /// `Currency`.
    Currency,
    /// `Percent`.
    Percent,
    /// `Checkbox`.
    Checkbox,
    /// `Date`.
    Date,
    /// `DateTime`.
    DateTime,
    /// `Picklist`.
    Picklist,
    /// `Lookup`.
    Lookup,
    /// `MasterDetail`: a required lookup whose parent controls sharing.
    MasterDetail,
    /// `AutoNumber`: numbered by Salesforce, read-only.
    AutoNumber,
    /// Any other type (`Summary`, `MultiselectPicklist`, `Html`, ...), as written.
    Other(String),
}

impl FieldType {
    /// The type named in a `<type>` element.
    pub fn parse(text: &str) -> Self {
        match text {
            "Text" => Self::Text,
            "TextArea" => Self::TextArea,
            "LongTextArea" => Self::LongTextArea,
            "Email" => Self::Email,
            "Phone" => Self::Phone,
            "Url" => Self::Url,
            "Number" => Self::Number,
            "Currency" => Self::Currency,
            "Percent" => Self::Percent,
            "Checkbox" => Self::Checkbox,
            "Date" => Self::Date,
            "DateTime" => Self::DateTime,
            "Picklist" => Self::Picklist,
            "Lookup" => Self::Lookup,
            "MasterDetail" => Self::MasterDetail,
            "AutoNumber" => Self::AutoNumber,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The Metadata API name of the type.
    pub fn api_name(&self) -> &str {
        match self {
            Self::Text => "Text",
            Self::TextArea => "TextArea",
            Self::LongTextArea => "LongTextArea",
            Self::Email => "Email",
            Self::Phone => "Phone",
            Self::Url => "Url",
            Self::Number => "Number",
            Self::Currency => "Currency",
            Self::Percent => "Percent",
            Self::Checkbox => "Checkbox",
            Self::Date => "Date",
            Self::DateTime => "DateTime",
            Self::Picklist => "Picklist",
            Self::Lookup => "Lookup",
            Self::MasterDetail => "MasterDetail",
            Self::AutoNumber => "AutoNumber",
            Self::Other(name) => name,
        }
    }

    /// Holds text (Text, text areas, Email, Phone, Url).
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Self::Text
                | Self::TextArea
                | Self::LongTextArea
                | Self::Email
                | Self::Phone
                | Self::Url
        )
    }

    /// Holds a number (Number, Currency, Percent).
    pub fn is_numeric(&self) -> bool {
        matches!(self, Self::Number | Self::Currency | Self::Percent)
    }

    /// Holds a parent's id (Lookup, MasterDetail).
    pub fn is_reference(&self) -> bool {
        matches!(self, Self::Lookup | Self::MasterDetail)
    }

    /// What a formula sees when it reads a field of this type.
    pub fn value_kind(&self) -> ValueKind {
        match self {
            Self::Number | Self::Currency | Self::Percent => ValueKind::Number,
            Self::Checkbox => ValueKind::Boolean,
            Self::Date => ValueKind::Date,
            Self::DateTime => ValueKind::DateTime,
            Self::Picklist => ValueKind::Picklist,
            _ => ValueKind::Text,
        }
    }
}

/// One validation rule of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRule {
    /// `fullName`, e.g. `Fence_Last_Event`.
    pub name: String,
    /// `active`: inactive rules are read but not enforced.
    pub active: bool,
    /// `description`.
    pub description: Option<String>,
    /// `errorConditionFormula` as written; the save fails when it is TRUE.
    pub error_condition_formula: String,
    /// The formula, parsed and checked against the object's fields.
    pub formula: Formula,
    /// `errorDisplayField` (canonical API name), where the message shows.
    pub error_display_field: Option<String>,
    /// `errorMessage`: what the failed save reports.
    pub error_message: String,
    /// The rule's file.
    pub file: String,
}
