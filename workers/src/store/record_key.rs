//! The name of one Salesforce record in the ledger: what newest-wins is keyed by.
//!
//! Two Stripe objects can write one record (an invoice event sets its subscription's status),
//! so the ledger orders events per record, not per Stripe object. A record is named by its
//! sObject and how the fleet finds it: `<sobject>/<field>=<value>` for an external id or a
//! query, `<sobject>/id=<id>` for a Salesforce id. Salesforce compares object names, field
//! names and (non-case-sensitive) external id values without regard to case, so those are
//! lower-cased: `cus_A` and `cus_a` are one record there, and one here. Salesforce ids are
//! kept as they are: a 15-character id is case-sensitive. A write that owns an aspect of the
//! record (`aspect` in the mapping file) names `<record>#<aspect>`: newest wins per aspect.

use std::fmt;

use crate::mapping::{RecordTarget, RecordWrite};

/// A Salesforce record as the ledger names it, e.g.
/// `stripe_subscription__c/stripe_subscription_id__c=sub_1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey(String);

impl RecordKey {
    /// The record of `sobject` whose external id `field` is `value` (a Bulk job's row).
    pub fn external(sobject: &str, field: &str, value: &str) -> Self {
        Self(format!("{sobject}/{field}={value}").to_lowercase())
    }

    /// A Salesforce record as the outbound direction orders its changes:
    /// `outbound:<sobject>/id=<15-character id>`, apart from the inbound keys of the same
    /// record (the two directions order different things).
    pub fn outbound(sobject: &str, id: &str) -> Self {
        Self(format!(
            "outbound:{}/id={}",
            sobject.to_lowercase(),
            id.get(..15).unwrap_or(id)
        ))
    }

    /// The record (and aspect) `write` writes: `…#<aspect>` when it owns an aspect.
    pub fn of(write: &RecordWrite) -> Self {
        let record = Self::record_of(write);
        match &write.aspect {
            Some(aspect) => Self(format!("{}#{aspect}", record.0)),
            None => record,
        }
    }

    fn record_of(write: &RecordWrite) -> Self {
        let sobject = write.sobject.to_lowercase();
        match &write.target {
            // A query names the records it finds; for `query_all` that may be several.
            RecordTarget::ExternalId { field, value }
            | RecordTarget::Query { field, value, .. }
            | RecordTarget::QueryAll { field, value } => Self::external(&sobject, field, value),
            // A 15-character id is case-sensitive; an 18-character one is the same id with a
            // case-safe suffix, so its first 15 characters name the record.
            RecordTarget::SalesforceId(id) => {
                Self(format!("{sobject}/id={}", id.get(..15).unwrap_or(id)))
            }
        }
    }

    /// The key as stored in Redis key names and lifecycle records.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::mapping::WriteRole;

    fn write(sobject: &str, target: RecordTarget) -> RecordWrite {
        RecordWrite {
            pending_lookups: Default::default(),
            sobject: sobject.into(),
            target,
            fields: Map::new(),
            role: WriteRole::Main,
            aspect: None,
            on_dead_letter: Vec::new(),
        }
    }

    #[test]
    fn one_record_has_one_key_whatever_the_case_or_id_length() {
        let external = |value: &str| {
            write(
                "Stripe_Customer__c",
                RecordTarget::ExternalId {
                    field: "Stripe_Customer_ID__c".into(),
                    value: value.into(),
                },
            )
        };
        assert_eq!(
            RecordKey::of(&external("cus_A")).as_str(),
            "stripe_customer__c/stripe_customer_id__c=cus_a"
        );
        assert_eq!(
            RecordKey::of(&external("cus_A")),
            RecordKey::of(&external("cus_a"))
        );
        let by_id = |id: &str| write("Stripe_Customer__c", RecordTarget::SalesforceId(id.into()));
        assert_eq!(
            RecordKey::of(&by_id("a01000000000001AAA")),
            RecordKey::of(&by_id("a01000000000001"))
        );
        assert_ne!(
            RecordKey::of(&external("cus_1")),
            RecordKey::of(&write(
                "Stripe_Subscription__c",
                RecordTarget::ExternalId {
                    field: "Stripe_Customer_ID__c".into(),
                    value: "cus_1".into(),
                },
            ))
        );
    }

    #[test]
    fn an_aspect_is_named_apart_from_the_rest_of_its_record() {
        let mut status = write(
            "Stripe_Customer__c",
            RecordTarget::ExternalId {
                field: "Stripe_Customer_ID__c".into(),
                value: "cus_1".into(),
            },
        );
        let whole = RecordKey::of(&status);
        status.aspect = Some("subscription_status".into());
        assert_eq!(
            RecordKey::of(&status).as_str(),
            "stripe_customer__c/stripe_customer_id__c=cus_1#subscription_status"
        );
        assert_ne!(RecordKey::of(&status), whole);
    }
}
