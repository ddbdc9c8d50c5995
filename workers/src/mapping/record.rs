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
