//! Source files → model: groups files by object, reads each, resolves picklists' global
//! value sets and checks what a deploy would refuse (a `fullName` that does not match its
//! file, a lookup without `referenceTo`, a picklist without values, a validation rule whose
//! formula or display field does not fit the object). Objects come in name order, fields
//! and rules in file name order, after a standard object's standard fields.

use std::collections::{BTreeMap, HashMap};

use crate::error::MetadataError;
use crate::formula::Formula;
use crate::model::{
    FieldMeta, FieldType, NameField, NameFieldKind, ObjectMeta, Picklist, ValidationRule,
};
use crate::source::Source;
use crate::standard::standard_object;
use crate::xml::{self, names};

/// The files of one object folder (relative paths and contents).
#[derive(Default)]
struct ObjectFiles<'a> {
    object: Option<&'a str>,
    fields: Vec<(&'a str, &'a str)>,
    rules: Vec<(&'a str, &'a str)>,
}

/// Builds every object of `source`.
pub(crate) fn objects(source: &Source) -> Result<Vec<ObjectMeta>, MetadataError> {
    let mut value_sets = HashMap::new();
    let mut folders: BTreeMap<&str, ObjectFiles> = BTreeMap::new();
    for (path, text) in &source.files {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["globalValueSets", file] => {
                let name = file.trim_end_matches(".globalValueSet-meta.xml");
                let set: xml::GlobalValueSet = xml::parse(&source.display(path), text)?;
                value_sets.insert(name.to_owned(), names(set.values));
            }
            ["objects", object, file] if file.ends_with(".object-meta.xml") => {
                folders.entry(object).or_default().object = Some(text);
            }
            ["objects", object, "fields", file] if file.ends_with(".field-meta.xml") => {
                folders.entry(object).or_default().fields.push((path, text));
            }
            ["objects", object, "validationRules", file]
                if file.ends_with(".validationRule-meta.xml") =>
            {
                folders.entry(object).or_default().rules.push((path, text));
            }
            _ => {}
        }
    }
    let mut objects = Vec::new();
    for (name, files) in folders {
        let folder = source.display(&format!("objects/{name}"));
        let mut object = match (files.object, standard_object(name, &folder)) {
            (Some(text), _) => {
                let file = source.display(&format!("objects/{name}/{name}.object-meta.xml"));
                custom_object(&file, text, name)?
            }
            (None, Some(standard)) => standard,
            (None, None) => {
                return Err(MetadataError::file(
                    folder,
                    format!(
                        "no {name}.object-meta.xml, and {name} is not a standard object this \
                         model knows (Contact)"
                    ),
                ))
            }
        };
        for (path, text) in files.fields {
            let field = field(&source.display(path), text, &value_sets)?;
            if object.field(&field.name).is_some() {
                return Err(MetadataError::element(
                    &field.file,
                    "fullName",
                    format!("{} is declared twice on {name}", field.name),
                ));
            }
            object.fields.push(field);
        }
        for (path, text) in files.rules {
            let rule = validation_rule(&source.display(path), text, &object)?;
            object.validation_rules.push(rule);
        }
        objects.push(object);
    }
    Ok(objects)
}

fn custom_object(file: &str, text: &str, name: &str) -> Result<ObjectMeta, MetadataError> {
    let object: xml::CustomObject = xml::parse(file, text)?;
    let kind = match object.name_field.kind.as_str() {
        "AutoNumber" => NameFieldKind::AutoNumber {
            display_format: object.name_field.display_format.unwrap_or_default(),
        },
        "Text" => NameFieldKind::Text,
        other => {
            return Err(MetadataError::element(
                file,
                "nameField><type",
                format!("unsupported name field type {other}"),
            ))
        }
    };
    Ok(ObjectMeta {
        name: name.to_owned(),
        label: object.label,
        plural_label: object.plural_label,
        standard: false,
        name_field: NameField {
            label: object.name_field.label,
            kind,
        },
        sharing_model: object.sharing_model,
        description: object.description,
        fields: Vec::new(),
        validation_rules: Vec::new(),
        file: file.to_owned(),
    })
}

/// The file name of `file` without `suffix` (what its `fullName` must be).
fn stem<'a>(file: &'a str, suffix: &str) -> Option<&'a str> {
    file.rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(suffix))
}

fn field(
    file: &str,
    text: &str,
    value_sets: &HashMap<String, Vec<String>>,
) -> Result<FieldMeta, MetadataError> {
    let raw: xml::CustomField = xml::parse(file, text)?;
    let error = |element: &str, message: String| MetadataError::element(file, element, message);
    if stem(file, ".field-meta.xml") != Some(raw.full_name.as_str()) {
        return Err(error(
            "fullName",
            format!("{} does not match the file name", raw.full_name),
        ));
    }
    let kind = raw
        .kind
        .as_deref()
        .map(FieldType::parse)
        .ok_or_else(|| error("type", "missing".into()))?;
    if kind.is_reference() && raw.reference_to.is_none() {
        return Err(error(
            "referenceTo",
            format!("missing on a {}", kind.api_name()),
        ));
    }
    let picklist = match (&kind, raw.value_set) {
        (FieldType::Picklist, None) => {
            return Err(error("valueSet", "missing on a picklist".into()))
        }
        (FieldType::Picklist, Some(set)) => {
            let values = match (&set.value_set_name, set.value_set_definition) {
                (Some(name), _) => value_sets.get(name).cloned().ok_or_else(|| {
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
            Some(Picklist {
                values,
                restricted: set.restricted,
                global_value_set: set.value_set_name,
            })
        }
        _ => None,
    };
    Ok(FieldMeta {
        name: raw.full_name,
        label: raw.label,
        kind,
        length: raw.length,
        precision: raw.precision,
        scale: raw.scale,
        required: raw.required,
        unique: raw.unique,
        external_id: raw.external_id,
        case_sensitive: raw.case_sensitive,
        id_lookup: false,
        formula: raw.formula,
        picklist,
        reference_to: raw.reference_to,
        child_relationship_name: raw.relationship_name,
        description: raw.description,
        standard: false,
        file: file.to_owned(),
    })
}

fn validation_rule(
    file: &str,
    text: &str,
    object: &ObjectMeta,
) -> Result<ValidationRule, MetadataError> {
    let raw: xml::ValidationRule = xml::parse(file, text)?;
    let rule = &raw.full_name;
    let error = |element: &str, message: String| {
        MetadataError::element(file, element, format!("validation rule {rule}: {message}"))
    };
    if stem(file, ".validationRule-meta.xml") != Some(rule.as_str()) {
        return Err(error("fullName", "does not match the file name".into()));
    }
    let formula = Formula::parse(&raw.error_condition_formula, &|name| object.readable(name))
        .map_err(|problem| error("errorConditionFormula", problem.to_string()))?;
    let error_display_field = match &raw.error_display_field {
        None => None,
        Some(name) => Some(
            object
                .readable(name)
                .map(|(canonical, _)| canonical)
                .ok_or_else(|| error("errorDisplayField", format!("unknown field {name}")))?,
        ),
    };
    Ok(ValidationRule {
        name: raw.full_name.clone(),
        active: raw.active,
        description: raw.description,
        error_condition_formula: raw.error_condition_formula,
        formula,
        error_display_field,
        error_message: raw.error_message,
        file: file.to_owned(),
    })
}
