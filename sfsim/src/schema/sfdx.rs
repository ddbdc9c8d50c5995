//! Reading the schema from an SFDX project in source format, the files `sf project deploy`
//! sends to a real org: `objects/<Object>/<Object>.object-meta.xml`,
//! `objects/<Object>/fields/<Field>.field-meta.xml` and
//! `globalValueSets/<Name>.globalValueSet-meta.xml` under a package directory's
//! `main/default`. Files are turned into the same entries as the JSON format ([`super::file`]),
//! so both formats go through one set of checks and defaults.
//!
//! What metadata does not hold comes from `schema/standard.rs`: standard objects (a project
//! holds only their custom fields) and key prefixes. A lookup's relationship name is the
//! field name with `__c` replaced by `__r`, as Salesforce derives it; the `relationshipName`
//! element is the child relationship, which sfsim does not use. A master-detail field is a
//! required lookup.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::file::{FieldEntry, NameEntry, ObjectEntry};
use super::standard::{standard_object, PrefixAllocator};
use crate::error::SimError;

/// `<CustomObject>`: the parts sfsim uses.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomObject {
    label: String,
    plural_label: Option<String>,
    name_field: NameField,
}

/// `<nameField>` of a custom object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameField {
    label: String,
    #[serde(rename = "type")]
    kind: String,
    display_format: Option<String>,
}

/// `<CustomField>`: the parts sfsim uses.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomField {
    full_name: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    length: Option<usize>,
    precision: Option<u32>,
    scale: Option<u32>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    external_id: bool,
    #[serde(default)]
    case_sensitive: bool,
    reference_to: Option<String>,
    value_set: Option<ValueSet>,
}

/// `<valueSet>` of a picklist: inline values or the name of a global value set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValueSet {
    #[serde(default)]
    restricted: bool,
    value_set_name: Option<String>,
    value_set_definition: Option<ValueSetDefinition>,
}

/// `<valueSetDefinition>`: the inline values.
#[derive(Deserialize)]
struct ValueSetDefinition {
    #[serde(default, rename = "value")]
    values: Vec<PicklistValue>,
}

/// `<value>` / `<customValue>`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PicklistValue {
    full_name: String,
}

/// `<GlobalValueSet>`.
#[derive(Deserialize)]
struct GlobalValueSet {
    #[serde(default, rename = "customValue")]
    values: Vec<PicklistValue>,
}

/// The files of a package directory that matter to the schema: path relative to
/// `main/default` (with `/` separators) → contents.
pub type SourceFiles = BTreeMap<String, String>;

/// Reads the schema files of `dir`: an SFDX project root (`force-app/main/default` is used)
/// or a `main/default` directory itself.
pub fn read_source_dir(dir: &Path) -> Result<SourceFiles, SimError> {
    let project_default = dir.join("force-app").join("main").join("default");
    let root = if dir.join("objects").is_dir() {
        dir.to_path_buf()
    } else if project_default.join("objects").is_dir() {
        project_default
    } else {
        return Err(SimError::Schema(format!(
            "{}: neither objects/ nor force-app/main/default/objects/ found",
            dir.display()
        )));
    };
    let mut files = SourceFiles::new();
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|error| SimError::Schema(format!("{}: {error}", path.display())))
    };
    let list = |path: &Path| -> Result<Vec<std::path::PathBuf>, SimError> {
        if !path.is_dir() {
            return Ok(Vec::new());
        }
        let entries = std::fs::read_dir(path)
            .map_err(|error| SimError::Schema(format!("{}: {error}", path.display())))?;
        let mut paths = entries
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| SimError::Schema(format!("{}: {error}", path.display())))?;
        paths.sort();
        Ok(paths)
    };
    let relative = |path: &Path| {
        path.strip_prefix(&root)
            .unwrap_or(path)
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    for set in list(&root.join("globalValueSets"))? {
        if set.to_string_lossy().ends_with(".globalValueSet-meta.xml") {
            files.insert(relative(&set), read(&set)?);
        }
    }
    for object in list(&root.join("objects"))? {
        for file in list(&object)?
            .into_iter()
            .chain(list(&object.join("fields"))?)
        {
            let name = file.to_string_lossy();
            if name.ends_with(".object-meta.xml") || name.ends_with(".field-meta.xml") {
                files.insert(relative(&file), read(&file)?);
            }
        }
    }
    Ok(files)
}

/// The files of one object: its object file, and (path, contents) of its field files.
#[derive(Default)]
struct ObjectFiles<'a> {
    object: Option<&'a str>,
    fields: Vec<(&'a str, &'a str)>,
}

/// Turns source files into schema entries, objects in name order, fields in file name order
/// after a standard object's standard fields.
pub(super) fn entries(files: &SourceFiles) -> Result<Vec<ObjectEntry>, SimError> {
    let mut value_sets = HashMap::new();
    let mut objects: BTreeMap<&str, ObjectFiles> = BTreeMap::new();
    for (path, text) in files {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["globalValueSets", file] => {
                let name = file.trim_end_matches(".globalValueSet-meta.xml");
                let set: GlobalValueSet = parse(path, text)?;
                value_sets.insert(name.to_string(), names(set.values));
            }
            ["objects", object, file] if file.ends_with(".object-meta.xml") => {
                objects.entry(object).or_default().object = Some(text);
            }
            ["objects", object, "fields", file] if file.ends_with(".field-meta.xml") => {
                objects.entry(object).or_default().fields.push((path, text));
            }
            _ => {}
        }
    }
    let mut prefixes = PrefixAllocator::new();
    let mut entries = Vec::new();
    for (name, files) in objects {
        let mut entry = match (standard_object(name), files.object) {
            (Some(standard), _) => standard,
            (None, Some(text)) => {
                let path = format!("objects/{name}/{name}.object-meta.xml");
                custom_object(&path, text, name)?
            }
            (None, None) => {
                return Err(SimError::Schema(format!(
                    "objects/{name}: no {name}.object-meta.xml, and {name} is not a standard \
                     object sfsim knows"
                )))
            }
        };
        entry.key_prefix = prefixes.prefix(name);
        for (path, text) in files.fields {
            entry.fields.push(field(path, text, &value_sets)?);
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn parse<'de, T: Deserialize<'de>>(path: &str, text: &'de str) -> Result<T, SimError> {
    quick_xml::de::from_str(text).map_err(|error| SimError::Schema(format!("{path}: {error}")))
}

fn names(values: Vec<PicklistValue>) -> Vec<String> {
    values.into_iter().map(|value| value.full_name).collect()
}

fn custom_object(path: &str, text: &str, name: &str) -> Result<ObjectEntry, SimError> {
    let object: CustomObject = parse(path, text)?;
    let kind = match object.name_field.kind.as_str() {
        "AutoNumber" => "auto_number",
        "Text" => "text",
        other => {
            return Err(SimError::Schema(format!(
                "{path}: <nameField><type>: unsupported name field type {other}"
            )))
        }
    };
    Ok(ObjectEntry {
        name: name.to_string(),
        label: object.label,
        label_plural: object.plural_label,
        key_prefix: String::new(),
        name_field: NameEntry {
            kind: kind.to_string(),
            label: object.name_field.label,
            format: object.name_field.display_format,
        },
        fields: Vec::new(),
    })
}

fn field(
    path: &str,
    text: &str,
    value_sets: &HashMap<String, Vec<String>>,
) -> Result<FieldEntry, SimError> {
    let field: CustomField = parse(path, text)?;
    let error = |element: &str, message: String| {
        SimError::Schema(format!("{path}: <{element}>: {message}"))
    };
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if file_name.strip_suffix(".field-meta.xml") != Some(field.full_name.as_str()) {
        return Err(error(
            "fullName",
            format!("{} does not match the file name", field.full_name),
        ));
    }
    let kind = match field.kind.as_str() {
        "Text" => "text",
        "TextArea" | "LongTextArea" => "textarea",
        "Email" => "email",
        "Phone" => "phone",
        "Url" => "url",
        "Number" => "number",
        "Currency" => "currency",
        "Percent" => "percent",
        "Checkbox" => "boolean",
        "Date" => "date",
        "DateTime" => "datetime",
        "Picklist" => "picklist",
        "Lookup" | "MasterDetail" => "lookup",
        other => return Err(error("type", format!("unsupported field type {other}"))),
    };
    let mut entry = FieldEntry {
        label: field.label,
        kind: kind.to_string(),
        // A (short) Text Area has no <length>: it is always 255.
        length: field.length.or((field.kind == "TextArea").then_some(255)),
        precision: field.precision,
        scale: field.scale,
        required: field.required || field.kind == "MasterDetail",
        external_id: field.external_id,
        unique: field.unique,
        case_sensitive: field.case_sensitive,
        ..FieldEntry::default()
    };
    if kind == "lookup" {
        let target = field
            .reference_to
            .ok_or_else(|| error("referenceTo", "missing on a lookup".into()))?;
        entry.reference_to = Some(target);
        let base = field
            .full_name
            .strip_suffix("__c")
            .ok_or_else(|| error("fullName", "a custom lookup ends in __c".into()))?;
        entry.relationship_name = Some(format!("{base}__r"));
    }
    if kind == "picklist" {
        let set = field
            .value_set
            .ok_or_else(|| error("valueSet", "missing on a picklist".into()))?;
        entry.restricted = set.restricted;
        entry.values = match (set.value_set_name, set.value_set_definition) {
            (Some(name), _) => value_sets.get(&name).cloned().ok_or_else(|| {
                error(
                    "valueSetName",
                    format!("no globalValueSets/{name}.globalValueSet-meta.xml"),
                )
            })?,
            (None, Some(definition)) => names(definition.values),
            (None, None) => {
                return Err(error(
                    "valueSet",
                    "neither valueSetName nor valueSetDefinition".into(),
                ))
            }
        };
    }
    entry.name = field.full_name;
    Ok(entry)
}
