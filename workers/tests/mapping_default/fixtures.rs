//! Events in Stripe's real shapes and helpers to read the writes mapped from them.

use serde_json::{json, Value};
use workers::mapping::{Mapping, PendingLookup, RecordTarget, RecordWrite, WriteRole};

pub const CREATED: i64 = 1_786_370_648;
pub const CREATED_TEXT: &str = "2026-08-10T14:04:08.000Z";
pub const PERIOD_END: i64 = CREATED + 30 * 86_400;
pub const PERIOD_END_TEXT: &str = "2026-09-09T14:04:08.000Z";

pub fn event(event_type: &str, object: Value) -> Value {
    json!({
        "id": "evt_1", "object": "event", "api_version": "2026-10-28.endive",
        "created": CREATED, "data": { "object": object }, "livemode": false,
        "pending_webhooks": 1, "request": { "id": null, "idempotency_key": null },
        "type": event_type
    })
}

pub fn customer() -> Value {
    json!({
        "id": "cus_1", "object": "customer", "balance": 0, "created": CREATED,
        "currency": "usd", "default_source": null, "email": "jenny@example.com",
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null },
        "metadata": {}, "name": "Jenny Rosén", "phone": "+41 44 668 18 00"
    })
}

pub fn subscription(status: &str, amount: i64, currency: &str) -> Value {
    json!({
        "id": "sub_1", "object": "subscription", "created": CREATED, "currency": currency,
        "customer": "cus_1", "status": status,
        "items": { "object": "list", "has_more": false, "total_count": 1, "data": [{
            "id": "si_1", "object": "subscription_item", "created": CREATED,
            "current_period_start": CREATED, "current_period_end": PERIOD_END, "quantity": 1,
            "price": { "id": "price_1", "object": "price", "currency": currency,
                "product": "prod_1", "nickname": null, "type": "recurring",
                "unit_amount": amount, "unit_amount_decimal": amount.to_string() },
            "subscription": "sub_1"
        }]}
    })
}

pub fn payment_intent(amount: i64, currency: &str, failed: bool) -> Value {
    let error = if failed {
        json!({ "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                "message": "Your card was declined.",
                "payment_method": { "id": "pm_2", "object": "payment_method", "type": "card" } })
    } else {
        Value::Null
    };
    json!({
        "id": "pi_1", "object": "payment_intent", "amount": amount, "created": CREATED,
        "currency": currency, "customer": "cus_1", "last_payment_error": error,
        "payment_method": if failed { Value::Null } else { json!("pm_1") },
        "payment_method_types": ["card"],
        "status": if failed { "requires_payment_method" } else { "succeeded" }
    })
}

pub fn invoice(amount: i64, currency: &str, paid: bool) -> Value {
    json!({
        "id": "in_1", "object": "invoice", "amount_due": amount,
        "amount_paid": if paid { amount } else { 0 }, "created": CREATED - 3_600,
        "currency": currency, "customer": "cus_1",
        "parent": { "type": "subscription_details", "quote_details": null,
                    "subscription_details": { "metadata": {}, "subscription": "sub_1" } },
        "status": if paid { "paid" } else { "open" },
        "status_transitions": { "paid_at": if paid { json!(CREATED) } else { Value::Null } }
    })
}

pub fn checkout_session(client_reference_id: Value) -> Value {
    json!({
        "id": "cs_test_1", "object": "checkout.session", "amount_total": 4999,
        "client_reference_id": client_reference_id, "created": CREATED, "currency": "usd",
        "customer": "cus_1", "mode": "subscription", "payment_intent": null,
        "payment_status": "paid", "status": "complete", "subscription": "sub_1"
    })
}

/// A recurring Price as Stripe sends it in webhooks: `tiers` is includable, so it is there
/// only when the payload was fetched with it expanded (`tiers` given here).
pub fn price(unit_amount: Option<i64>, tiers: Option<Value>) -> Value {
    let mut price = json!({
        "id": "price_1", "object": "price", "active": true,
        "billing_scheme": if tiers.is_some() { "tiered" } else { "per_unit" },
        "created": CREATED, "currency": "usd", "custom_unit_amount": null, "livemode": false,
        "lookup_key": null, "metadata": {}, "nickname": null, "product": "prod_1",
        "recurring": { "interval": "month", "interval_count": 1, "meter": null,
                       "trial_period_days": null, "usage_type": "licensed" },
        "tax_behavior": "unspecified",
        "tiers_mode": if tiers.is_some() { json!("graduated") } else { Value::Null },
        "transform_quantity": null, "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount.map(|a| a.to_string())
    });
    if let Some(tiers) = tiers {
        price["tiers"] = tiers;
    }
    price
}

/// One tier of `price.tiers`: `up_to` null is the last tier (`inf` when created).
pub fn tier(up_to: Option<i64>, unit_amount: i64, flat_amount: Option<i64>) -> Value {
    json!({
        "flat_amount": flat_amount, "flat_amount_decimal": flat_amount.map(|a| a.to_string()),
        "unit_amount": unit_amount, "unit_amount_decimal": unit_amount.to_string(),
        "up_to": up_to
    })
}

/// A Product as `product.updated` carries it.
pub fn product(name: &str) -> Value {
    json!({
        "id": "prod_1", "object": "product", "active": true, "created": CREATED,
        "default_price": "price_1", "description": null, "images": [], "livemode": false,
        "marketing_features": [], "metadata": {}, "name": name, "package_dimensions": null,
        "shippable": null, "statement_descriptor": null, "tax_code": null, "type": "service",
        "unit_label": null, "updated": CREATED, "url": null
    })
}

/// The events of `EventFactory::lifecycle()`, in the same order.
pub fn lifecycle(amount: i64, currency: &str) -> Vec<Value> {
    let mut updated = customer();
    updated["email"] = json!("jenny.new@example.com");
    vec![
        event("customer.created", customer()),
        event("customer.updated", updated),
        event(
            "customer.subscription.created",
            subscription("active", amount, currency),
        ),
        event("checkout.session.completed", checkout_session(Value::Null)),
        event(
            "customer.subscription.updated",
            subscription("past_due", amount, currency),
        ),
        event(
            "payment_intent.succeeded",
            payment_intent(amount, currency, false),
        ),
        event(
            "payment_intent.payment_failed",
            payment_intent(amount, currency, true),
        ),
        event("invoice.payment_succeeded", invoice(amount, currency, true)),
        event("invoice.payment_failed", invoice(amount, currency, false)),
        event(
            "customer.subscription.deleted",
            subscription("canceled", amount, currency),
        ),
        event("customer.deleted", customer()),
    ]
}

/// The writes the built-in mapping makes of `event`. Every main write must carry the fence
/// (the event's time and id, docs/mapping.md "Newest wins") and no stub nor aspect may: checked here,
/// then the two fields are taken out, so that each test compares only its own fields.
pub fn map(event: &Value) -> Vec<RecordWrite> {
    let mut writes = Mapping::builtin()
        .map_event(event)
        .expect("the built-in mapping maps the event")
        .writes;
    let created = event["created"].as_i64().expect("an event time");
    for write in &mut writes {
        let at = write.fields.remove("Last_Stripe_Event_At__c");
        let id = write.fields.remove("Last_Stripe_Event_ID__c");
        match write.role {
            // An aspect is ordered by the fleet's ledger alone: no fence fields.
            WriteRole::Main if write.aspect.is_some() => {
                assert_eq!((at, id), (None, None), "{} aspect", write.sobject)
            }
            WriteRole::Main => {
                let expected = if created == CREATED {
                    CREATED_TEXT.to_owned()
                } else {
                    workers::mapping::unix_to_salesforce_datetime(created)
                };
                assert_eq!(at, Some(json!(expected)), "{}", write.sobject);
                assert_eq!(id, Some(event["id"].clone()), "{}", write.sobject);
            }
            WriteRole::ParentStub => assert_eq!((at, id), (None, None), "{}", write.sobject),
        }
    }
    writes
}

/// The Contact link every customer write asks the writer to resolve.
pub fn contact_link() -> PendingLookup {
    PendingLookup {
        field: "Contact__c".into(),
        sobject: "Contact".into(),
        external_id_field: "Stripe_Customer_ID__c".into(),
        value: "cus_1".into(),
    }
}

pub fn by_external_id(field: &str, value: &str) -> RecordTarget {
    RecordTarget::ExternalId {
        field: field.into(),
        value: value.into(),
    }
}

pub fn customer_stub() -> RecordWrite {
    RecordWrite {
        sobject: "Stripe_Customer__c".into(),
        target: by_external_id("Stripe_Customer_ID__c", "cus_1"),
        fields: json!({ "Stripe_Customer_ID__c": "cus_1" })
            .as_object()
            .expect("an object literal")
            .clone(),
        role: WriteRole::ParentStub,
        aspect: None,
        pending_lookups: Vec::new(),
    }
}

pub fn fields(write: &RecordWrite) -> Value {
    Value::Object(write.fields.clone())
}
