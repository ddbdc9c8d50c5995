//! The simulated org's data model: objects, fields, types, constraints and validation rules.
//!
//! Built from the model of an SFDX project in source format ([`salesforce_metadata`]), the
//! metadata users deploy: by default the repository's project `salesforce/`, embedded in
//! that crate ([`Schema::embedded_project`]); [`Schema::from_sfdx`] reads another. What the
//! project does not say but the simulator needs (key prefixes, the system fields every
//! record has) is added here. Names are matched case-insensitively, as the real org does
//! for object names in paths and field names in bodies (docs/salesforce-api.md §2.2).
//! Unknown objects and fields are errors, so a mapping mistake in the fleet shows up in
//! tests; so are field types the simulator does not implement (formula fields among them).

mod field;
mod object;
mod standard;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use salesforce_metadata::Metadata;

use crate::error::SimError;
pub use field::{FieldDef, FieldKind};
pub use object::{NameKind, ObjectDef};
use standard::PrefixAllocator;

/// All objects of the simulated org.
#[derive(Debug, Clone)]
pub struct Schema {
    objects: Vec<Arc<ObjectDef>>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
}

impl Schema {
    /// The data model of the repository's SFDX project (`salesforce/`), embedded at compile
    /// time.
    pub fn embedded_project() -> Result<Self, SimError> {
        Self::from_metadata(&Metadata::embedded().map_err(schema_error)?)
    }

    /// Reads the schema from an SFDX project in source format: the project root (its
    /// default package directory's `main/default` is read) or a `main/default` directory.
    pub fn from_sfdx(dir: &Path) -> Result<Self, SimError> {
        Self::from_metadata(&Metadata::from_dir(dir).map_err(schema_error)?)
    }

    /// Builds the schema from a project's model: checks what the simulator cannot run,
    /// assigns key prefixes, indexes objects.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, SimError> {
        let mut prefixes = PrefixAllocator::new();
        let mut objects = Vec::new();
        let mut by_name = HashMap::new();
        let mut by_prefix = HashMap::new();
        for meta in metadata.objects() {
            let object = ObjectDef::from_meta(meta, prefixes.prefix(&meta.name))?;
            let index = objects.len();
            if by_name
                .insert(object.name.to_ascii_lowercase(), index)
                .is_some()
                || by_prefix.insert(object.key_prefix.clone(), index).is_some()
            {
                return Err(SimError::Schema(format!(
                    "{}: duplicate object name or key prefix",
                    meta.file
                )));
            }
            objects.push(Arc::new(object));
        }
        let schema = Self {
            objects,
            by_name,
            by_prefix,
        };
        for meta in metadata.objects() {
            for field in &meta.fields {
                if let Some(target) = &field.reference_to {
                    if schema.object(target).is_none() {
                        return Err(SimError::Schema(format!(
                            "{}: <referenceTo>: {}.{} references {target}, which is not in the \
                             project",
                            field.file, meta.name, field.name
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

    /// All objects, in name order.
    pub fn objects(&self) -> &[Arc<ObjectDef>] {
        &self.objects
    }
}

fn schema_error(error: salesforce_metadata::MetadataError) -> SimError {
    SimError::Schema(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schema_loads_the_projects_objects() {
        let schema = Schema::embedded_project().unwrap();
        let customer = schema.object("stripe_customer__c").unwrap();
        assert!(customer.field("Stripe_Customer_ID__C").unwrap().matchable);
        assert_eq!(
            customer.relationship("contact__r").unwrap().name,
            "Contact__c"
        );
        assert!(schema.object("Payment_Transaction__c").is_some());
        assert_eq!(schema.object("Contact").unwrap().key_prefix, "003");
    }
}
