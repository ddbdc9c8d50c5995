//! Checkout sessions (API reference, "Checkout Sessions"): how a subscription pending in
//! Salesforce gets paid for.

use serde::{Deserialize, Serialize};

use super::{path_segment, Metadata};
use crate::{IdempotencyKey, StripeClient, StripeError};

/// What the session sells: a subscription or a one-time payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutMode {
    /// Recurring prices; completing the session starts a subscription.
    Subscription,
    /// One-time prices; completing the session makes one payment.
    Payment,
}

/// One line of a session: a price and how many.
#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    /// `price_…`.
    pub price: String,
    /// How many.
    pub quantity: u32,
}

/// Metadata Stripe copies onto the subscription a session creates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubscriptionData {
    /// Copied to the subscription's `metadata`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// `POST /v1/checkout/sessions` parameters (the subset the fleet uses).
#[derive(Debug, Clone, Serialize)]
pub struct CreateCheckoutSession {
    /// Subscription or payment.
    pub mode: CheckoutMode,
    /// The customer who pays (`cus_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// What is bought.
    pub line_items: Vec<LineItem>,
    /// Where the customer lands after paying.
    pub success_url: String,
    /// Where the customer lands after giving up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// The caller's reference (the Salesforce record id), echoed in the completed event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_reference_id: Option<String>,
    /// The session's metadata.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// For subscription mode: what the subscription gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_data: Option<SubscriptionData>,
}

/// A Checkout session.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The page the customer pays on; `None` once the session is complete or expired.
    #[serde(default)]
    pub url: Option<String>,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// Subscription or payment.
    pub mode: CheckoutMode,
    /// The customer, once known.
    #[serde(default)]
    pub customer: Option<String>,
    /// The subscription the session created, once complete.
    #[serde(default)]
    pub subscription: Option<String>,
    /// The caller's reference.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// The session's metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// When an open session expires, epoch seconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl StripeClient {
    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(
        &self,
        params: &CreateCheckoutSession,
        key: &IdempotencyKey,
    ) -> Result<CheckoutSession, StripeError> {
        self.post("/v1/checkout/sessions", params, key).await
    }

    /// `GET /v1/checkout/sessions/{id}`.
    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<CheckoutSession, StripeError> {
        self.get_one(&format!("/v1/checkout/sessions/{}", path_segment(id)))
            .await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: the customer can no longer pay on it.
    pub async fn expire_checkout_session(
        &self,
        id: &str,
        key: &IdempotencyKey,
    ) -> Result<CheckoutSession, StripeError> {
        self.post(
            &format!("/v1/checkout/sessions/{}/expire", path_segment(id)),
            &super::NoParams {},
            key,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_items_and_nested_metadata_use_stripes_bracket_notation() {
        let params = CreateCheckoutSession {
            mode: CheckoutMode::Subscription,
            customer: Some("cus_1".into()),
            line_items: vec![LineItem {
                price: "price_1".into(),
                quantity: 2,
            }],
            success_url: "https://example.com/ok".into(),
            cancel_url: None,
            client_reference_id: Some("a0B1".into()),
            metadata: Metadata::new(),
            subscription_data: Some(SubscriptionData {
                metadata: Metadata::from([("salesforce_id".into(), "a0B1".into())]),
            }),
        };
        let encoded = serde_qs::to_string(&params).unwrap();
        let decoded = percent_decode(&encoded);
        assert_eq!(
            decoded,
            "mode=subscription&customer=cus_1&line_items[0][price]=price_1&line_items[0][quantity]=2\
             &success_url=https://example.com/ok&client_reference_id=a0B1\
             &subscription_data[metadata][salesforce_id]=a0B1"
        );
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}
