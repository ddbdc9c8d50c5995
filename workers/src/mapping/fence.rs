//! The fence: newest wins inside Salesforce too, not only in the fleet's ledger.
//!
//! The ledger orders the writes the fleet *sends*; it cannot order writes that land late (a
//! request Salesforce still executes after the client timed out, a replica frozen past its
//! claim). So every main write also carries its event's time and id, and a validation rule on
//! the object rejects a write whose event is older than the one the record holds
//! (`Last_Stripe_Event_At__c < PRIORVALUE(Last_Stripe_Event_At__c)`). The mapping file names
//! the two fields in `[fence]`; a rejection by the rule is the write's `superseded` outcome,
//! not a failure. `docs/mapping.md` ("Newest wins") explains the whole ordering.

use salesforce_client::ApiError;
use serde_json::{Map, Value};

use super::datetime::unix_to_salesforce_datetime;

/// The error code of a validation rule's rejection.
pub const VALIDATION_EXCEPTION: &str = "FIELD_CUSTOM_VALIDATION_EXCEPTION";

/// The two fields every main write carries, from the mapping file's `[fence]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// DateTime field holding the `created` time of the newest event written to the record;
    /// the validation rule compares it, and names it as its error field.
    pub event_time_field: String,
    /// Text field holding that event's id, for operators (and ties, see `docs/mapping.md`).
    pub event_id_field: String,
}

impl Fence {
    /// Adds the event's time and id to a main write's fields.
    pub fn stamp(&self, fields: &mut Map<String, Value>, created: i64, event_id: &str) {
        fields.insert(
            self.event_time_field.clone(),
            Value::String(unix_to_salesforce_datetime(created)),
        );
        fields.insert(
            self.event_id_field.clone(),
            Value::String(event_id.to_owned()),
        );
    }

    /// Whether Salesforce refused a write because the record holds a newer event: the
    /// validation rule's error, on the event time field. Other validation rules fail the write.
    pub fn rejected(&self, error: &ApiError) -> bool {
        error.code == VALIDATION_EXCEPTION
            && error
                .fields
                .iter()
                .any(|field| field.eq_ignore_ascii_case(&self.event_time_field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence() -> Fence {
        Fence {
            event_time_field: "Last_Stripe_Event_At__c".into(),
            event_id_field: "Last_Stripe_Event_ID__c".into(),
        }
    }

    #[test]
    fn a_write_carries_its_event_time_and_id() {
        let mut fields = Map::new();
        fence().stamp(&mut fields, 1_700_000_000, "evt_1");
        assert_eq!(
            fields["Last_Stripe_Event_At__c"],
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(fields["Last_Stripe_Event_ID__c"], "evt_1");
    }

    #[test]
    fn only_the_fence_rule_means_superseded() {
        let error = |code: &str, fields: &[&str]| ApiError {
            code: code.into(),
            message: "A newer Stripe event was already written to this record.".into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        };
        assert!(fence().rejected(&error(VALIDATION_EXCEPTION, &["last_stripe_event_at__c"])));
        assert!(!fence().rejected(&error(VALIDATION_EXCEPTION, &["Amount__c"])));
        assert!(!fence().rejected(&error(VALIDATION_EXCEPTION, &[])));
        assert!(!fence().rejected(&error("STRING_TOO_LONG", &["Last_Stripe_Event_At__c"])));
    }
}
