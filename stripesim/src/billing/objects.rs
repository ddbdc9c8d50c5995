//! The billing objects a payment creates, in Stripe's shapes (API version
//! `2025-03-31.basil`): PaymentIntents (https://docs.stripe.com/api/payment_intents/object),
//! Invoices (https://docs.stripe.com/api/invoices/object; the subscription under
//! `parent.subscription_details`, the PaymentIntent only under `payments`, which is shown
//! when expanded) and Subscriptions (https://docs.stripe.com/api/subscriptions/object; the
//! billing period on each item). Pure builders: the flows in [`super::flows`] store them and
//! emit their events.

use serde_json::{json, Value};

use super::amounts::line_amount;
use crate::state::new_id;

/// One line bought: the price (as stored) and how many.
#[derive(Debug, Clone)]
pub struct Line {
    /// The price object.
    pub price: Value,
    /// How many units.
    pub quantity: i64,
}

impl Line {
    /// What the line costs, in minor units.
    pub fn amount(&self) -> i64 {
        line_amount(&self.price, self.quantity)
    }

    /// The price as sessions and subscriptions show it: without `tiers`, which only an
    /// expanded price shows.
    pub fn shown_price(&self) -> Value {
        crate::prices::view(&self.price, false)
    }
}

/// The sum of the lines.
pub fn total(lines: &[Line]) -> i64 {
    lines.iter().map(Line::amount).sum()
}

/// How a payment attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The card was charged.
    Succeeded,
    /// The card was declined (`card_declined`, `insufficient_funds`).
    Declined,
}

/// A PaymentIntent after one attempt: `succeeded`, or `requires_payment_method` with
/// Stripe's `last_payment_error` for a declined card.
pub fn payment_intent(
    customer: Option<&str>,
    amount: i64,
    currency: &str,
    outcome: Outcome,
    description: &str,
    created: i64,
) -> Value {
    let id = new_id("pi");
    let method = new_id("pm");
    let (status, error, charge, method_on_intent) = match outcome {
        Outcome::Succeeded => ("succeeded", Value::Null, json!(new_id("ch")), json!(method)),
        Outcome::Declined => (
            "requires_payment_method",
            json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "doc_url": "https://docs.stripe.com/error-codes/card-declined",
                "charge": new_id("ch"),
                "payment_method": {"id": method, "object": "payment_method", "type": "card",
                    "card": {"brand": "visa", "last4": "9995", "exp_month": 12, "exp_year": 2034}},
            }),
            Value::Null,
            Value::Null,
        ),
    };
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": if outcome == Outcome::Succeeded { amount } else { 0 },
        "capture_method": "automatic_async",
        "client_secret": format!("{id}_secret_{}", new_id("s").trim_start_matches("s_")),
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": description,
        "last_payment_error": error,
        "latest_charge": charge,
        "livemode": false,
        "metadata": {},
        "payment_method": method_on_intent,
        "payment_method_types": ["card"],
        "receipt_email": null,
        "status": status,
    })
}

/// What an invoice is for.
#[derive(Debug, Clone)]
pub struct InvoiceDraft<'a> {
    /// The customer billed.
    pub customer: &'a str,
    /// The subscription and its metadata (copied to `subscription_details`).
    pub subscription: &'a Value,
    /// The lines billed.
    pub lines: &'a [Line],
    /// The billing period.
    pub period: (i64, i64),
    /// `subscription_create` or `subscription_cycle`.
    pub billing_reason: &'a str,
    /// The PaymentIntent that paid (or tried to pay) it.
    pub payment_intent: &'a Value,
    /// When it was made.
    pub created: i64,
}

/// A finalized invoice, paid when its PaymentIntent succeeded, else open with a retry due.
pub fn invoice(draft: &InvoiceDraft<'_>) -> Value {
    let id = new_id("in");
    let amount = total(draft.lines);
    let currency = draft.payment_intent["currency"].clone();
    let paid = draft.payment_intent["status"] == "succeeded";
    let (start, end) = draft.period;
    let lines: Vec<Value> = draft
        .lines
        .iter()
        .map(|line| {
            json!({
                "id": new_id("il"),
                "object": "line_item",
                "amount": line.amount(),
                "currency": currency,
                "description": format!("{} × {}", line.quantity, line.price["nickname"].as_str().unwrap_or("subscription")),
                "invoice": id,
                "livemode": false,
                "metadata": {},
                "period": {"start": start, "end": end},
                "pricing": {"type": "price_details", "unit_amount_decimal": line.price["unit_amount_decimal"],
                    "price_details": {"price": line.price["id"], "product": line.price["product"]}},
                "quantity": line.quantity,
            })
        })
        .collect();
    json!({
        "id": id,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": if paid { amount } else { 0 },
        "amount_remaining": if paid { 0 } else { amount },
        "attempt_count": 1,
        "attempted": true,
        "billing_reason": draft.billing_reason,
        "collection_method": "charge_automatically",
        "created": draft.created,
        "currency": currency,
        "customer": draft.customer,
        "customer_email": null,
        "hosted_invoice_url": format!("https://invoice.stripe.com/i/{id}"),
        "lines": {"object": "list", "data": lines, "has_more": false, "url": format!("/v1/invoices/{id}/lines")},
        "livemode": false,
        "metadata": {},
        "next_payment_attempt": if paid { Value::Null } else { json!(draft.created + 3 * 86_400) },
        "parent": {
            "type": "subscription_details",
            "quote_details": null,
            "subscription_details": {
                "metadata": draft.subscription["metadata"],
                "subscription": draft.subscription["id"],
            },
        },
        "payments": {"object": "list", "has_more": false, "url": "/v1/invoice_payments", "data": [{
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": if paid { json!(amount) } else { Value::Null },
            "amount_requested": amount,
            "currency": currency,
            "invoice": id,
            "is_default": true,
            "livemode": false,
            "payment": {"type": "payment_intent", "payment_intent": draft.payment_intent["id"]},
            "status": if paid { "paid" } else { "open" },
        }]},
        "period_end": end,
        "period_start": start,
        "status": if paid { "paid" } else { "open" },
        "status_transitions": {
            "finalized_at": draft.created,
            "paid_at": if paid { json!(draft.created) } else { Value::Null },
            "marked_uncollectible_at": null,
            "voided_at": null,
        },
        "subtotal": amount,
        "total": amount,
    })
}

/// The invoice as shown: `payments` only when expanded (`expand[]=payments`).
pub fn invoice_view(invoice: &Value, expand_payments: bool) -> Value {
    let mut shown = invoice.clone();
    if let (false, Some(fields)) = (expand_payments, shown.as_object_mut()) {
        fields.remove("payments");
    }
    shown
}

/// The items of a subscription for `lines`, in the period `(start, end)`.
pub fn subscription_items(subscription: &str, lines: &[Line], period: (i64, i64)) -> Value {
    let data: Vec<Value> = lines
        .iter()
        .map(|line| {
            let price = line.shown_price();
            json!({
                "id": new_id("si"),
                "object": "subscription_item",
                "created": period.0,
                "current_period_start": period.0,
                "current_period_end": period.1,
                "metadata": {},
                "price": price,
                "quantity": line.quantity,
                "subscription": subscription,
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "total_count": lines.len(),
        "url": format!("/v1/subscription_items?subscription={subscription}"),
    })
}

/// A new active subscription whose first period `(start, end)` has just been paid.
pub fn subscription(
    customer: &str,
    lines: &[Line],
    period: (i64, i64),
    metadata: Value,
    default_payment_method: &Value,
) -> Value {
    let id = new_id("sub");
    let currency = lines
        .first()
        .map_or(Value::Null, |line| line.price["currency"].clone());
    json!({
        "id": id,
        "object": "subscription",
        "billing_cycle_anchor": period.0,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "collection_method": "charge_automatically",
        "created": period.0,
        "currency": currency,
        "customer": customer,
        "default_payment_method": default_payment_method,
        "ended_at": null,
        "items": subscription_items(&id, lines, period),
        "latest_invoice": null,
        "livemode": false,
        "metadata": metadata,
        "start_date": period.0,
        "status": "active",
        "trial_end": null,
        "trial_start": null,
    })
}

/// The lines a subscription bills each period: its items' prices and quantities.
pub fn subscription_lines(subscription: &Value) -> Vec<Line> {
    subscription["items"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| Line {
            price: item["price"].clone(),
            quantity: item["quantity"].as_i64().unwrap_or(1),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monthly(amount: i64) -> Line {
        Line {
            price: json!({"id": "price_1", "product": "prod_1", "currency": "eur", "billing_scheme": "per_unit",
                "unit_amount": amount, "unit_amount_decimal": amount.to_string(), "tiers": null,
                "recurring": {"interval": "month", "interval_count": 1}}),
            quantity: 2,
        }
    }

    #[test]
    fn a_paid_invoice_names_its_subscription_and_payment_as_basil_does() {
        let lines = [monthly(1500)];
        let subscription = subscription(
            "cus_1",
            &lines,
            (100, 200),
            json!({"sf": "a0X"}),
            &json!("pm_1"),
        );
        let intent = payment_intent(Some("cus_1"), 3000, "eur", Outcome::Succeeded, "x", 100);
        let invoice = invoice(&InvoiceDraft {
            customer: "cus_1",
            subscription: &subscription,
            lines: &lines,
            period: (100, 200),
            billing_reason: "subscription_create",
            payment_intent: &intent,
            created: 100,
        });
        assert_eq!(invoice["amount_paid"], 3000);
        assert_eq!(invoice["status"], "paid");
        assert_eq!(
            invoice["parent"]["subscription_details"]["subscription"],
            subscription["id"]
        );
        assert_eq!(
            invoice["parent"]["subscription_details"]["metadata"]["sf"],
            "a0X"
        );
        assert_eq!(
            invoice["payments"]["data"][0]["payment"]["payment_intent"],
            intent["id"]
        );
        assert!(invoice_view(&invoice, false).get("payments").is_none());
        assert_eq!(subscription["items"]["data"][0]["current_period_end"], 200);
        assert_eq!(subscription["currency"], "eur");
        assert_eq!(subscription_lines(&subscription)[0].amount(), 3000);
    }

    #[test]
    fn a_declined_payment_leaves_the_invoice_open() {
        let lines = [monthly(1500)];
        let subscription = subscription("cus_1", &lines, (100, 200), json!({}), &Value::Null);
        let intent = payment_intent(Some("cus_1"), 3000, "eur", Outcome::Declined, "x", 100);
        assert_eq!(intent["status"], "requires_payment_method");
        assert_eq!(
            intent["last_payment_error"]["payment_method"]["type"],
            "card"
        );
        let invoice = invoice(&InvoiceDraft {
            customer: "cus_1",
            subscription: &subscription,
            lines: &lines,
            period: (100, 200),
            billing_reason: "subscription_cycle",
            payment_intent: &intent,
            created: 100,
        });
        assert_eq!(invoice["status"], "open");
        assert_eq!(invoice["amount_paid"], 0);
        assert_eq!(invoice["amount_due"], 3000);
        assert_eq!(invoice["status_transitions"]["paid_at"], Value::Null);
    }
}
