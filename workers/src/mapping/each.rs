//! `for_each`: one record per element of a list in the event (a price's `tiers`), and
//! `delete_missing`: the records of that list which the event no longer has.
//!
//! The write's paths may start at the element (`$item`), the element before it
//! (`$previous`) and its 1-based position (`$number`); see [`super::path`]. A list that is
//! **absent** from the event (Stripe leaves out fields that must be expanded, such as a
//! Price's `tiers`) writes nothing and deletes nothing: the event says nothing about the
//! list. A list that is present (or `null`, an empty list) is the whole list: with
//! `delete_missing`, every record of the same parent whose key the event did not write is
//! deleted after the writes.

use serde_json::Value;

use super::error::MappingError;
use super::path::{first_present, Element, JsonPath, Lookup};
use super::record::{Deletion, MappedEvent, RecordTarget};
use super::rule::{Context, WriteRule};
use super::target::TargetKind;

/// A compiled `for_each` (with its `delete_missing`).
#[derive(Debug, Clone)]
pub(crate) struct EachRule {
    /// Where the list is (an event path).
    pub list: JsonPath,
    /// Delete the records of the parent that the list no longer has.
    pub delete_missing: Option<DeleteMissingRule>,
}

/// `delete_missing = { field = "Pricing_Plan__r.Stripe_Price_ID__c", path = "data.object.id" }`:
/// which records belong to the list's parent.
#[derive(Debug, Clone)]
pub(crate) struct DeleteMissingRule {
    /// The field naming the parent, possibly through one relationship.
    pub field: String,
    /// Where the parent's value is (event paths, first non-null wins).
    pub paths: Vec<JsonPath>,
}

impl EachRule {
    /// Adds one record per element of the list, then the deletion, to `out`.
    pub(crate) fn apply(
        &self,
        write: &WriteRule,
        context: &Context<'_>,
        out: &mut MappedEvent,
    ) -> Result<(), MappingError> {
        let items: &[Value] = match self.list.lookup_in(context.scope()) {
            Lookup::Absent => return Ok(()),
            Lookup::Null => &[],
            Lookup::Found(Value::Array(items)) => items,
            Lookup::Found(other) => {
                return Err(context.bad(
                    &write.sobject,
                    "for_each",
                    self.list.as_str(),
                    format!("expected a list, got {other}"),
                ))
            }
        };
        let mut keep = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let element = Element {
                item,
                previous: index.checked_sub(1).and_then(|before| items.get(before)),
                number: Value::from(index + 1),
            };
            if let Some(record) = write.record(&context.with_element(&element))? {
                if let RecordTarget::ExternalId { value, .. } = &record.target {
                    keep.push(value.clone());
                }
                out.writes.push(record);
            }
        }
        if let Some(rule) = &self.delete_missing {
            out.deletions.push(rule.deletion(write, context, keep)?);
        }
        Ok(())
    }
}

impl DeleteMissingRule {
    fn deletion(
        &self,
        write: &WriteRule,
        context: &Context<'_>,
        keep: Vec<String>,
    ) -> Result<Deletion, MappingError> {
        let TargetKind::ExternalId(key_field) = &write.target.kind else {
            // The loader only accepts delete_missing on an external_id target.
            return Err(context.bad(
                &write.sobject,
                "delete_missing",
                self.field.as_str(),
                "needs an external_id target".into(),
            ));
        };
        let scope_value = match first_present(&self.paths, context.scope()) {
            (Lookup::Found(Value::String(text)), _) if !text.is_empty() => text.clone(),
            (Lookup::Found(Value::Number(number)), _) => number.to_string(),
            (Lookup::Found(other), Some(path)) => {
                return Err(context.bad(
                    &write.sobject,
                    &self.field,
                    path.as_str(),
                    format!("expected an id (text), got {other}"),
                ))
            }
            _ => {
                let paths = super::path::describe(&self.paths);
                return Err(context.missing(&write.sobject, &self.field, &paths));
            }
        };
        Ok(Deletion {
            sobject: write.sobject.clone(),
            scope_field: self.field.clone(),
            scope_value,
            key_field: key_field.clone(),
            keep,
        })
    }
}
