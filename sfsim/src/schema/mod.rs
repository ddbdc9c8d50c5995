//! The simulated org's data model: objects, fields, types and constraints.
//!
//! Loaded from an SFDX project in source format (see [`sfdx`]) or a JSON file (see [`file`](mod@file)).
//! The default is seed 002's model from the repository's SFDX project `salesforce/`, the
//! metadata users deploy, embedded at compile time (`build.rs`). Names are matched
//! case-insensitively, as the real org does for object names in paths and field names in
//! bodies (docs/salesforce-api.md §2.2). Unknown objects and fields are errors, so a mapping
//! mistake in the fleet shows up in tests.

mod field;
pub mod file;
mod object;
pub mod sfdx;
mod standard;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::error::SimError;
pub use field::{FieldDef, FieldKind};
use file::{ObjectEntry, SchemaFile};
pub use object::{NameKind, ObjectDef};
pub use sfdx::SourceFiles;

/// The former default schema file, compiled in: seed 002's model in the JSON format.
/// `tests/sfdx_schema.rs` proves it describes the same org as [`DEFAULT_SFDX_FILES`].
pub const DEFAULT_SCHEMA_JSON: &str = include_str!("../../sfsim-schema.json");

/// The default schema: the repository's SFDX project (`salesforce/force-app/main/default`,
/// objects and global value sets), compiled in by `build.rs` as (path under `main/default`,
/// contents).
pub const DEFAULT_SFDX_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/sfdx_files.rs"));

/// All objects of the simulated org.
#[derive(Debug, Clone)]
pub struct Schema {
    objects: Vec<Arc<ObjectDef>>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
}

impl Schema {
    /// Seed 002's model, from the embedded SFDX project ([`DEFAULT_SFDX_FILES`]).
    pub fn seed_default() -> Result<Self, SimError> {
        let files = DEFAULT_SFDX_FILES
            .iter()
            .map(|(path, text)| ((*path).to_string(), (*text).to_string()))
            .collect();
        Self::from_sfdx_files(&files)
    }

    /// Parses and checks a schema file.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let file: SchemaFile =
            serde_json::from_str(text).map_err(|error| SimError::Schema(error.to_string()))?;
        Self::from_entries(&file.objects)
    }

    /// Reads the schema from an SFDX project in source format: the project root (its
    /// `force-app/main/default` is read) or a `main/default` directory (see [`sfdx`]).
    pub fn from_sfdx(dir: &Path) -> Result<Self, SimError> {
        Self::from_sfdx_files(&sfdx::read_source_dir(dir)?)
    }

    /// Builds the schema from SFDX source files already read (path under `main/default`
    /// → contents), e.g. files embedded at compile time.
    pub fn from_sfdx_files(files: &SourceFiles) -> Result<Self, SimError> {
        Self::from_entries(&sfdx::entries(files)?)
    }

    /// Checks and indexes schema entries, whichever format they were read from.
    fn from_entries(entries: &[ObjectEntry]) -> Result<Self, SimError> {
        let mut objects = Vec::new();
        let mut by_name = HashMap::new();
        let mut by_prefix = HashMap::new();
        for entry in entries {
            let object = ObjectDef::from_entry(entry)?;
            let index = objects.len();
            if by_name
                .insert(object.name.to_ascii_lowercase(), index)
                .is_some()
                || by_prefix.insert(object.key_prefix.clone(), index).is_some()
            {
                return Err(SimError::Schema(format!(
                    "{}: duplicate object name or key prefix",
                    object.name
                )));
            }
            objects.push(Arc::new(object));
        }
        let schema = Self {
            objects,
            by_name,
            by_prefix,
        };
        for object in &schema.objects {
            for field in &object.fields {
                if let Some(target) = &field.reference_to {
                    if schema.object(target).is_none() {
                        return Err(SimError::Schema(format!(
                            "{}.{} references unknown object {target}",
                            object.name, field.name
                        )));
                    }
                }
            }
        }
        Ok(schema)
    }

    /// The object with this API name, ignoring case.
    pub fn object(&self, name: &str) -> Option<&Arc<ObjectDef>> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|index| &self.objects[*index])
    }

    /// The object whose ids start with this key prefix.
    pub fn object_for_id(&self, id: &str) -> Option<&Arc<ObjectDef>> {
        id.get(..3)
            .and_then(|prefix| self.by_prefix.get(prefix))
            .map(|index| &self.objects[*index])
    }

    /// All objects, in file order.
    pub fn objects(&self) -> &[Arc<ObjectDef>] {
        &self.objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schema_loads_with_seed_objects() {
        let schema = Schema::seed_default().unwrap();
        let customer = schema.object("stripe_customer__c").unwrap();
        assert!(customer.field("Stripe_Customer_ID__C").unwrap().matchable);
        assert_eq!(
            customer.relationship("contact__r").unwrap().name,
            "Contact__c"
        );
        assert!(schema.object("Payment_Transaction__c").is_some());
    }
}
