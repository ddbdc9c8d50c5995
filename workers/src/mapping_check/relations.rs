//! The checks of a mapping's links between records that go through a query rather than an
//! upsert key: a field set to an existing parent's id (`only_if_exists`), and the parent
//! field of a `delete_missing` (`Pricing_Plan__r.Stripe_Price_ID__c`). Each answer is an
//! error or a warning in words, with the metadata file to look at.

use salesforce_metadata::{FieldMeta, Metadata, ObjectMeta};

use crate::mapping::inspect::ExistingParentView;

/// What one check found: `Err((message, file))` stops a worker, `Ok(Some(..))` is a warning.
pub(super) type Finding = Result<Option<(String, String)>, (String, String)>;

/// A field the writer sets to the record id of an existing `parent` (found by a query on the
/// parent's field): it must be a lookup to that object, whose matched field exists. A field
/// that is not an External ID works, but is not indexed, so the query may be slow: a warning.
pub(super) fn existing_parent(
    field: &FieldMeta,
    parent: ExistingParentView<'_>,
    metadata: &Metadata,
) -> Finding {
    if !field.kind.is_reference() {
        return Err((
            format!(
                "{} is a {} field: `only_if_exists` writes a parent's record id into a Lookup",
                field.name,
                field.kind.api_name()
            ),
            field.file.clone(),
        ));
    }
    let target = field.reference_to.as_deref().unwrap_or_default();
    if !target.eq_ignore_ascii_case(parent.sobject) {
        return Err((
            format!("{} looks up {target}, not {}", field.name, parent.sobject),
            field.file.clone(),
        ));
    }
    let Some(object) = metadata.object(parent.sobject) else {
        return Err((
            format!("the org has no object {}", parent.sobject),
            format!("{}/objects", metadata.root()),
        ));
    };
    match object.field(parent.external_id_field) {
        Some(matched) if matched.external_id || matched.id_lookup => Ok(None),
        Some(matched) => Ok(Some((
            format!(
                "{}.{} is not an External ID (not indexed): the query for parents may be slow",
                object.name, matched.name
            ),
            matched.file.clone(),
        ))),
        None if object.readable(parent.external_id_field).is_some() => Ok(None),
        None => Err((
            format!("{} has no field {}", object.name, parent.external_id_field),
            object.file.clone(),
        )),
    }
}

/// The field of `object` that names the parent of a `delete_missing`: a field of the object,
/// or `Relationship__r.Field__c` through one of its lookups.
pub(super) fn delete_missing_scope(
    path: &str,
    object: &ObjectMeta,
    metadata: &Metadata,
) -> Finding {
    let Some((relationship, name)) = path.split_once('.') else {
        return match object.readable(path) {
            Some(_) => Ok(None),
            None => Err((
                format!("{} has no field {path}", object.name),
                object.file.clone(),
            )),
        };
    };
    let Some(lookup) = object.fields.iter().find(|field| {
        field
            .relationship_name()
            .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
    }) else {
        return Err((
            format!(
                "{} has no lookup whose relationship is {relationship}",
                object.name
            ),
            object.file.clone(),
        ));
    };
    let parent_name = lookup.reference_to.as_deref().unwrap_or_default();
    let Some(parent) = metadata.object(parent_name) else {
        return Err((
            format!(
                "{} looks up {parent_name}, which is not in the metadata",
                lookup.name
            ),
            lookup.file.clone(),
        ));
    };
    match parent.readable(name) {
        Some(_) => Ok(None),
        None => Err((
            format!("{} has no field {name}", parent.name),
            parent.file.clone(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Metadata {
        Metadata::embedded().expect("the project's metadata")
    }

    #[test]
    fn a_contact_link_is_a_lookup_to_contact_matched_on_an_existing_field() {
        let metadata = metadata();
        let customer = metadata.object("Stripe_Customer__c").unwrap();
        let contact = ExistingParentView {
            sobject: "Contact",
            external_id_field: "Stripe_Customer_ID__c",
        };
        let link = customer.field("Contact__c").unwrap();
        assert_eq!(existing_parent(link, contact, &metadata), Ok(None));
        let nowhere = ExistingParentView {
            external_id_field: "Nope__c",
            ..contact
        };
        assert!(existing_parent(link, nowhere, &metadata).is_err());
        let wrong_object = ExistingParentView {
            sobject: "Account",
            ..contact
        };
        let error = existing_parent(link, wrong_object, &metadata).unwrap_err();
        assert!(
            error.0.contains("looks up Contact, not Account"),
            "{error:?}"
        );
        let not_a_lookup = customer.field("Customer_Email__c").unwrap();
        assert!(existing_parent(not_a_lookup, contact, &metadata).is_err());
    }

    #[test]
    fn a_delete_missing_scope_follows_one_relationship() {
        let metadata = metadata();
        let tier = metadata.object("Pricing_Tier__c").unwrap();
        let scope = |path: &str| delete_missing_scope(path, tier, &metadata);
        assert_eq!(scope("Pricing_Plan__r.Stripe_Price_ID__c"), Ok(None));
        assert_eq!(scope("Stripe_Tier_Key__c"), Ok(None));
        assert!(scope("Pricing_Plan__r.Nope__c").is_err());
        assert!(scope("Plan__r.Stripe_Price_ID__c").is_err());
        assert!(scope("Nope__c").is_err());
    }
}
