//! The objects that carry money: PaymentIntents (succeeded or failed with Stripe's
//! `last_payment_error`), subscription Invoices and completed Checkout Sessions.

use serde_json::{json, Value};

use super::EventFactory;

impl EventFactory {
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
}
