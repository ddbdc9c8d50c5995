//! Compiled rules and how they turn one event into record writes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::MappingError;
use super::field::FieldRule;
use super::path::describe;
use super::record::{RecordWrite, WriteRole};
use super::target::{add_external_ids, TargetRule};
use common::currency::currency_exponent;

/// What every field and target needs while one event is mapped.
pub(crate) struct Context<'a> {
    /// The whole event (paths start at the envelope).
    pub event: &'a Value,
    /// Its `type`, for messages.
    pub event_type: &'a str,
    /// Exponent overrides from the mapping file.
    pub exponents: &'a BTreeMap<String, u32>,
}

impl Context<'_> {
    /// Decimals of `currency`: the file's override, else Stripe's lists.
    pub(crate) fn exponent(&self, currency: &str) -> u32 {
        self.exponents
            .get(&currency.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| currency_exponent(currency))
    }

    pub(crate) fn missing(&self, sobject: &str, field: &str, path: &str) -> MappingError {
        MappingError::MissingValue {
            event_type: self.event_type.to_owned(),
            sobject: sobject.to_owned(),
            field: field.to_owned(),
            path: path.to_owned(),
        }
    }

    pub(crate) fn bad(
        &self,
        sobject: &str,
        field: &str,
        path: &str,
        reason: String,
    ) -> MappingError {
        MappingError::BadValue {
            event_type: self.event_type.to_owned(),
            sobject: sobject.to_owned(),
            field: field.to_owned(),
            path: path.to_owned(),
            reason,
        }
    }
}

/// One `[[rule.write]]`, compiled.
#[derive(Debug, Clone)]
pub(crate) struct WriteRule {
    pub sobject: String,
    pub role: WriteRole,
    /// Skip the write when its target has no value (e.g. a guest PaymentIntent's customer).
    pub optional: bool,
    pub target: TargetRule,
    pub fields: Vec<FieldRule>,
}

impl WriteRule {
    /// The record write for `context`'s event, or `None` for a skipped optional write.
    pub(crate) fn apply(&self, context: &Context<'_>) -> Result<Option<RecordWrite>, MappingError> {
        let target = self
            .target
            .resolve(context.event)
            .map_err(|bad| context.bad(&self.sobject, &bad.field, &bad.path, bad.reason))?;
        let Some(target) = target else {
            if self.optional {
                return Ok(None);
            }
            let paths = describe(&self.target.all_paths());
            return Err(context.missing(&self.sobject, self.target.field_name(), &paths));
        };
        let mut fields = Map::new();
        for field in &self.fields {
            if let Some((key, value)) = field.evaluate(context, &self.sobject)? {
                fields.insert(key, value);
            }
        }
        add_external_ids(&target, &mut fields);
        Ok(Some(RecordWrite {
            sobject: self.sobject.clone(),
            target,
            fields,
            role: self.role,
        }))
    }
}

/// One `[[rule]]`, compiled: the writes for a set of event types.
#[derive(Debug, Clone)]
pub(crate) struct EventRule {
    pub events: Vec<String>,
    pub writes: Vec<WriteRule>,
}
