//! Stripe events → Salesforce record writes, driven by a mapping *file*, not code.
//!
//! Workers hold one [`Mapping`] (the built-in default, or the file named by `MAPPING_FILE`)
//! and call [`Mapping::map_event`] with the raw event JSON. The answer is a [`MappedEvent`]:
//! the records to write, parents first, each with its sObject, how to find the record
//! ([`RecordTarget`]) and the field values ready for the REST body. An org whose fields are
//! named differently edits the file; nothing is rebuilt. The file format is documented for
//! users in `docs/mapping.md`; the default, `common/mapping.default.toml`, is its example.
//!
//! Module map, in reading order:
//! - [`record`]: the output types (the contract with the Salesforce client).
//! - [`error`]: [`MappingFileError`] (bad file, at load) and [`MappingError`] (bad event).
//! - `file` and `compile`: the TOML as written, and its validation into rules.
//! - `rule`, `target`, `field`, `each`: running the rules against one event (`each`: the
//!   `for_each` writes that turn a list into records, and `delete_missing`).
//! - `path`, `template`, `transform`, [`money`], [`datetime`]: the small pieces they are
//!   built from.
//! - [`inspect`]: a read-only view of the compiled rules, for the mapping check.

pub mod datetime;
pub mod error;
pub mod fence;
pub mod inspect;
pub mod money;
pub mod record;

mod compile;
mod each;
mod field;
mod file;
mod path;
mod rule;
mod target;
mod template;
mod transform;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

pub use datetime::unix_to_salesforce_datetime;
pub use error::{MappingError, MappingFileError};
pub use fence::Fence;
pub use money::{
    currency_exponent, minor_units_to_decimal, minor_units_to_decimal_string, MoneyError,
};
pub use record::{Deletion, MappedEvent, PendingLookup, RecordTarget, RecordWrite, WriteRole};
pub use target::is_salesforce_id;

use rule::{Context, EventRule};

/// The text of the built-in mapping (the data model in `salesforce/`), also a worked example of the
/// format.
pub const DEFAULT_MAPPING_TOML: &str = include_str!("../../mapping.default.toml");

/// A parsed and validated mapping: for each handled event type, the records to write.
///
/// Validation happens once, when the mapping is built; [`Mapping::map_event`] can then only
/// fail because of the event's content.
#[derive(Debug, Clone)]
pub struct Mapping {
    rules: Vec<EventRule>,
    by_type: HashMap<String, usize>,
    exponents: BTreeMap<String, u32>,
    fence: Option<Fence>,
}

impl Mapping {
    /// The built-in mapping for the data model in `salesforce/` (`workers/mapping.default.toml`).
    pub fn builtin() -> Mapping {
        // The file is compiled in and a unit test proves it loads, so this cannot fail at run time.
        Mapping::from_toml(DEFAULT_MAPPING_TOML).expect("the built-in mapping is valid")
    }

    /// Parses and validates a mapping from TOML text. Errors name the rule (by its event
    /// types), the write and the field concerned.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingFileError> {
        let raw: file::RawMapping = toml::from_str(text)?;
        let compiled = compile::compile(raw)?;
        Ok(Mapping {
            rules: compiled.rules,
            by_type: compiled.by_type,
            exponents: compiled.exponents,
            fence: compiled.fence,
        })
    }

    /// Reads, parses and validates a mapping file (the one `MAPPING_FILE` names).
    pub fn from_file(path: &Path) -> Result<Mapping, MappingFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Mapping::from_toml(&text)
    }

    /// Whether events of this type are mapped (others can be acknowledged and skipped).
    pub fn handles(&self, event_type: &str) -> bool {
        self.by_type.contains_key(event_type)
    }

    /// Every handled event type, in file order.
    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        self.rules
            .iter()
            .flat_map(|rule| rule.events.iter().map(String::as_str))
    }

    /// The fence fields, when the file declares them (see [`fence`]).
    pub fn fence(&self) -> Option<&Fence> {
        self.fence.as_ref()
    }

    /// Translates one Stripe event (the whole JSON envelope) into the records to write.
    ///
    /// Errors are permanent for this event (see [`MappingError`]); an unhandled type is
    /// [`MappingError::UnhandledType`].
    pub fn map_event(&self, event: &Value) -> Result<MappedEvent, MappingError> {
        let event_type = event
            .get("type")
            .and_then(Value::as_str)
            .ok_or(MappingError::NotAnEvent)?;
        let rule = self
            .by_type
            .get(event_type)
            .and_then(|index| self.rules.get(*index))
            .ok_or_else(|| MappingError::UnhandledType {
                event_type: event_type.to_owned(),
            })?;
        let context = Context {
            event,
            event_type,
            exponents: &self.exponents,
            element: None,
        };
        let mut mapped = MappedEvent {
            writes: Vec::with_capacity(rule.writes.len()),
            deletions: Vec::new(),
        };
        // With a fence, every main write (but an aspect's) carries the event's time and id; an event without
        // them cannot be ordered, so it is an error rather than an unfenced write.
        let stamp = match &self.fence {
            Some(fence) => {
                let missing = |path: &str| MappingError::MissingValue {
                    event_type: event_type.to_owned(),
                    sobject: "(every object)".to_owned(),
                    field: fence.event_time_field.clone(),
                    path: path.to_owned(),
                };
                let created = event
                    .get("created")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| missing("created"))?;
                let id = event
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("id"))?;
                Some((fence, created, id))
            }
            None => None,
        };
        for write in &rule.writes {
            write.apply(&context, &mut mapped)?;
        }
        if let Some((fence, created, id)) = stamp {
            // The fence orders the record's main part; an aspect is ordered by the ledger.
            for write in &mut mapped.writes {
                if write.role == WriteRole::Main && write.aspect.is_none() {
                    fence.stamp(&mut write.fields, created, id);
                }
            }
        }
        Ok(mapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_mapping_loads() {
        let mapping = Mapping::from_toml(DEFAULT_MAPPING_TOML).unwrap();
        assert!(mapping.handles("customer.created"));
        assert_eq!(Mapping::builtin().event_types().count(), 14);
    }
}
