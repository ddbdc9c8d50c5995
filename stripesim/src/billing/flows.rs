//! What happens in Stripe without an API call, driven by `/__sim/` in tests: a customer pays
//! on a Checkout session's page, a subscription renews. Each flow stores the objects Stripe
//! would create and emits their events, as of API version `2025-03-31.basil`: a
//! subscription-mode session creates its subscription only once the first payment succeeded
//! (a declined card leaves the session open and emits `payment_intent.payment_failed`); a
//! renewal bills the next period, and a declined renewal leaves the invoice open and the
//! subscription `past_due`. Events are emitted in the order Stripe usually sends them, but
//! delivery order is not guaranteed (https://docs.stripe.com/webhooks#event-ordering).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::amounts::period_end;
use super::objects::{
    invoice, invoice_view, payment_intent, subscription, subscription_lines, total, InvoiceDraft,
    Line, Outcome,
};
use crate::customers::{new_customer, CustomerParams};
use crate::error::StripeError;
use crate::events::{emit, Cause};
use crate::state::{unix_now, AppState, Store};

/// The body of the `/__sim/` payment calls: `{"fail_payment": true}` declines the card.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentControl {
    /// Decline the payment (`insufficient_funds`).
    #[serde(default)]
    pub fail_payment: bool,
}

impl PaymentControl {
    fn outcome(&self) -> Outcome {
        if self.fail_payment {
            Outcome::Declined
        } else {
            Outcome::Succeeded
        }
    }
}

fn not_open(kind: &str, id: &str, status: &Value) -> StripeError {
    StripeError::invalid(
        None,
        format!("The {kind} {id} cannot be paid: its status is {status}."),
        None,
    )
}

/// The lines of a list of items (session line items or subscription items), with each
/// price as stored (tiers included, for the amounts).
fn current_lines(store: &Store, lines: Vec<Line>) -> Vec<Line> {
    lines
        .into_iter()
        .map(|line| Line {
            price: line.price["id"]
                .as_str()
                .and_then(|id| store.prices.get(id))
                .cloned()
                .unwrap_or(line.price),
            quantity: line.quantity,
        })
        .collect()
}

/// Stores a PaymentIntent after one attempt and emits `payment_intent.created` and
/// `.succeeded` or `.payment_failed`.
fn charge(state: &AppState, store: &mut Store, intent: &Value) {
    let id = intent["id"].as_str().unwrap_or_default().to_string();
    store.payment_intents.insert(id, intent.clone());
    let mut created = intent.clone();
    for (field, value) in [
        ("status", json!("requires_payment_method")),
        ("last_payment_error", Value::Null),
        ("latest_charge", Value::Null),
        ("amount_received", json!(0)),
    ] {
        created[field] = value;
    }
    let cause = Cause::automatic();
    emit(
        state,
        store,
        "payment_intent.created",
        created,
        None,
        &cause,
    );
    let kind = match intent["status"].as_str() {
        Some("succeeded") => "payment_intent.succeeded",
        _ => "payment_intent.payment_failed",
    };
    emit(state, store, kind, intent.clone(), None, &cause);
}

/// Stores an invoice and emits `invoice.created`, `.finalized` and `.paid` with
/// `.payment_succeeded`, or `.payment_failed`.
fn bill(state: &AppState, store: &mut Store, invoice: &Value) {
    let id = invoice["id"].as_str().unwrap_or_default().to_string();
    store.invoices.insert(id, invoice.clone());
    let shown = invoice_view(invoice, false);
    let kinds: &[&str] = if invoice["status"] == "paid" {
        &[
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
        ]
    } else {
        &[
            "invoice.created",
            "invoice.finalized",
            "invoice.payment_failed",
        ]
    };
    for kind in kinds {
        emit(state, store, kind, shown.clone(), None, &Cause::automatic());
    }
}

/// The first recurring line's interval and count (`month`, 1 when none).
fn interval(lines: &[Line]) -> (String, i64) {
    lines
        .iter()
        .find_map(|line| {
            let recurring = &line.price["recurring"];
            Some((
                recurring["interval"].as_str()?.to_string(),
                recurring["interval_count"].as_i64().unwrap_or(1),
            ))
        })
        .unwrap_or_else(|| ("month".into(), 1))
}

/// The customer pays on the session's page. Creates the customer when a subscription needs
/// one, the PaymentIntent, and on success the subscription and its first invoice (mode
/// `subscription`) and completes the session. Returns the session as shown.
pub fn complete_session(
    state: &AppState,
    store: &mut Store,
    id: &str,
    control: &PaymentControl,
) -> Result<Value, StripeError> {
    let mut session = store
        .checkout_sessions
        .get(id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("checkout.session", id, "id"))?;
    if session["status"] != "open" {
        return Err(not_open("checkout session", id, &session["status"]));
    }
    let subscription_mode = session["mode"] == "subscription";
    let items = session["line_items"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lines = current_lines(
        store,
        items
            .iter()
            .map(|item| Line {
                price: item["price"].clone(),
                quantity: item["quantity"].as_i64().unwrap_or(1),
            })
            .collect(),
    );
    let email = session["customer_email"].as_str().map(str::to_string);
    let customer = match session["customer"].as_str() {
        Some(customer) => Some(customer.to_string()),
        None if subscription_mode => {
            let customer = new_customer(CustomerParams::with_email(email.clone()));
            let customer_id = customer["id"].as_str().unwrap_or_default().to_string();
            store
                .customers
                .insert(customer_id.clone(), customer.clone());
            emit(
                state,
                store,
                "customer.created",
                customer,
                None,
                &Cause::automatic(),
            );
            session["customer"] = json!(customer_id);
            Some(customer_id)
        }
        None => None,
    };
    let now = unix_now();
    let currency = session["currency"].as_str().unwrap_or("usd").to_string();
    let description = if subscription_mode {
        "Subscription creation"
    } else {
        "Checkout payment"
    };
    let intent = payment_intent(
        customer.as_deref(),
        total(&lines),
        &currency,
        control.outcome(),
        description,
        now,
    );
    charge(state, store, &intent);
    if control.outcome() == Outcome::Declined {
        return Ok(super::session::view(&session, false));
    }
    if let (true, Some(customer)) = (subscription_mode, customer.as_deref()) {
        let (unit, count) = interval(&lines);
        let period = (now, period_end(now, &unit, count));
        let metadata = session["_subscription_data"]["metadata"].clone();
        let mut created = subscription(
            customer,
            &lines,
            period,
            metadata,
            &intent["payment_method"],
        );
        let invoice = invoice(&InvoiceDraft {
            customer,
            subscription: &created,
            lines: &lines,
            period,
            billing_reason: "subscription_create",
            payment_intent: &intent,
            created: now,
        });
        created["latest_invoice"] = invoice["id"].clone();
        session["subscription"] = created["id"].clone();
        session["invoice"] = invoice["id"].clone();
        let sub_id = created["id"].as_str().unwrap_or_default().to_string();
        store.subscriptions.insert(sub_id, created.clone());
        emit(
            state,
            store,
            "customer.subscription.created",
            created,
            None,
            &Cause::automatic(),
        );
        bill(state, store, &invoice);
    } else {
        session["payment_intent"] = intent["id"].clone();
    }
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["url"] = Value::Null;
    session["customer_details"] = json!({"email": email, "name": null, "phone": null, "address": null, "tax_exempt": "none", "tax_ids": []});
    if let Some(stored) = store.checkout_sessions.get_mut(id) {
        *stored = session.clone();
    }
    let shown = super::session::view(&session, false);
    emit(
        state,
        store,
        "checkout.session.completed",
        shown.clone(),
        None,
        &Cause::automatic(),
    );
    Ok(shown)
}

/// The subscription's period ends: bills the next one and moves the items' period; a declined
/// payment leaves the invoice open and the subscription `past_due`. Returns the subscription.
pub fn renew_subscription(
    state: &AppState,
    store: &mut Store,
    id: &str,
    control: &PaymentControl,
) -> Result<Value, StripeError> {
    let mut renewed = store
        .subscriptions
        .get(id)
        .cloned()
        .ok_or_else(|| StripeError::no_such("subscription", id, "id"))?;
    if !matches!(
        renewed["status"].as_str(),
        Some("active" | "past_due" | "trialing")
    ) {
        return Err(not_open("subscription", id, &renewed["status"]));
    }
    let lines = current_lines(store, subscription_lines(&renewed));
    let (unit, count) = interval(&lines);
    let start = renewed["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap_or_else(unix_now);
    let period = (start, period_end(start, &unit, count));
    let customer = renewed["customer"].as_str().unwrap_or_default().to_string();
    let currency = renewed["currency"].as_str().unwrap_or("usd").to_string();
    let now = unix_now();
    let intent = payment_intent(
        Some(&customer),
        total(&lines),
        &currency,
        control.outcome(),
        "Subscription update",
        now,
    );
    charge(state, store, &intent);
    let invoice = invoice(&InvoiceDraft {
        customer: &customer,
        subscription: &renewed,
        lines: &lines,
        period,
        billing_reason: "subscription_cycle",
        payment_intent: &intent,
        created: now,
    });
    bill(state, store, &invoice);
    let mut previous = Map::new();
    previous.insert("items".into(), renewed["items"].clone());
    previous.insert("latest_invoice".into(), renewed["latest_invoice"].clone());
    for item in renewed["items"]["data"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        item["current_period_start"] = json!(period.0);
        item["current_period_end"] = json!(period.1);
    }
    renewed["latest_invoice"] = invoice["id"].clone();
    let status = if control.fail_payment {
        "past_due"
    } else {
        "active"
    };
    if renewed["status"] != status {
        previous.insert("status".into(), renewed["status"].clone());
        renewed["status"] = json!(status);
    }
    if let Some(stored) = store.subscriptions.get_mut(id) {
        *stored = renewed.clone();
    }
    emit(
        state,
        store,
        "customer.subscription.updated",
        renewed.clone(),
        Some(Value::Object(previous)),
        &Cause::automatic(),
    );
    Ok(renewed)
}

/// Cancels a subscription now (`DELETE /v1/subscriptions/{id}`, and every subscription of a
/// deleted customer): `canceled`, with `canceled_at` and `ended_at`; emits
/// `customer.subscription.deleted`.
pub fn cancel_subscription(
    state: &AppState,
    store: &mut Store,
    id: &str,
    cause: &Cause,
) -> Result<Value, StripeError> {
    let canceled = store
        .subscriptions
        .get_mut(id)
        .ok_or_else(|| StripeError::no_such("subscription", id, "id"))?;
    if canceled["status"] == "canceled" {
        return Err(StripeError::invalid(
            None,
            format!("A canceled subscription can only update its cancellation_details and metadata. ({id})"),
            None,
        ));
    }
    let now = unix_now();
    canceled["status"] = json!("canceled");
    canceled["canceled_at"] = json!(now);
    canceled["ended_at"] = json!(now);
    let canceled = canceled.clone();
    emit(
        state,
        store,
        "customer.subscription.deleted",
        canceled.clone(),
        None,
        cause,
    );
    Ok(canceled)
}
