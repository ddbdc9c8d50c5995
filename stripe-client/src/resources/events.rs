//! Events (API reference, "Events"): what happened in the account, kept 30 days; the
//! source of catch-up when webhooks were missed.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::path_segment;
use crate::{
    list::{CreatedRange, List, Page},
    StripeClient, StripeError,
};

/// An event: its id, type and time read out, and the whole object as Stripe sent it, to
/// be handled exactly like a webhook's body.
#[derive(Debug, Clone)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// `customer.created`, ...
    pub event_type: String,
    /// Creation time, epoch seconds.
    pub created: i64,
    /// The event as Stripe sent it.
    pub json: Value,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let json = Value::deserialize(deserializer)?;
        let text = |field: &str| {
            json.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| D::Error::custom(format!("event without `{field}`")))
        };
        Ok(Event {
            id: text("id")?,
            event_type: text("type")?,
            created: json
                .get("created")
                .and_then(Value::as_i64)
                .ok_or_else(|| D::Error::custom("event without `created`"))?,
            json,
        })
    }
}

/// Filters of the event list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListEvents {
    /// One type, `*` allowed as a wildcard (`customer.*`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Several types (not with `event_type`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Created within this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<CreatedRange>,
    /// Only events whose webhooks all succeeded (`true`) or not (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_success: Option<bool>,
    /// Cursor.
    #[serde(flatten)]
    pub page: Page,
}

impl StripeClient {
    /// `GET /v1/events`, one page, newest first.
    pub async fn list_events(&self, filter: &ListEvents) -> Result<List<Event>, StripeError> {
        self.get("/v1/events", filter).await
    }

    /// `GET /v1/events/{id}`.
    pub async fn retrieve_event(&self, id: &str) -> Result<Event, StripeError> {
        self.get_one(&format!("/v1/events/{}", path_segment(id)))
            .await
    }
}
