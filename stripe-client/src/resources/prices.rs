//! Prices (API reference, "Prices"): what a pricing plan in Salesforce points at.

use serde::Deserialize;

use super::{path_segment, Metadata};
use crate::{StripeClient, StripeError};

/// How often a recurring price bills.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Recurring {
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// Intervals between bills.
    #[serde(default = "one")]
    pub interval_count: u32,
}

fn one() -> u32 {
    1
}

/// A price.
#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    /// `price_…`.
    pub id: String,
    /// The product's id.
    pub product: String,
    /// Lower-case ISO currency code.
    pub currency: String,
    /// Amount in the currency's minor unit, for `per_unit` prices.
    #[serde(default)]
    pub unit_amount: Option<i64>,
    /// Whether new purchases may use it.
    #[serde(default)]
    pub active: bool,
    /// Set for recurring prices, which subscription-mode Checkout requires.
    #[serde(default)]
    pub recurring: Option<Recurring>,
    /// The price's metadata.
    #[serde(default)]
    pub metadata: Metadata,
}

impl StripeClient {
    /// `GET /v1/prices/{id}`.
    pub async fn retrieve_price(&self, id: &str) -> Result<Price, StripeError> {
        self.get_one(&format!("/v1/prices/{}", path_segment(id)))
            .await
    }
}
