//! Field names in a query resolved against the schema: an own field (`Amount__c`) or one
//! field of a parent through a lookup's relationship name
//! (`Stripe_Customer__r.Stripe_Customer_ID__c`), with Salesforce's `INVALID_FIELD` texts.

use crate::schema::{ObjectDef, Schema};
use crate::soql::{FieldPath, SoqlError};

/// Resolves `Field` or `Relationship__r.Field` on `object`.
pub(super) fn resolve(
    schema: &Schema,
    object: &ObjectDef,
    name: &str,
    column: usize,
) -> Result<FieldPath, SoqlError> {
    let no_such = |entity: &str, field: &str| {
        SoqlError {
        code: "INVALID_FIELD",
        column,
        message: format!("No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."),
    }
    };
    match name.split_once('.') {
        None => object
            .field(name)
            .cloned()
            .map(|field| FieldPath {
                parent: None,
                field,
            })
            .ok_or_else(|| no_such(&object.name, name)),
        Some((relationship, field_name)) => {
            let lookup = object.relationship(relationship).ok_or_else(|| SoqlError {
                code: "INVALID_FIELD",
                column,
                message: format!("Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
            })?;
            let parent = lookup
                .reference_to
                .as_deref()
                .and_then(|target| schema.object(target))
                .cloned()
                .ok_or_else(|| no_such(&object.name, name))?;
            let field = parent
                .field(field_name)
                .cloned()
                .ok_or_else(|| no_such(&parent.name, field_name))?;
            let relationship_name = lookup.relationship_name.clone().unwrap_or_default();
            Ok(FieldPath {
                parent: Some((lookup.name.clone(), relationship_name, parent)),
                field,
            })
        }
    }
}
