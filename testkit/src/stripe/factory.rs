//! Realistic Stripe events for tests and load generation.
//!
//! Shapes follow Stripe's API reference for API version `2026-10-28.endive` (basil-era
//! layout): subscription billing periods live on `items.data[]`, invoices link their
//! subscription through `parent.subscription_details`, failed PaymentIntents carry
//! `last_payment_error`. Amounts are integers in the currency's minor unit as Stripe defines
//! it (JPY has none, KWD has three decimals whose last digit is 0).

use std::sync::atomic::{AtomicU64, Ordering};

use rand::{distr::Alphanumeric, Rng};
use serde_json::{json, Value};

/// The API version stamped on generated events.
pub const API_VERSION: &str = "2026-10-28.endive";

/// Currencies the factory draws from: two-decimal, zero-decimal and three-decimal ones.
pub const CURRENCIES: &[&str] = &["usd", "eur", "gbp", "jpy", "krw", "kwd", "bhd"];

/// Number of decimals of a currency's minor unit, as Stripe defines it (the mapping's table).
pub use common::currency::currency_exponent;

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

    /// A Customer object with a name, e-mail and phone (personal data the fleet must not log).
    pub fn customer(&self, created: i64) -> Value {
        let id = self.id("cus");
        let n = &id[id.len() - 4..];
        json!({
            "id": id,
            "object": "customer",
            "address": { "city": "Zürich", "country": "CH", "line1": "Bahnhofstrasse 1", "line2": null, "postal_code": "8001", "state": null },
            "balance": 0,
            "created": created,
            "currency": "usd",
            "default_source": null,
            "delinquent": false,
            "description": "Customer, \"VIP\"\nsecond line",
            "email": format!("jenny.rosen{n}@example.com"),
            "invoice_prefix": "7D8C6B1A",
            "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
            "livemode": self.livemode,
            "metadata": { "crm_segment": "enterprise" },
            "name": format!("Jenny Rosén {n}"),
            "phone": "+41 44 668 18 00",
            "preferred_locales": ["de-CH"],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null
        })
    }

    /// A Subscription of `customer_id` in `status` with one item of `amount` minor units.
    pub fn subscription(
        &self,
        customer_id: &str,
        status: &str,
        amount: i64,
        currency: &str,
        created: i64,
    ) -> Value {
        let id = self.id("sub");
        let period_end = created + 30 * 86_400;
        json!({
            "id": id,
            "object": "subscription",
            "billing_cycle_anchor": created,
            "billing_mode": { "type": "flexible" },
            "cancel_at": null,
            "cancel_at_period_end": false,
            "canceled_at": if status == "canceled" { json!(created) } else { Value::Null },
            "collection_method": "charge_automatically",
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "default_payment_method": self.id("pm"),
            "ended_at": if status == "canceled" { json!(created) } else { Value::Null },
            "items": {
                "object": "list",
                "data": [{
                    "id": self.id("si"),
                    "object": "subscription_item",
                    "created": created,
                    "current_period_start": created,
                    "current_period_end": period_end,
                    "metadata": {},
                    "price": {
                        "id": self.id("price"),
                        "object": "price",
                        "active": true,
                        "currency": currency,
                        "product": self.id("prod"),
                        "recurring": { "interval": "month", "interval_count": 1, "usage_type": "licensed" },
                        "type": "recurring",
                        "unit_amount": amount,
                        "unit_amount_decimal": amount.to_string()
                    },
                    "quantity": 1,
                    "subscription": id
                }],
                "has_more": false,
                "total_count": 1,
                "url": format!("/v1/subscription_items?subscription={id}")
            },
            "latest_invoice": self.id("in"),
            "livemode": self.livemode,
            "metadata": {},
            "start_date": created,
            "status": status,
            "trial_end": null,
            "trial_start": null
        })
    }

    /// A PaymentIntent; `failure` makes it a failed one with Stripe's `last_payment_error`.
    pub fn payment_intent(
        &self,
        customer_id: &str,
        amount: i64,
        currency: &str,
        created: i64,
        failure: Option<&str>,
    ) -> Value {
        let id = self.id("pi");
        let (status, last_payment_error, latest_charge) = match failure {
            None => ("succeeded", Value::Null, json!(self.id("ch"))),
            Some(decline_code) => (
                "requires_payment_method",
                json!({
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "message": "Your card was declined.",
                    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                    "charge": self.id("ch"),
                    "payment_method": { "id": self.id("pm"), "object": "payment_method", "type": "card",
                        "card": { "brand": "visa", "last4": "0002", "exp_month": 12, "exp_year": 2030 } }
                }),
                Value::Null,
            ),
        };
        json!({
            "id": id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": if failure.is_none() { amount } else { 0 },
            "capture_method": "automatic_async",
            "client_secret": format!("{id}_secret_{}", self.id("x")),
            "confirmation_method": "automatic",
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "description": "Subscription payment",
            "last_payment_error": last_payment_error,
            "latest_charge": latest_charge,
            "livemode": self.livemode,
            "metadata": {},
            "payment_method": if failure.is_none() { json!(self.id("pm")) } else { Value::Null },
            "payment_method_types": ["card"],
            "receipt_email": null,
            "status": status
        })
    }

    /// An Invoice for a subscription, paid or failed.
    pub fn invoice(
        &self,
        customer_id: &str,
        subscription_id: &str,
        amount: i64,
        currency: &str,
        created: i64,
        paid: bool,
    ) -> Value {
        let id = self.id("in");
        json!({
            "id": id,
            "object": "invoice",
            "amount_due": amount,
            "amount_paid": if paid { amount } else { 0 },
            "amount_remaining": if paid { 0 } else { amount },
            "attempt_count": 1,
            "attempted": true,
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "customer_email": null,
            "hosted_invoice_url": format!("https://invoice.stripe.com/i/{id}"),
            "livemode": self.livemode,
            "next_payment_attempt": if paid { Value::Null } else { json!(created + 3 * 86_400) },
            "number": format!("7D8C6B1A-{:04}", created % 10_000),
            "parent": {
                "type": "subscription_details",
                "quote_details": null,
                "subscription_details": { "metadata": {}, "subscription": subscription_id }
            },
            "period_end": created,
            "period_start": created - 30 * 86_400,
            "status": if paid { "paid" } else { "open" },
            "subtotal": amount,
            "total": amount
        })
    }

    /// A completed Checkout Session in subscription mode.
    pub fn checkout_session(
        &self,
        customer_id: &str,
        subscription_id: &str,
        amount: i64,
        currency: &str,
        created: i64,
        client_reference_id: Option<&str>,
    ) -> Value {
        let id = self.id("cs_test");
        json!({
            "id": id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "client_reference_id": client_reference_id,
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "customer_details": { "email": "jenny.rosen@example.com", "name": "Jenny Rosén", "phone": null },
            "expires_at": created + 86_400,
            "invoice": self.id("in"),
            "livemode": self.livemode,
            "metadata": {},
            "mode": "subscription",
            "payment_intent": null,
            "payment_status": "paid",
            "status": "complete",
            "subscription": subscription_id,
            "ui_mode": "hosted_page",
            "url": null
        })
    }

    /// One event of each type the fleet handles, about one customer, in `currency`, all
    /// created at `created`. The order is the natural one; tests shuffle it when they want.
    pub fn lifecycle(&self, currency: &str, created: i64) -> Vec<StripeEvent> {
        let amount = sample_amount(currency, 1);
        let customer = self.customer(created);
        let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
        let mut updated_customer = customer.clone();
        updated_customer["email"] = json!("jenny.new@example.com");
        let subscription = self.subscription(&customer_id, "active", amount, currency, created);
        let subscription_id = subscription["id"].as_str().unwrap_or_default().to_owned();
        let mut past_due = subscription.clone();
        past_due["status"] = json!("past_due");
        let mut canceled = subscription.clone();
        canceled["status"] = json!("canceled");
        vec![
            self.event("customer.created", customer.clone(), None, created),
            self.event(
                "customer.updated",
                updated_customer,
                Some(json!({ "email": customer["email"] })),
                created,
            ),
            self.event(
                "customer.subscription.created",
                subscription.clone(),
                None,
                created,
            ),
            self.event(
                "checkout.session.completed",
                self.checkout_session(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    None,
                ),
                None,
                created,
            ),
            self.event(
                "customer.subscription.updated",
                past_due,
                Some(json!({ "status": "active" })),
                created,
            ),
            self.event(
                "payment_intent.succeeded",
                self.payment_intent(&customer_id, amount, currency, created, None),
                None,
                created,
            ),
            self.event(
                "payment_intent.payment_failed",
                self.payment_intent(
                    &customer_id,
                    amount,
                    currency,
                    created,
                    Some("insufficient_funds"),
                ),
                None,
                created,
            ),
            self.event(
                "invoice.payment_succeeded",
                self.invoice(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    true,
                ),
                None,
                created,
            ),
            self.event(
                "invoice.payment_failed",
                self.invoice(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    false,
                ),
                None,
                created,
            ),
            self.event("customer.subscription.deleted", canceled, None, created),
            self.event("customer.deleted", customer, None, created),
        ]
    }
}

/// A plausible amount in the currency's minor unit: about 49 major units times `scale`,
/// with three-decimal currencies ending in 0 as Stripe requires.
pub fn sample_amount(currency: &str, scale: i64) -> i64 {
    match currency_exponent(currency) {
        0 => 4_900 * scale,
        3 => 15_250 * scale,
        _ => 4_999 * scale,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_covers_every_handled_type_with_unique_ids() {
        let factory = EventFactory::new();
        let events = factory.lifecycle("jpy", 1_786_000_000);
        let types: std::collections::HashSet<_> =
            events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types.len(), 11);
        let ids: std::collections::HashSet<_> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), events.len());
        for event in &events {
            let envelope = common::stripe::EventEnvelope::parse(event.body().as_bytes()).unwrap();
            assert_eq!(envelope.id, event.id);
            assert_eq!(envelope.object_id, event.object_id);
        }
    }

    #[test]
    fn amounts_respect_currency_exponents() {
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent("kwd"), 3);
        assert_eq!(sample_amount("kwd", 3) % 10, 0);
        assert_eq!(currency_exponent("usd"), 2);
    }
}
