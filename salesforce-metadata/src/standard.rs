//! What a project does not say about standard objects: a project only *extends* them (a
//! folder `objects/Contact/` with custom fields and no object file), so their label, `Name`
//! and standard fields are Salesforce's and are listed here. Both consumers of the model
//! need them: the simulator to accept writes to `Contact.LastName`, the fleet's mapping
//! check to accept a mapping that writes it. Only the standard objects and fields the fleet
//! can meet are listed; a folder for any other standard object is an error rather than a
//! model with missing fields.
//!
//! Key prefixes (Contact `003`) are not here: an org assigns them when an object is
//! created, they are not part of any metadata, and only the simulator hands out ids, so
//! they stay in `sfsim`.

use crate::formula::ValueKind;
use crate::model::{FieldMeta, FieldType, NameField, NameFieldKind, ObjectMeta};

/// Fields every record has, read-only, besides `Name`: what a formula may read on any
/// object.
pub const SYSTEM_FIELDS: &[(&str, ValueKind)] = &[
    ("Id", ValueKind::Text),
    ("CreatedDate", ValueKind::DateTime),
    ("LastModifiedDate", ValueKind::DateTime),
    ("SystemModstamp", ValueKind::DateTime),
];

/// The standard object `name` with its standard fields (no custom ones yet), if known;
/// `folder` is how its folder is named in messages.
pub(crate) fn standard_object(name: &str, folder: &str) -> Option<ObjectMeta> {
    if !name.eq_ignore_ascii_case("Contact") {
        return None;
    }
    let field = |name: &str, label: &str, kind: FieldType| FieldMeta {
        name: name.to_owned(),
        label: label.to_owned(),
        kind,
        length: None,
        precision: None,
        scale: None,
        required: false,
        unique: false,
        external_id: false,
        case_sensitive: false,
        id_lookup: false,
        formula: None,
        picklist: None,
        reference_to: None,
        child_relationship_name: None,
        description: None,
        standard: true,
        file: folder.to_owned(),
    };
    let first_name = FieldMeta {
        length: Some(40),
        ..field("FirstName", "First Name", FieldType::Text)
    };
    let last_name = FieldMeta {
        length: Some(80),
        required: true,
        ..field("LastName", "Last Name", FieldType::Text)
    };
    let email = FieldMeta {
        id_lookup: true,
        ..field("Email", "Email", FieldType::Email)
    };
    Some(ObjectMeta {
        name: "Contact".to_owned(),
        label: "Contact".to_owned(),
        plural_label: Some("Contacts".to_owned()),
        standard: true,
        name_field: NameField {
            label: "Full Name".to_owned(),
            kind: NameFieldKind::FullName,
        },
        sharing_model: None,
        description: None,
        fields: vec![
            first_name,
            last_name,
            email,
            field("Phone", "Business Phone", FieldType::Phone),
        ],
        validation_rules: Vec::new(),
        file: folder.to_owned(),
    })
}
