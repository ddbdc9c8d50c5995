//! A read-only view of a compiled mapping: for each write, its sObject, how its record is
//! found, and what kind of value each field gets, known without an event. The mapping check
//! (`crate::mapping_check`) compares this with the org's metadata; nothing here changes how
//! events are mapped.

use std::collections::BTreeMap;

use serde_json::Value;

use super::each::EachRule;
use super::field::{FieldRule, Source};
use super::record::WriteRole;
use super::rule::WriteRule;
use super::target::{TargetKind, TargetRule};
use super::transform::Transform;
use super::Mapping;

/// One `[[rule.write]]`.
#[derive(Debug, Clone)]
pub struct WriteView<'a> {
    /// The event types of its rule (how messages name the rule).
    pub events: &'a [String],
    /// Its position in the rule, from 1.
    pub position: usize,
    /// The sObject.
    pub sobject: &'a str,
    /// Parent stub or main record.
    pub role: WriteRole,
    /// How the record is found: the target, then each `otherwise`, in order.
    pub targets: Vec<TargetView<'a>>,
    /// The fields it sets.
    pub fields: Vec<FieldView<'a>>,
    /// `delete_missing`: the field (possibly `Relationship__r.Field__c`) naming the parent
    /// whose records the event's list no longer has are deleted.
    pub delete_missing: Option<&'a str>,
}

/// One way of finding the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetView<'a> {
    /// Upsert by this external id field (which is also written).
    ExternalId(&'a str),
    /// A SOQL query on this field.
    Query(&'a str),
    /// A SOQL query on this field; every record found is updated.
    QueryAll(&'a str),
    /// A Salesforce record id from the event.
    SalesforceId,
}

/// One field a write sets.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldView<'a> {
    /// The field's API name as the file writes it.
    pub name: &'a str,
    /// What kind of value it gets.
    pub value: ValueView,
    /// Set through the parent's external id rather than as a plain value.
    pub lookup: Option<LookupView<'a>>,
    /// Set to the record id of an existing parent found by a query, if there is one
    /// (`only_if_exists`).
    pub existing_parent: Option<ExistingParentView<'a>>,
    /// `default`: written as given when the event has no value.
    pub default: Option<&'a Value>,
    /// `max_length`: longer text is cut to this many characters.
    pub max_length: Option<usize>,
}

/// `lookup = { sobject, external_id_field, only_if_exists = true }` of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingParentView<'a> {
    /// The parent object queried, e.g. `Contact`.
    pub sobject: &'a str,
    /// The parent's field matched (need not be unique), e.g. `Stripe_Customer_ID__c`.
    pub external_id_field: &'a str,
}

/// `lookup = { relationship, external_id_field }` of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupView<'a> {
    /// The relationship name written, e.g. `Stripe_Customer__r`.
    pub relationship: &'a str,
    /// The parent's field the key is matched on.
    pub external_id_field: &'a str,
}

/// The kind of value a field gets.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueView {
    /// Always one of these values: a `constant`, or the outputs of a `value_map`.
    Fixed(Vec<Value>),
    /// `money`, `money_decimal`: a decimal number with the currency's decimals.
    Money,
    /// `datetime`: a Salesforce DateTime.
    DateTime,
    /// `date`: a Salesforce Date.
    Date,
    /// `bool`: TRUE or FALSE.
    Boolean,
    /// `number`: a number from the event.
    Number,
    /// `string`, `upper`, `lower`, or a `template`: text.
    Text,
    /// `raw` (no transform): whatever scalar the event holds.
    Raw,
}

impl Mapping {
    /// Every write of every rule, in file order.
    pub fn writes(&self) -> Vec<WriteView<'_>> {
        self.rules
            .iter()
            .flat_map(|rule| {
                rule.writes
                    .iter()
                    .enumerate()
                    .map(|(index, write)| view(&rule.events, index + 1, write))
            })
            .collect()
    }

    /// The file's `[currency_exponents]` overrides (lower-case code → decimals).
    pub fn exponent_overrides(&self) -> &BTreeMap<String, u32> {
        &self.exponents
    }
}

fn view<'a>(events: &'a [String], position: usize, write: &'a WriteRule) -> WriteView<'a> {
    let mut targets = Vec::new();
    let mut next: Option<&TargetRule> = Some(&write.target);
    while let Some(target) = next {
        targets.push(match &target.kind {
            TargetKind::ExternalId(field) => TargetView::ExternalId(field),
            TargetKind::Query(field) => TargetView::Query(field),
            TargetKind::QueryAll(field) => TargetView::QueryAll(field),
            TargetKind::SalesforceId => TargetView::SalesforceId,
        });
        next = target.otherwise.as_deref();
    }
    WriteView {
        events,
        position,
        sobject: &write.sobject,
        role: write.role,
        targets,
        fields: write.fields.iter().map(field_view).collect(),
        delete_missing: write
            .each
            .as_ref()
            .and_then(|each: &EachRule| each.delete_missing.as_ref())
            .map(|rule| rule.field.as_str()),
    }
}

fn field_view(field: &FieldRule) -> FieldView<'_> {
    let value = match (&field.source, &field.value_map) {
        (Source::Constant(value), _) => ValueView::Fixed(vec![value.clone()]),
        (Source::Paths(_) | Source::Template(_), Some(map)) => {
            ValueView::Fixed(map.values().cloned().collect())
        }
        (Source::Template(_), None) if field.transform == Transform::Raw => ValueView::Text,
        (Source::Paths(_) | Source::Template(_), None) => match field.transform {
            Transform::Raw => ValueView::Raw,
            Transform::Text | Transform::Upper | Transform::Lower => ValueView::Text,
            Transform::Money | Transform::MoneyDecimal => ValueView::Money,
            Transform::DateTime => ValueView::DateTime,
            Transform::Date => ValueView::Date,
            Transform::Bool => ValueView::Boolean,
            Transform::Number => ValueView::Number,
        },
    };
    FieldView {
        name: &field.name,
        value,
        lookup: field.lookup.as_ref().map(|lookup| LookupView {
            relationship: &lookup.relationship,
            external_id_field: &lookup.external_id_field,
        }),
        existing_parent: field
            .existing_parent
            .as_ref()
            .map(|parent| ExistingParentView {
                sobject: &parent.sobject,
                external_id_field: &parent.external_id_field,
            }),
        default: field.default.as_ref(),
        max_length: field.max_length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_builtin_mapping_is_described() {
        let mapping = Mapping::builtin();
        let writes = mapping.writes();
        let deleted = writes
            .iter()
            .find(|write| write.events == ["customer.deleted"])
            .unwrap();
        assert_eq!(deleted.position, 1);
        assert_eq!(deleted.sobject, "Stripe_Customer__c");
        assert_eq!(
            deleted.targets,
            [TargetView::ExternalId("Stripe_Customer_ID__c")]
        );
        let status = writes
            .iter()
            .filter(|write| write.events == ["customer.deleted"])
            .flat_map(|write| write.fields.iter())
            .find(|field| field.name == "Subscription_Status__c")
            .unwrap();
        assert_eq!(status.value, ValueView::Fixed(vec![json!("Canceled")]));
        let checkout = writes
            .iter()
            .find(|write| write.events == ["checkout.session.completed"] && write.position == 2)
            .unwrap();
        assert_eq!(
            checkout.targets,
            [
                TargetView::SalesforceId,
                TargetView::Query("Stripe_Checkout_Session_ID__c"),
                TargetView::ExternalId("Stripe_Subscription_ID__c"),
            ]
        );
        let customer = checkout
            .fields
            .iter()
            .find(|field| field.name == "Stripe_Customer__c")
            .unwrap();
        assert_eq!(
            customer.lookup,
            Some(LookupView {
                relationship: "Stripe_Customer__r",
                external_id_field: "Stripe_Customer_ID__c"
            })
        );
        assert_eq!(customer.value, ValueView::Raw);
    }

    #[test]
    fn value_maps_are_their_outputs() {
        let mapping = Mapping::builtin();
        let writes = mapping.writes();
        let mirror = writes
            .iter()
            .find(|write| write.events[0] == "customer.subscription.created" && write.position == 3)
            .unwrap();
        let ValueView::Fixed(values) = &mirror.fields[0].value else {
            panic!("a value_map gives fixed values");
        };
        assert!(values.contains(&json!("Past Due")) && values.contains(&json!("None")));
        let amount = writes
            .iter()
            .flat_map(|write| &write.fields)
            .find(|field| field.name == "Transaction_Date__c")
            .unwrap();
        assert_eq!(amount.value, ValueView::DateTime);
    }

    #[test]
    fn lists_queries_for_all_and_parents_if_they_exist_are_described() {
        let mapping = Mapping::builtin();
        let writes = mapping.writes();
        let tiers = writes
            .iter()
            .find(|write| write.sobject == "Pricing_Tier__c")
            .unwrap();
        assert_eq!(
            tiers.delete_missing,
            Some("Pricing_Plan__r.Stripe_Price_ID__c")
        );
        let field = |name: &str| tiers.fields.iter().find(|f| f.name == name).unwrap();
        assert_eq!(field("Name").value, ValueView::Text, "a template is text");
        assert_eq!(field("From_Quantity__c").default, Some(&json!(1)));
        assert_eq!(field("Unit_Price__c").value, ValueView::Money);
        let rename = writes
            .iter()
            .find(|write| write.events == ["product.updated"])
            .unwrap();
        assert_eq!(
            rename.targets,
            [TargetView::QueryAll("Stripe_Product_ID__c")]
        );
        let customer = &writes[0];
        let contact = customer
            .fields
            .iter()
            .find(|f| f.name == "Contact__c")
            .unwrap();
        assert_eq!(
            contact.existing_parent,
            Some(ExistingParentView {
                sobject: "Contact",
                external_id_field: "Stripe_Customer_ID__c"
            })
        );
        assert_eq!(contact.lookup, None);
    }
}
