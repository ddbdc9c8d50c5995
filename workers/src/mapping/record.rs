//! What a mapped event asks Salesforce to do: the record writes, in order.
//!
//! These types are the contract between the mapping and the Salesforce client: the mapping
//! decides *what* to write, the client decides *how* (single upsert, Collections, Bulk CSV).

use serde_json::{Map, Value};

/// Everything one Stripe event changes in Salesforce.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedEvent {
    /// Parent stubs first, then the main record(s), in the order they must be written: a
    /// lookup in a later write may point at a record created by an earlier one.
    pub writes: Vec<RecordWrite>,
    /// Records to delete once the writes succeeded: children the event's list no longer has
    /// (a `for_each` write's `delete_missing`).
    pub deletions: Vec<Deletion>,
}

/// One record to create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordWrite {
    /// The sObject API name, e.g. `Stripe_Subscription__c`.
    pub sobject: String,
    /// Which record: by external id, by Salesforce id, or found by a query.
    pub target: RecordTarget,
    /// Field API names to JSON values ready for the REST body. Lookups are nested through
    /// the parent's external id (`{"Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_1"}}`);
    /// explicit nulls (Stripe said "no value") are JSON `null` and clear the field.
    ///
    /// Every external id field named in [`Self::target`] (including query fallbacks) is also
    /// present here with its value, because Collections upsert and Bulk CSV need it in the
    /// record. A single-record `PATCH .../{ExtIdField}/{value}` should leave it out of the body.
    pub fields: Map<String, Value>,
    /// Whether this is the event's own record or a parent it needs.
    pub role: WriteRole,
    /// The part of the record this write owns, when not the whole record (`aspect` in the
    /// mapping file): newest wins per record *and* aspect, so events of different Stripe
    /// objects that write different fields of one record (a customer's contact data, its
    /// subscription status) never drop each other's writes. `None`: the record's main part,
    /// which carries the fence.
    pub aspect: Option<String>,
    /// Lookups set only when the parent exists (`only_if_exists`): the writer finds the
    /// parents' ids with one query per batch and adds the fields found; a field whose parent
    /// does not exist is left out, because Salesforce would fail the whole record.
    pub pending_lookups: Vec<PendingLookup>,
}

/// A lookup field to fill with the id of an existing parent, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLookup {
    /// The lookup field written with the parent's record id, e.g. `Contact__c`.
    pub field: String,
    /// The parent's sObject, e.g. `Contact`.
    pub sobject: String,
    /// The parent's field matched, e.g. `Stripe_Customer_ID__c` (need not be unique).
    pub external_id_field: String,
    /// The value matched, e.g. `cus_...`.
    pub value: String,
}

/// Delete the records of `sobject` that belong to one parent but are not among the keys the
/// event just wrote (a tier Stripe no longer lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The sObject, e.g. `Pricing_Tier__c`.
    pub sobject: String,
    /// The field naming the parent, possibly through a relationship, e.g.
    /// `Pricing_Plan__r.Stripe_Price_ID__c`.
    pub scope_field: String,
    /// Its value for this event, e.g. `price_...`.
    pub scope_value: String,
    /// The external id of the records, e.g. `Stripe_Tier_Key__c`.
    pub key_field: String,
    /// The keys the event wrote: these records stay.
    pub keep: Vec<String>,
}

impl Deletion {
    /// The SOQL that finds the records to delete. Literals are escaped; object and field names
    /// come from the mapping file, never from the event.
    pub fn soql(&self) -> String {
        let quote = salesforce_client::soql::quote;
        let mut soql = format!(
            "SELECT Id FROM {} WHERE {} = {}",
            self.sobject,
            self.scope_field,
            quote(&self.scope_value)
        );
        if !self.keep.is_empty() {
            let keep: Vec<String> = self.keep.iter().map(|key| quote(key)).collect();
            soql.push_str(&format!(
                " AND {} NOT IN ({})",
                self.key_field,
                keep.join(", ")
            ));
        }
        soql
    }
}

/// How the Salesforce client finds the record of a [`RecordWrite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordTarget {
    /// Upsert by external id: `PATCH /sobjects/{sobject}/{field}/{value}` or Collections upsert.
    ExternalId {
        /// The external id field, e.g. `Stripe_Customer_ID__c`.
        field: String,
        /// Its value, e.g. `cus_...`.
        value: String,
    },
    /// Update the record with this 15- or 18-character Salesforce id (for example the
    /// Checkout Session's `client_reference_id`, set by Salesforce when it created the session).
    SalesforceId(String),
    /// Find the record with SOQL `SELECT Id FROM {sobject} WHERE {field} = '{value}'` (escape
    /// the value!) and update it; if nothing is found, use `fallback`, or give up when there is
    /// none (the event then changes nothing, which the client should report).
    Query {
        /// The field to match, e.g. `Stripe_Checkout_Session_ID__c`.
        field: String,
        /// The value to match.
        value: String,
        /// What to do when the query finds no record.
        fallback: Option<Box<RecordTarget>>,
    },
    /// Update *every* record with `{field} = '{value}'` (all the plans of a renamed product);
    /// none found means nothing to do.
    QueryAll {
        /// The field to match, e.g. `Stripe_Product_ID__c`.
        field: String,
        /// The value to match.
        value: String,
    },
}

/// Why a record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteRole {
    /// Make sure a parent exists before a child looks it up: create it with what the event
    /// knows if it is missing; if it exists, leave it unchanged. The built-in stubs carry only
    /// their external id (and immutable lookups), so a plain upsert of the stub is safe too.
    ParentStub,
    /// The record the event is about (an event may have more than one).
    Main,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_keep_what_the_event_wrote() {
        let mut deletion = Deletion {
            sobject: "Pricing_Tier__c".into(),
            scope_field: "Pricing_Plan__r.Stripe_Price_ID__c".into(),
            scope_value: "price_'1".into(),
            key_field: "Stripe_Tier_Key__c".into(),
            keep: vec!["price_'1#1".into(), "price_'1#2".into()],
        };
        assert_eq!(
            deletion.soql(),
            r"SELECT Id FROM Pricing_Tier__c WHERE Pricing_Plan__r.Stripe_Price_ID__c = 'price_\'1' AND Stripe_Tier_Key__c NOT IN ('price_\'1#1', 'price_\'1#2')"
        );
        deletion.keep.clear();
        assert_eq!(
            deletion.soql(),
            r"SELECT Id FROM Pricing_Tier__c WHERE Pricing_Plan__r.Stripe_Price_ID__c = 'price_\'1'"
        );
    }
}
