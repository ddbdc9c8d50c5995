//! What the bridge does with one SQS message: a Stripe event for a priority stream, or a
//! message that is not a Stripe event and goes to the dead-letter stream. The body is parsed
//! once; routing reads the changed attributes from the same pass.

use common::stripe::EventEnvelope;

use super::routing::RoutingRules;
use crate::store::{Priority, StreamEntry};

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// A Stripe event for `priority`.
    Event {
        /// The stream it goes to.
        priority: Priority,
        /// The entry to add.
        entry: StreamEntry,
    },
    /// Not a usable Stripe event; dead-lettered with `reason`, then deleted from SQS.
    NotAnEvent {
        /// Why, for the operator reading the dead-letter stream.
        reason: String,
    },
}

/// Classifies a message body. `received_at` is the ingress's `received_at` attribute.
pub fn classify(body: &str, received_at: Option<i64>, rules: &RoutingRules) -> Intake {
    let envelope = match EventEnvelope::parse(body.as_bytes()) {
        Ok(envelope) => envelope,
        Err(error) => {
            return Intake::NotAnEvent {
                reason: error.to_string(),
            }
        }
    };
    let changed: Vec<&str> = envelope
        .changed_attributes
        .iter()
        .map(String::as_str)
        .collect();
    let priority = rules.route(&envelope.event_type, &changed);
    Intake::Event {
        priority,
        entry: StreamEntry {
            event_id: envelope.id,
            event_type: envelope.event_type,
            object_id: envelope.object_id,
            created: envelope.created,
            attempts: 0,
            received_at: received_at.unwrap_or(0),
            payload: body.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_update_routes_on_changed_status() {
        let rules = RoutingRules::builtin();
        let body = r#"{"id":"evt_1","type":"customer.subscription.updated","created":5,
            "data":{"object":{"id":"sub_1"},"previous_attributes":{"status":"active"}}}"#;
        match classify(body, Some(7), &rules) {
            Intake::Event { priority, entry } => {
                assert_eq!(priority, Priority::High);
                assert_eq!(entry.object_id, "sub_1");
                assert_eq!(entry.received_at, 7);
                assert_eq!(entry.payload, body);
            }
            other => panic!("{other:?}"),
        }
        let body = body.replace("\"status\":\"active\"", "\"metadata\":{}");
        assert!(matches!(
            classify(&body, None, &rules),
            Intake::Event {
                priority: Priority::Low,
                ..
            }
        ));
    }

    #[test]
    fn non_events_are_explained() {
        let rules = RoutingRules::builtin();
        match classify("hello", None, &rules) {
            Intake::NotAnEvent { reason } => assert!(reason.contains("JSON"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match classify(r#"{"id":"evt_1"}"#, None, &rules) {
            Intake::NotAnEvent { reason } => assert!(reason.contains("type"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
