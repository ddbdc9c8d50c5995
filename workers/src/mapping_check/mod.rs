//! The mapping checked against the org's metadata, before a record is written: every field a
//! write sets exists on its sObject, can be written, and takes the kind of value the mapping
//! gives it; every upsert key and lookup key is an External ID; every constant of a
//! restricted picklist is one of its values; the fence fields are on every object written,
//! with the validation rule that uses them. `workers check-mapping` runs it and prints the
//! report; the roles that map (realtime, bulk) run it at start and refuse to start on a
//! problem, so a misspelled field is found before the first event is dead-lettered for it.
//!
//! The metadata is the org's SFDX project ([`salesforce_metadata`]): the project embedded in
//! the binary (`salesforce/`), or `SALESFORCE_METADATA_DIR`. The mapping side is the
//! read-only view of [`crate::mapping::inspect`]; the decisions per field are in `fit`, those
//! about links found by a query (`only_if_exists`, `delete_missing`) in `relations`.

mod fence;
mod fit;
mod relations;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use clap::Args;
use salesforce_metadata::{
    FieldMeta, FieldType, Metadata, MetadataError, NameFieldKind, ObjectMeta,
};

use crate::mapping::inspect::{FieldView, TargetView, WriteView};
use crate::mapping::{Mapping, MappingFileError};

/// Where the mapping and the org's metadata come from: what `check-mapping` and the roles
/// that map read.
#[derive(Debug, Clone, Default, Args)]
pub struct MappingSource {
    /// The Stripe-to-Salesforce mapping, a TOML file (default: the built-in mapping;
    /// docs/mapping.md).
    #[arg(long = "mapping-file", visible_alias = "mapping", env = "MAPPING_FILE")]
    pub mapping_file: Option<PathBuf>,
    /// The org's SFDX project the mapping is checked against: a project root or a
    /// `main/default` directory (default: the project `salesforce/`, built in).
    #[arg(
        long = "salesforce-metadata-dir",
        visible_alias = "metadata",
        env = "SALESFORCE_METADATA_DIR"
    )]
    pub metadata_dir: Option<PathBuf>,
}

/// Why a mapping cannot be used with the org.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The mapping file cannot be read or is not valid on its own.
    #[error(transparent)]
    Mapping(#[from] MappingFileError),
    /// The metadata cannot be read.
    #[error("SALESFORCE_METADATA_DIR: {0}")]
    Metadata(#[from] MetadataError),
    /// The mapping does not fit the metadata.
    #[error("the mapping does not fit the metadata:\n{0}")]
    Mismatch(String),
}

impl MappingSource {
    /// Reads the mapping and the metadata.
    pub fn load(&self) -> Result<(Mapping, Metadata), CheckError> {
        let mapping = match &self.mapping_file {
            Some(path) => Mapping::from_file(path)?,
            None => Mapping::builtin(),
        };
        let metadata = match &self.metadata_dir {
            Some(dir) => Metadata::from_dir(dir)?,
            None => Metadata::embedded()?,
        };
        Ok((mapping, metadata))
    }

    /// Reads both and checks them: the mapping when it fits (warnings are logged), else
    /// every problem.
    pub fn load_checked(&self) -> Result<Mapping, CheckError> {
        let (mapping, metadata) = self.load()?;
        let report = check(&mapping, &metadata);
        for warning in &report.warnings {
            tracing::warn!(%warning, "The mapping may lose data in Salesforce.");
        }
        if !report.errors.is_empty() {
            return Err(CheckError::Mismatch(report.to_string()));
        }
        tracing::info!(
            metadata = metadata.root(),
            writes = report.writes,
            "The mapping fits the org's metadata."
        );
        Ok(mapping)
    }
}

/// One finding: where in the mapping, what, and the metadata file to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `rule for customer.created, write 1 (Stripe_Customer__c), field Customer_Email__c`.
    pub place: String,
    /// What does not fit.
    pub message: String,
    /// The metadata file (or folder) concerned.
    pub file: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.place, self.message, self.file)
    }
}

/// Everything the check found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Problems: the mapping would fail in this org.
    pub errors: Vec<Problem>,
    /// Risks: values Salesforce would round or might refuse.
    pub warnings: Vec<Problem>,
    /// Writes checked.
    pub writes: usize,
    /// Fields checked (over all writes).
    pub fields: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.errors {
            writeln!(f, "error: {error}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}

impl Report {
    /// Records a finding of `place`: an error, a warning, or nothing.
    fn add(&mut self, place: &str, finding: relations::Finding) {
        let problem = |(message, file): (String, String)| Problem {
            place: place.to_owned(),
            message,
            file,
        };
        match finding {
            Ok(None) => {}
            Ok(Some(warning)) => self.warnings.push(problem(warning)),
            Err(error) => self.errors.push(problem(error)),
        }
    }
}

/// Checks every write of `mapping` against `metadata`.
pub fn check(mapping: &Mapping, metadata: &Metadata) -> Report {
    let max_exponent = mapping
        .exponent_overrides()
        .values()
        .copied()
        .chain([3])
        .max()
        .unwrap_or(3);
    let mut report = Report::default();
    for write in mapping.writes() {
        report.writes += 1;
        report.fields += write.fields.len();
        let place = format!(
            "rule for {}, write {} ({})",
            write.events.join(", "),
            write.position,
            write.sobject
        );
        let Some(object) = metadata.object(write.sobject) else {
            report.errors.push(Problem {
                place,
                message: format!("the org has no object {}", write.sobject),
                file: format!("{}/objects", metadata.root()),
            });
            continue;
        };
        check_targets(&write, object, &place, &mut report);
        if let Some(scope) = write.delete_missing {
            let finding = relations::delete_missing_scope(scope, object, metadata);
            report.add(&format!("{place}, delete_missing"), finding);
        }
        for field in &write.fields {
            let place = format!("{place}, field {}", field.name);
            check_field(field, object, metadata, max_exponent, &place, &mut report);
        }
    }
    fence::check_fence(mapping, metadata, &mut report);
    report
}

fn check_targets(write: &WriteView<'_>, object: &ObjectMeta, place: &str, report: &mut Report) {
    let place = format!("{place}, target");
    for target in &write.targets {
        let (name, upsert) = match target {
            TargetView::ExternalId(name) => (*name, true),
            TargetView::Query(name) | TargetView::QueryAll(name) => (*name, false),
            TargetView::SalesforceId => continue,
        };
        let problem = |message: String, file: &str| Problem {
            place: place.clone(),
            message,
            file: file.to_owned(),
        };
        match object.field(name) {
            None if !upsert && object.readable(name).is_some() => {}
            None => report.errors.push(problem(
                format!("{} has no field {name}", object.name),
                &object.file,
            )),
            Some(field) if upsert => {
                if let Err(message) = fit::is_match_key(field) {
                    report.errors.push(problem(message, &field.file));
                }
            }
            Some(_) => {}
        }
    }
}

/// What the check says about one field: problems and warnings, each with its file.
#[derive(Default)]
struct Findings {
    errors: Vec<(String, String)>,
    warnings: Vec<(String, String)>,
}

impl Findings {
    fn error(mut self, message: String, file: &str) -> Self {
        self.errors.push((message, file.to_owned()));
        self
    }
}

fn check_field(
    view: &FieldView<'_>,
    object: &ObjectMeta,
    metadata: &Metadata,
    max_exponent: u32,
    place: &str,
    report: &mut Report,
) {
    let findings = field_findings(view, object, metadata, max_exponent);
    let problem = |(message, file): (String, String)| Problem {
        place: place.to_owned(),
        message,
        file,
    };
    report
        .errors
        .extend(findings.errors.into_iter().map(problem));
    report
        .warnings
        .extend(findings.warnings.into_iter().map(problem));
}

fn field_findings(
    view: &FieldView<'_>,
    object: &ObjectMeta,
    metadata: &Metadata,
    max_exponent: u32,
) -> Findings {
    let findings = Findings::default();
    let name_field;
    let field = if view.name.eq_ignore_ascii_case("Name") {
        if !object.name_field.kind.is_writable() {
            let message = format!(
                "{}'s Name is set by Salesforce (an auto-number or a person's name)",
                object.name
            );
            return findings.error(message, &object.file);
        }
        name_field = text_name_field(object);
        &name_field
    } else if let Some(field) = object.field(view.name) {
        field
    } else if object.readable(view.name).is_some() {
        let message = format!("{} is set by Salesforce", view.name);
        return findings.error(message, &object.file);
    } else {
        let message = format!("{} has no field {}", object.name, view.name);
        return findings.error(message, &object.file);
    };
    if !field.is_writable() {
        let message = format!(
            "{} is computed by Salesforce (a formula, auto-number or roll-up summary)",
            field.name
        );
        return findings.error(message, &field.file);
    }
    if let FieldType::Other(kind) = &field.kind {
        let message = format!(
            "{} is a {kind} field, which the mapping cannot write",
            field.name
        );
        return findings.error(message, &field.file);
    }
    let mut findings = match fit::max_length_fits(field, view.max_length) {
        Err(message) => findings.error(message, &field.file),
        Ok(()) => findings,
    };
    if let Some(Err(message)) = view.default.map(|value| fit::fixed_fits(field, value)) {
        findings = findings.error(format!("default: {message}"), &field.file);
    }
    if let Some(parent) = view.existing_parent {
        match relations::existing_parent(field, parent, metadata) {
            Ok(None) => {}
            Ok(Some(warning)) => findings.warnings.push(warning),
            Err((message, file)) => findings = findings.error(message, &file),
        }
        return findings;
    }
    let Some(lookup) = view.lookup else {
        match fit::value_fits(field, &view.value, max_exponent) {
            Ok(notes) => findings
                .warnings
                .extend(notes.into_iter().map(|note| (note, field.file.clone()))),
            Err(message) => findings = findings.error(message, &field.file),
        }
        return findings;
    };
    if let Err(message) = fit::lookup_fits(field, lookup.relationship) {
        return findings.error(message, &field.file);
    }
    let parent_name = field.reference_to.as_deref().unwrap_or_default();
    let Some(parent) = metadata.object(parent_name) else {
        let message = format!(
            "{} looks up {parent_name}, which is not in the metadata",
            field.name
        );
        return findings.error(message, &field.file);
    };
    match parent.field(lookup.external_id_field) {
        None => {
            let message = format!("{} has no field {}", parent.name, lookup.external_id_field);
            findings.error(message, &parent.file)
        }
        Some(key) => match fit::is_match_key(key) {
            Err(message) => findings.error(format!("{}.{message}", parent.name), &key.file),
            Ok(()) => findings,
        },
    }
}

/// The `Name` field of an object whose name is text: 80 characters, required.
fn text_name_field(object: &ObjectMeta) -> FieldMeta {
    debug_assert_eq!(object.name_field.kind, NameFieldKind::Text);
    FieldMeta {
        name: "Name".to_owned(),
        label: object.name_field.label.clone(),
        kind: FieldType::Text,
        length: Some(80),
        precision: None,
        scale: None,
        required: true,
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
        file: object.file.clone(),
    }
}
