//! The Metadata API's XML elements as serde structs: only the parts the model is built from.
//! Elements not listed here are ignored, so files retrieved from a real org (with layouts,
//! history settings, ...) read just as well.

use serde::Deserialize;

use crate::error::MetadataError;

/// `<CustomObject>`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomObject {
    pub label: String,
    pub plural_label: Option<String>,
    pub description: Option<String>,
    pub sharing_model: Option<String>,
    pub name_field: NameField,
}

/// `<nameField>` of a custom object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameField {
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub display_format: Option<String>,
}

/// `<CustomField>`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomField {
    pub full_name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
    pub length: Option<usize>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    pub formula: Option<String>,
    pub reference_to: Option<String>,
    pub relationship_name: Option<String>,
    pub value_set: Option<ValueSet>,
}

/// `<valueSet>` of a picklist: inline values or the name of a global value set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValueSet {
    #[serde(default)]
    pub restricted: bool,
    pub value_set_name: Option<String>,
    pub value_set_definition: Option<ValueSetDefinition>,
}

/// `<valueSetDefinition>`: the inline values.
#[derive(Deserialize)]
pub(crate) struct ValueSetDefinition {
    #[serde(default, rename = "value")]
    pub values: Vec<PicklistValue>,
}

/// `<value>` / `<customValue>`: the API name is `fullName`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PicklistValue {
    pub full_name: String,
}

/// `<GlobalValueSet>`.
#[derive(Deserialize)]
pub(crate) struct GlobalValueSet {
    #[serde(default, rename = "customValue")]
    pub values: Vec<PicklistValue>,
}

/// `<ValidationRule>` (Metadata API `ValidationRule`: `fullName`, `active`, `description`,
/// `errorConditionFormula`, `errorDisplayField`, `errorMessage`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidationRule {
    pub full_name: String,
    pub active: bool,
    pub description: Option<String>,
    pub error_condition_formula: String,
    pub error_display_field: Option<String>,
    pub error_message: String,
}

/// Parses one file; errors name it.
pub(crate) fn parse<'de, T: Deserialize<'de>>(
    file: &str,
    text: &'de str,
) -> Result<T, MetadataError> {
    quick_xml::de::from_str(text).map_err(|error| MetadataError::file(file, error.to_string()))
}

/// The API names of picklist values, in file order.
pub(crate) fn names(values: Vec<PicklistValue>) -> Vec<String> {
    values.into_iter().map(|value| value.full_name).collect()
}
