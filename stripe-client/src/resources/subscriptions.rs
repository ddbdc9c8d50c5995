//! Subscriptions (API reference, "Subscriptions"), read to confirm what a completed
//! Checkout session started.

use serde::{Deserialize, Serialize};

use super::{path_segment, Metadata};
use crate::{
    list::{List, Page},
    StripeClient, StripeError,
};

/// A subscription.
#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// The paying customer.
    pub customer: String,
    /// `active`, `past_due`, `canceled`, `incomplete`, ...
    pub status: String,
    /// Whether it ends at the end of the current period.
    #[serde(default)]
    pub cancel_at_period_end: bool,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub created: i64,
    /// The subscription's metadata (Checkout copies `subscription_data[metadata]` here).
    #[serde(default)]
    pub metadata: Metadata,
}

/// Filters of the subscription list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListSubscriptions {
    /// One customer's subscriptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// `all` includes canceled ones, which the list leaves out by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Cursor.
    #[serde(flatten)]
    pub page: Page,
}

impl StripeClient {
    /// `GET /v1/subscriptions/{id}`.
    pub async fn retrieve_subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        self.get_one(&format!("/v1/subscriptions/{}", path_segment(id)))
            .await
    }

    /// `GET /v1/subscriptions`, one page.
    pub async fn list_subscriptions(
        &self,
        filter: &ListSubscriptions,
    ) -> Result<List<Subscription>, StripeError> {
        self.get("/v1/subscriptions", filter).await
    }
}
