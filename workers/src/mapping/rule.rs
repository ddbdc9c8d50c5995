//! Compiled rules and how they turn one event into record writes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::each::EachRule;
use super::error::MappingError;
use super::field::{Evaluated, FieldRule};
use super::path::{Element, Scope};
use super::record::{MappedEvent, RecordWrite, WriteRole};
use super::target::{add_external_ids, TargetRule};
use common::currency::{currency_exponent, is_chargeable_currency};

/// What every field and target needs while one event is mapped.
pub(crate) struct Context<'a> {
    /// The whole event (paths start at the envelope).
    pub event: &'a Value,
    /// Its `type`, for messages.
    pub event_type: &'a str,
    /// Exponent overrides from the mapping file.
    pub exponents: &'a BTreeMap<String, u32>,
    /// The list element a `for_each` write is writing.
    pub element: Option<&'a Element<'a>>,
}

impl<'a> Context<'a> {
    /// Where this context's paths are resolved.
    pub(crate) fn scope(&self) -> Scope<'a> {
        Scope {
            event: self.event,
            element: self.element,
        }
    }

    /// The same event, writing `element`.
    pub(crate) fn with_element<'b>(&self, element: &'b Element<'b>) -> Context<'b>
    where
        'a: 'b,
    {
        Context {
            event: self.event,
            event_type: self.event_type,
            exponents: self.exponents,
            element: Some(element),
        }
    }

    /// Decimals of `currency`: the file's override, else Stripe's lists; `None` for a code
    /// Stripe cannot charge in (not an ISO 4217 currency with minor units), whose amounts
    /// would otherwise be guessed to have two decimals.
    pub(crate) fn exponent(&self, currency: &str) -> Option<u32> {
        match self.exponents.get(&currency.to_ascii_lowercase()) {
            Some(exponent) => Some(*exponent),
            None => is_chargeable_currency(currency).then(|| currency_exponent(currency)),
        }
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
    /// `aspect`: newest wins for this part of the record apart from the rest.
    pub aspect: Option<String>,
    /// Skip the write when its target has no value (e.g. a guest PaymentIntent's customer).
    pub optional: bool,
    pub target: TargetRule,
    pub fields: Vec<FieldRule>,
    /// `for_each`: one record per element of a list (and `delete_missing`).
    pub each: Option<EachRule>,
}

impl WriteRule {
    /// Adds this write's records (and deletions) for `context`'s event to `out`.
    pub(crate) fn apply(
        &self,
        context: &Context<'_>,
        out: &mut MappedEvent,
    ) -> Result<(), MappingError> {
        match &self.each {
            None => {
                if let Some(record) = self.record(context)? {
                    out.writes.push(record);
                }
                Ok(())
            }
            Some(each) => each.apply(self, context, out),
        }
    }

    /// The record write for `context` (an event, or one element of its list), or `None` for
    /// a skipped optional write.
    pub(crate) fn record(
        &self,
        context: &Context<'_>,
    ) -> Result<Option<RecordWrite>, MappingError> {
        let target = self
            .target
            .resolve(context.scope())
            .map_err(|bad| context.bad(&self.sobject, &bad.field, &bad.path, bad.reason))?;
        let Some(target) = target else {
            if self.optional {
                return Ok(None);
            }
            let sources = self.target.sources().join(" | ");
            return Err(context.missing(&self.sobject, self.target.field_name(), &sources));
        };
        let mut fields = Map::new();
        let mut pending_lookups = Vec::new();
        for field in &self.fields {
            match field.evaluate(context, &self.sobject)? {
                Evaluated::Omit => {}
                Evaluated::Set(key, value) => {
                    fields.insert(key, value);
                }
                Evaluated::Pending(lookup) => pending_lookups.push(lookup),
            }
        }
        add_external_ids(&target, &mut fields);
        Ok(Some(RecordWrite {
            sobject: self.sobject.clone(),
            target,
            fields,
            role: self.role,
            aspect: self.aspect.clone(),
            pending_lookups,
        }))
    }
}

/// One `[[rule]]`, compiled: the writes for a set of event types.
#[derive(Debug, Clone)]
pub(crate) struct EventRule {
    pub events: Vec<String>,
    pub writes: Vec<WriteRule>,
}
