//! The parts of a Stripe event envelope that the fleet relies on.
//!
//! A snapshot event looks like
//! `{"id":"evt_...","object":"event","type":"...","created":1786370648,"data":{"object":{"id":"cus_..."}}}`.
//! The fleet needs the event id (idempotency key), the type (routing and mapping), `created`
//! (newest-wins ordering) and the Stripe object id (ordering per object, FIFO group). The
//! payload itself travels unchanged as the raw bytes Stripe signed.
//!
//! Thin events (`"object":"v2.core.event"`, from v2 event destinations) carry no snapshot and
//! are refused with their own error, as Stripe's libraries do.

use serde::Deserialize;

/// Why a body is not a usable Stripe snapshot event. Answered with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is not JSON (or not a JSON object).
    #[error("the body is not a JSON object: {0}")]
    InvalidJson(String),
    /// A thin event from a v2 event destination; the fleet needs snapshot events.
    #[error("thin events (object \"v2.core.event\") are not supported; configure the endpoint to send snapshot events")]
    ThinEvent,
    /// A field the fleet relies on is missing or has the wrong type.
    #[error("the event envelope has no valid `{0}`")]
    MissingField(&'static str),
}

impl EnvelopeError {
    /// Stable machine-readable code used in the HTTP error body and in metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::InvalidJson(_) => "invalid_json",
            EnvelopeError::ThinEvent => "thin_event_payload",
            EnvelopeError::MissingField(_) => "invalid_envelope",
        }
    }
}

/// The identifying fields of one Stripe event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// `evt_...`: unique per event, the idempotency key everywhere downstream.
    pub id: String,
    /// For example `customer.subscription.updated`.
    pub event_type: String,
    /// Unix seconds at which Stripe created the event.
    pub created: i64,
    /// `data.object.id`: the Stripe object the event is about (`cus_...`, `sub_...`).
    pub object_id: String,
    /// `livemode`: false for test-mode events.
    pub livemode: bool,
    /// The keys of `data.previous_attributes` (update events): which fields changed.
    pub changed_attributes: Vec<String>,
}

/// Wire shape, borrowed from the body. Unknown fields are skipped without being built.
#[derive(Deserialize)]
struct WireEvent<'a> {
    #[serde(borrow, default)]
    object: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WireSnapshot<'a> {
    #[serde(borrow, default)]
    object: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    event_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    created: Option<serde_json::Value>,
    #[serde(borrow, default)]
    data: Option<WireData<'a>>,
    #[serde(default)]
    livemode: Option<bool>,
}

#[derive(Deserialize)]
struct WireData<'a> {
    #[serde(borrow, default)]
    object: Option<WireObject<'a>>,
    #[serde(default)]
    previous_attributes: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireObject<'a> {
    #[serde(borrow, default)]
    id: Option<std::borrow::Cow<'a, str>>,
}

/// Checks that `body` is a JSON object and not a thin event: what Stripe's
/// `construct_event` checks after the signature.
pub fn check_snapshot_event(body: &[u8]) -> Result<(), EnvelopeError> {
    let wire: WireEvent<'_> =
        serde_json::from_slice(body).map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
    if wire.object.as_deref() == Some("v2.core.event") {
        return Err(EnvelopeError::ThinEvent);
    }
    Ok(())
}

impl EventEnvelope {
    /// Reads the envelope of a snapshot event from the raw body, in one pass.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let wire: WireSnapshot<'_> =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
        if wire.object.as_deref() == Some("v2.core.event") {
            return Err(EnvelopeError::ThinEvent);
        }
        let id = non_empty(wire.id).ok_or(EnvelopeError::MissingField("id"))?;
        let event_type = non_empty(wire.event_type).ok_or(EnvelopeError::MissingField("type"))?;
        let created = wire
            .created
            .and_then(|c| c.as_i64())
            .ok_or(EnvelopeError::MissingField("created"))?;
        let data = wire.data.ok_or(EnvelopeError::MissingField("data"))?;
        let object_id = data
            .object
            .ok_or(EnvelopeError::MissingField("data.object"))
            .and_then(|o| non_empty(o.id).ok_or(EnvelopeError::MissingField("data.object.id")))?;
        let changed_attributes = match data.previous_attributes {
            Some(serde_json::Value::Object(attributes)) => {
                attributes.into_iter().map(|(k, _)| k).collect()
            }
            _ => Vec::new(),
        };
        Ok(Self {
            id,
            event_type,
            created,
            object_id,
            livemode: wire.livemode.unwrap_or(false),
            changed_attributes,
        })
    }
}

fn non_empty(value: Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(|v| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_snapshot_event() {
        let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":1786370648,
            "livemode":true,"data":{"object":{"id":"cus_9","object":"customer","name":"A \"quoted\" name"}}}"#;
        let envelope = EventEnvelope::parse(body).unwrap();
        assert_eq!(envelope.id, "evt_1");
        assert_eq!(envelope.event_type, "customer.created");
        assert_eq!(envelope.created, 1786370648);
        assert_eq!(envelope.object_id, "cus_9");
        assert!(envelope.livemode);
        assert!(envelope.changed_attributes.is_empty());
    }

    #[test]
    fn names_the_changed_attributes_of_an_update() {
        let body = br#"{"id":"evt_1","type":"customer.subscription.updated","created":5,
            "data":{"object":{"id":"sub_1"},"previous_attributes":{"status":"active","items":{"data":[]}}}}"#;
        let envelope = EventEnvelope::parse(body).unwrap();
        assert_eq!(envelope.changed_attributes, vec!["items", "status"]);
        let odd = br#"{"id":"evt_1","type":"x.updated","created":5,
            "data":{"object":{"id":"x_1"},"previous_attributes":[1]}}"#;
        assert!(EventEnvelope::parse(odd)
            .unwrap()
            .changed_attributes
            .is_empty());
    }

    #[test]
    fn names_the_missing_field() {
        let body = br#"{"id":"evt_1","type":"customer.created","created":1,"data":{}}"#;
        assert_eq!(
            EventEnvelope::parse(body),
            Err(EnvelopeError::MissingField("data.object"))
        );
        let body = br#"{"id":"evt_1","type":"customer.created","created":"yesterday","data":{"object":{"id":"x"}}}"#;
        assert_eq!(
            EventEnvelope::parse(body),
            Err(EnvelopeError::MissingField("created"))
        );
    }

    #[test]
    fn refuses_thin_events_and_non_objects() {
        let thin =
            br#"{"id":"evt_2","object":"v2.core.event","created":"2022-02-15T00:27:45.330Z"}"#;
        assert_eq!(EventEnvelope::parse(thin), Err(EnvelopeError::ThinEvent));
        assert!(matches!(
            EventEnvelope::parse(b"[1,2]"),
            Err(EnvelopeError::InvalidJson(_))
        ));
        assert!(matches!(
            EventEnvelope::parse(b""),
            Err(EnvelopeError::InvalidJson(_))
        ));
    }
}
