//! Realistic Stripe events for tests and load generation.
//!
//! Shapes follow Stripe's API reference for API version `2026-10-28.endive` (basil-era
//! layout): subscription billing periods live on `items.data[]`, invoices link their
//! subscription through `parent.subscription_details`, failed PaymentIntents carry
//! `last_payment_error`. Amounts are integers in the currency's minor unit as Stripe defines
//! it (JPY has none, KWD has three decimals whose last digit is 0).
//!
//! The factory is split by what it makes: this module has the envelope ([`EventFactory::event`])
//! and ids; `customers` the Customer and Subscription objects, `payments` PaymentIntents,
//! Invoices and Checkout Sessions, `catalog` Products and Prices (with tiers) and their
//! events, `lifecycle` one event of every customer-related type, and `amounts` currencies
//! and plausible amounts.

mod amounts;
mod catalog;
mod customers;
mod lifecycle;
mod payments;

use std::sync::atomic::{AtomicU64, Ordering};

use rand::{distr::Alphanumeric, Rng};
use serde_json::{json, Value};

pub use amounts::{currency_exponent, sample_amount, CURRENCIES};
pub use catalog::{Pricing, Tier};

/// The API version stamped on generated events.
pub const API_VERSION: &str = "2026-10-28.endive";

/// A generated event: its id, type and the exact JSON body to send.
#[derive(Debug, Clone)]
pub struct StripeEvent {
    /// `evt_...`.
    pub id: String,
    /// For example `customer.created`.
    pub event_type: String,
    /// `data.object.id`.
    pub object_id: String,
    /// `created`, Unix seconds.
    pub created: i64,
    /// The whole event.
    pub json: Value,
}

impl StripeEvent {
    /// The body as Stripe would send it (pretty-printed with two spaces, like Stripe).
    pub fn body(&self) -> String {
        serde_json::to_string_pretty(&self.json).unwrap_or_default()
    }
}

/// Makes ids and events. One factory per test keeps ids unique within the test; the random
/// part keeps them unique across tests sharing a queue or a Salesforce simulator.
#[derive(Debug)]
pub struct EventFactory {
    run: String,
    counter: AtomicU64,
    livemode: bool,
}

impl Default for EventFactory {
    fn default() -> Self {
        Self::new()
    }
}

impl EventFactory {
    /// A factory with a random run tag.
    pub fn new() -> Self {
        let run: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(8)
            .map(char::from)
            .collect();
        Self {
            run,
            counter: AtomicU64::new(0),
            livemode: false,
        }
    }

    /// A Stripe-looking id with the given prefix (`cus`, `sub`, `pi`, ...).
    pub fn id(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}_{}{n:010}", self.run)
    }

    /// Wraps `object` in an event envelope of `event_type` created at `created`.
    pub fn event(
        &self,
        event_type: &str,
        object: Value,
        previous_attributes: Option<Value>,
        created: i64,
    ) -> StripeEvent {
        let id = self.id("evt");
        let object_id = object["id"].as_str().unwrap_or_default().to_owned();
        let mut data = json!({ "object": object });
        if let Some(previous) = previous_attributes {
            data["previous_attributes"] = previous;
        }
        let automatic = event_type.starts_with("invoice.") || event_type.starts_with("checkout.");
        let request = if automatic {
            json!({ "id": null, "idempotency_key": null })
        } else {
            json!({ "id": self.id("req"), "idempotency_key": uuid_like(&id) })
        };
        let json = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": data,
            "livemode": self.livemode,
            "pending_webhooks": 1,
            "request": request,
            "type": event_type,
        });
        StripeEvent {
            id,
            event_type: event_type.to_owned(),
            object_id,
            created,
            json,
        }
    }
}

/// An idempotency key shaped like a UUID, derived from the event id (one event, one key).
fn uuid_like(seed: &str) -> String {
    let digest = common::stripe::signature::compute_signature(b"idempotency", 0, seed.as_bytes());
    format!(
        "{}-{}-{}-{}-{}",
        &digest[0..8],
        &digest[8..12],
        &digest[12..16],
        &digest[16..20],
        &digest[20..32]
    )
}
