//! An org's data model as its SFDX project in source format describes it: the files
//! `sf project deploy` sends to a real org, read into a typed model ([`Metadata`]) of
//! objects, fields, picklist values and validation rules, each item with the file it came
//! from so errors can send the user there.
//!
//! Two consumers read the model: `sfsim` builds the simulated org from it (what a test runs
//! against is what users deploy), and the fleet's `workers check-mapping` checks a mapping
//! file against it before any record is written. The repository's own project
//! (`salesforce/`) is embedded at compile time ([`Metadata::embedded`]), so every binary
//! carries it; [`Metadata::from_dir`] reads another org's project.
//!
//! Module map: [`source`] finds and reads the files; `xml` mirrors the XML; `assemble`
//! turns files into the [`model`]; [`standard`] knows what a project leaves out about
//! standard objects (and says why key prefixes are not here); [`formula`] parses and checks
//! validation rule formulas.

mod assemble;
pub mod error;
pub mod formula;
pub mod model;
pub mod source;
pub mod standard;
mod xml;

use std::path::Path;

pub use error::MetadataError;
pub use formula::{CompareOp, Expr, Formula, FormulaError, Literal, ValueKind};
pub use model::{
    FieldMeta, FieldType, NameField, NameFieldKind, ObjectMeta, Picklist, ValidationRule,
};
pub use source::{Source, SourceFiles, EMBEDDED_FILES, EMBEDDED_ROOT};

/// The objects of one project, in name order.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    objects: Vec<ObjectMeta>,
    root: String,
}

impl Metadata {
    /// The repository's project (`salesforce/`), compiled in. A unit test proves it reads.
    pub fn embedded() -> Result<Self, MetadataError> {
        Self::from_source(&Source::embedded())
    }

    /// Reads a project root (its default package directory's `main/default`) or a
    /// `main/default` directory.
    pub fn from_dir(dir: &Path) -> Result<Self, MetadataError> {
        Self::from_source(&Source::read_dir(dir)?)
    }

    /// Builds the model from files already read.
    pub fn from_source(source: &Source) -> Result<Self, MetadataError> {
        Ok(Self {
            objects: assemble::objects(source)?,
            root: source.root.clone(),
        })
    }

    /// Every object, in name order.
    pub fn objects(&self) -> &[ObjectMeta] {
        &self.objects
    }

    /// The object with this API name, ignoring case.
    pub fn object(&self, name: &str) -> Option<&ObjectMeta> {
        self.objects
            .iter()
            .find(|object| object.name.eq_ignore_ascii_case(name))
    }

    /// The `main/default` directory read, as messages show it.
    pub fn root(&self) -> &str {
        &self.root
    }
}

#[cfg(test)]
mod tests;
