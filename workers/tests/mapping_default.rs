//! The built-in mapping against events in Stripe's real shapes (API 2026-10-28.endive, the
//! layout of `testkit`'s factory, plus pre-basil variants for the version fallbacks).

use serde_json::{json, Value};
use workers::mapping::{Mapping, MappingError, RecordTarget, RecordWrite, WriteRole};

const CREATED: i64 = 1_786_370_648;
const CREATED_TEXT: &str = "2026-08-10T14:04:08.000Z";
const PERIOD_END: i64 = CREATED + 30 * 86_400;
const PERIOD_END_TEXT: &str = "2026-09-09T14:04:08.000Z";

fn event(event_type: &str, object: Value) -> Value {
    json!({
        "id": "evt_1", "object": "event", "api_version": "2026-10-28.endive",
        "created": CREATED, "data": { "object": object }, "livemode": false,
        "pending_webhooks": 1, "request": { "id": null, "idempotency_key": null },
        "type": event_type
    })
}

fn customer() -> Value {
    json!({
        "id": "cus_1", "object": "customer", "balance": 0, "created": CREATED,
        "currency": "usd", "default_source": null, "email": "jenny@example.com",
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null },
        "metadata": {}, "name": "Jenny Rosén", "phone": "+41 44 668 18 00"
    })
}

fn subscription(status: &str, amount: i64, currency: &str) -> Value {
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

fn payment_intent(amount: i64, currency: &str, failed: bool) -> Value {
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

fn invoice(amount: i64, currency: &str, paid: bool) -> Value {
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

fn checkout_session(client_reference_id: Value) -> Value {
    json!({
        "id": "cs_test_1", "object": "checkout.session", "amount_total": 4999,
        "client_reference_id": client_reference_id, "created": CREATED, "currency": "usd",
        "customer": "cus_1", "mode": "subscription", "payment_intent": null,
        "payment_status": "paid", "status": "complete", "subscription": "sub_1"
    })
}

/// The events of `EventFactory::lifecycle()`, in the same order.
fn lifecycle(amount: i64, currency: &str) -> Vec<Value> {
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

fn map(event: &Value) -> Vec<RecordWrite> {
    Mapping::builtin()
        .map_event(event)
        .expect("the built-in mapping maps the event")
        .writes
}

fn by_external_id(field: &str, value: &str) -> RecordTarget {
    RecordTarget::ExternalId {
        field: field.into(),
        value: value.into(),
    }
}

fn customer_stub() -> RecordWrite {
    RecordWrite {
        sobject: "Stripe_Customer__c".into(),
        target: by_external_id("Stripe_Customer_ID__c", "cus_1"),
        fields: json!({ "Stripe_Customer_ID__c": "cus_1" })
            .as_object()
            .expect("an object literal")
            .clone(),
        role: WriteRole::ParentStub,
    }
}

fn fields(write: &RecordWrite) -> Value {
    Value::Object(write.fields.clone())
}

#[test]
fn every_lifecycle_event_maps_in_every_kind_of_currency() {
    let mapping = Mapping::builtin();
    for (amount, currency) in [
        (4_999, "usd"),
        (4_900, "jpy"),
        (15_250, "kwd"),
        (15_250, "bhd"),
    ] {
        for event in lifecycle(amount, currency) {
            let mapped = mapping.map_event(&event);
            let writes = mapped.unwrap_or_else(|e| panic!("{currency}: {e}")).writes;
            assert!(!writes.is_empty(), "{}", event["type"]);
            let first_main = writes
                .iter()
                .position(|w| w.role == WriteRole::Main)
                .unwrap();
            assert!(writes[first_main..]
                .iter()
                .all(|w| w.role == WriteRole::Main));
        }
    }
    let types: Vec<&str> = mapping.event_types().collect();
    for event in lifecycle(1, "usd") {
        assert!(types.contains(&event["type"].as_str().unwrap()));
    }
}

#[test]
fn customer_created_and_updated_upsert_the_contact_data() {
    for event_type in ["customer.created", "customer.updated"] {
        let writes = map(&event(event_type, customer()));
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].role, WriteRole::Main);
        assert_eq!(writes[0].sobject, "Stripe_Customer__c");
        assert_eq!(
            writes[0].target,
            by_external_id("Stripe_Customer_ID__c", "cus_1")
        );
        assert_eq!(
            fields(&writes[0]),
            json!({
                "Stripe_Customer_ID__c": "cus_1",
                "Customer_Email__c": "jenny@example.com",
                "Customer_Name__c": "Jenny Rosén",
                "Customer_Phone__c": "+41 44 668 18 00",
                "Default_Payment_Method__c": null
            })
        );
    }
}

#[test]
fn default_payment_method_as_id_or_expanded_object() {
    let mut with_id = customer();
    with_id["invoice_settings"]["default_payment_method"] = json!("pm_9");
    let mut expanded = customer();
    expanded["invoice_settings"]["default_payment_method"] =
        json!({"id": "pm_8", "object": "payment_method"});
    let mut absent = customer();
    absent.as_object_mut().unwrap().remove("phone");
    let value = |object: Value, field: &str| {
        fields(&map(&event("customer.updated", object))[0])[field].clone()
    };
    assert_eq!(value(with_id, "Default_Payment_Method__c"), json!("pm_9"));
    assert_eq!(value(expanded, "Default_Payment_Method__c"), json!("pm_8"));
    let writes = map(&event("customer.updated", absent));
    assert!(
        !writes[0].fields.contains_key("Customer_Phone__c"),
        "absent → omitted, not cleared"
    );
}

#[test]
fn customer_deleted_keeps_the_record_with_its_last_state_and_marks_it_canceled() {
    let writes = map(&event("customer.deleted", customer()));
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].target,
        by_external_id("Stripe_Customer_ID__c", "cus_1")
    );
    // The full last state too: a coalesced burst ending in the deletion keeps the contact data.
    assert_eq!(
        fields(&writes[0]),
        json!({
            "Stripe_Customer_ID__c": "cus_1",
            "Customer_Email__c": "jenny@example.com",
            "Customer_Name__c": "Jenny Rosén",
            "Customer_Phone__c": "+41 44 668 18 00",
            "Default_Payment_Method__c": null,
            "Subscription_Status__c": "Canceled"
        })
    );
}

#[test]
fn subscription_created_writes_customer_stub_then_subscription_then_status() {
    let writes = map(&event(
        "customer.subscription.created",
        subscription("active", 4_999, "usd"),
    ));
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].sobject, "Stripe_Subscription__c");
    assert_eq!(writes[1].role, WriteRole::Main);
    assert_eq!(
        writes[1].target,
        by_external_id("Stripe_Subscription_ID__c", "sub_1")
    );
    assert_eq!(
        fields(&writes[1]),
        json!({
            "Stripe_Subscription_ID__c": "sub_1",
            "Stripe_Customer__r": { "Stripe_Customer_ID__c": "cus_1" },
            "Status__c": "active",
            "Current_Period_Start__c": CREATED_TEXT,
            "Current_Period_End__c": PERIOD_END_TEXT,
            "Amount__c": 49.99,
            "Currency__c": "USD",
            "Stripe_Price_ID__c": "price_1",
            "Product_Plan_Name__c": "prod_1"
        })
    );
    assert_eq!(writes[2].sobject, "Stripe_Customer__c");
    assert_eq!(writes[2].role, WriteRole::Main);
    assert_eq!(
        fields(&writes[2]),
        json!({ "Stripe_Customer_ID__c": "cus_1", "Subscription_Status__c": "Active" })
    );
}

#[test]
fn subscription_amounts_use_the_real_exponent_and_quantity() {
    let amount = |value: i64, currency: &str, quantity: i64| {
        let mut object = subscription("active", value, currency);
        object["items"]["data"][0]["quantity"] = json!(quantity);
        let writes = map(&event("customer.subscription.updated", object));
        serde_json::to_string(&writes[1].fields["Amount__c"]).unwrap()
    };
    assert_eq!(amount(4_900, "jpy", 1), "4900");
    assert_eq!(amount(1_234, "JPY", 1), "1234");
    assert_eq!(amount(1_230, "kwd", 1), "1.23");
    assert_eq!(amount(15_250, "kwd", 1), "15.25");
    assert_eq!(amount(1_234, "usd", 1), "12.34");
    assert_eq!(amount(1_234, "usd", 3), "37.02");
}

#[test]
fn subscription_updated_mirrors_past_due_on_the_customer() {
    let writes = map(&event(
        "customer.subscription.updated",
        subscription("past_due", 4_999, "usd"),
    ));
    assert_eq!(writes[1].fields["Status__c"], json!("past_due"));
    assert_eq!(
        writes[2].fields["Subscription_Status__c"],
        json!("Past Due")
    );
}

#[test]
fn subscription_periods_fall_back_to_the_pre_basil_top_level_fields() {
    let mut old = subscription("active", 4_999, "usd");
    let item = &mut old["items"]["data"][0];
    item.as_object_mut().unwrap().remove("current_period_start");
    item.as_object_mut().unwrap().remove("current_period_end");
    old["current_period_start"] = json!(951_782_400);
    old["current_period_end"] = json!(0);
    let writes = map(&event("customer.subscription.updated", old.clone()));
    assert_eq!(
        writes[1].fields["Current_Period_Start__c"],
        json!("2000-02-29T00:00:00.000Z")
    );
    assert_eq!(
        writes[1].fields["Current_Period_End__c"],
        json!("1970-01-01T00:00:00.000Z")
    );

    old.as_object_mut().unwrap().remove("current_period_start");
    let error = Mapping::builtin()
        .map_event(&event("customer.subscription.updated", old))
        .unwrap_err();
    assert_eq!(
        error,
        MappingError::MissingValue {
            event_type: "customer.subscription.updated".into(),
            sobject: "Stripe_Subscription__c".into(),
            field: "Current_Period_Start__c".into(),
            path:
                "data.object.items.data[0].current_period_start | data.object.current_period_start"
                    .into(),
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("customer.subscription.updated"),
        "{message}"
    );
    assert!(message.contains("Current_Period_Start__c"), "{message}");
    assert!(
        message.contains("data.object.current_period_start"),
        "{message}"
    );
}

#[test]
fn subscription_deleted_sets_canceled() {
    // Status says active on purpose: the deleted event alone decides.
    let writes = map(&event(
        "customer.subscription.deleted",
        subscription("active", 4_999, "usd"),
    ));
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].fields["Status__c"], json!("canceled"));
    assert_eq!(
        writes[2].fields["Subscription_Status__c"],
        json!("Canceled")
    );
}

#[test]
fn checkout_without_record_id_queries_by_session_then_upserts_by_subscription() {
    let writes = map(&event(
        "checkout.session.completed",
        checkout_session(json!("order-17")),
    ));
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].sobject, "Stripe_Subscription__c");
    assert_eq!(
        writes[1].target,
        RecordTarget::Query {
            field: "Stripe_Checkout_Session_ID__c".into(),
            value: "cs_test_1".into(),
            fallback: Some(Box::new(by_external_id(
                "Stripe_Subscription_ID__c",
                "sub_1"
            ))),
        }
    );
    assert_eq!(
        fields(&writes[1]),
        json!({
            "Sync_Status__c": "Completed",
            "Stripe_Checkout_Session_ID__c": "cs_test_1",
            "Stripe_Subscription_ID__c": "sub_1",
            "Stripe_Customer__r": { "Stripe_Customer_ID__c": "cus_1" }
        })
    );
}

#[test]
fn checkout_with_a_salesforce_record_id_updates_that_record() {
    let writes = map(&event(
        "checkout.session.completed",
        checkout_session(json!("a02000000000001AAA")),
    ));
    assert_eq!(
        writes[1].target,
        RecordTarget::SalesforceId("a02000000000001AAA".into())
    );
    assert_eq!(writes[1].fields["Sync_Status__c"], json!("Completed"));
    let fifteen = map(&event(
        "checkout.session.completed",
        checkout_session(json!("a02000000000001")),
    ));
    assert_eq!(
        fifteen[1].target,
        RecordTarget::SalesforceId("a02000000000001".into())
    );
}

#[test]
fn guest_checkout_in_payment_mode_skips_the_stub_and_has_no_fallback() {
    let mut session = checkout_session(Value::Null);
    session["customer"] = Value::Null;
    session["subscription"] = Value::Null;
    session["mode"] = json!("payment");
    let writes = map(&event("checkout.session.completed", session));
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].target,
        RecordTarget::Query {
            field: "Stripe_Checkout_Session_ID__c".into(),
            value: "cs_test_1".into(),
            fallback: None
        }
    );
    assert_eq!(writes[0].fields["Stripe_Customer__c"], Value::Null);
    assert_eq!(writes[0].fields["Stripe_Subscription_ID__c"], Value::Null);
}

#[test]
fn payment_intent_succeeded_is_a_transaction() {
    let writes = map(&event(
        "payment_intent.succeeded",
        payment_intent(4_999, "usd", false),
    ));
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].sobject, "Payment_Transaction__c");
    assert_eq!(
        writes[1].target,
        by_external_id("Stripe_Payment_Intent_ID__c", "pi_1")
    );
    assert_eq!(
        fields(&writes[1]),
        json!({
            "Stripe_Payment_Intent_ID__c": "pi_1",
            "Stripe_Customer__r": { "Stripe_Customer_ID__c": "cus_1" },
            "Amount__c": 49.99,
            "Currency__c": "USD",
            "Status__c": "succeeded",
            "Payment_Method_Type__c": "card",
            "Transaction_Date__c": CREATED_TEXT,
            "Failure_Reason__c": null
        })
    );
}

#[test]
fn payment_intent_failed_records_the_reason() {
    let writes = map(&event(
        "payment_intent.payment_failed",
        payment_intent(1_230, "kwd", true),
    ));
    let transaction = fields(&writes[1]);
    assert_eq!(transaction["Status__c"], json!("requires_payment_method"));
    assert_eq!(
        transaction["Failure_Reason__c"],
        json!("Your card was declined.")
    );
    assert_eq!(transaction["Amount__c"], json!(1.23));
    assert_eq!(transaction["Currency__c"], json!("KWD"));
    assert_eq!(transaction["Payment_Method_Type__c"], json!("card"));

    let mut code_only = payment_intent(4_900, "jpy", true);
    code_only["last_payment_error"]
        .as_object_mut()
        .unwrap()
        .remove("message");
    let writes = map(&event("payment_intent.payment_failed", code_only));
    assert_eq!(
        writes[1].fields["Failure_Reason__c"],
        json!("card_declined")
    );
    assert_eq!(writes[1].fields["Amount__c"], json!(4_900));
}

#[test]
fn guest_payment_intent_has_no_customer() {
    let mut guest = payment_intent(4_999, "usd", false);
    guest["customer"] = Value::Null;
    let writes = map(&event("payment_intent.succeeded", guest));
    assert_eq!(writes.len(), 1, "the optional customer stub is skipped");
    assert_eq!(writes[0].fields["Stripe_Customer__c"], Value::Null);
}

#[test]
fn invoice_paid_activates_the_subscription_and_records_a_transaction_by_invoice_id() {
    let writes = map(&event(
        "invoice.payment_succeeded",
        invoice(4_999, "usd", true),
    ));
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].sobject, "Stripe_Subscription__c");
    assert_eq!(writes[1].role, WriteRole::Main);
    assert_eq!(
        fields(&writes[1]),
        json!({
            "Stripe_Subscription_ID__c": "sub_1",
            "Stripe_Customer__r": { "Stripe_Customer_ID__c": "cus_1" },
            "Status__c": "active"
        })
    );
    assert_eq!(
        writes[2].target,
        by_external_id("Stripe_Payment_Intent_ID__c", "in_1")
    );
    assert_eq!(
        fields(&writes[2]),
        json!({
            "Stripe_Payment_Intent_ID__c": "in_1",
            "Stripe_Customer__r": { "Stripe_Customer_ID__c": "cus_1" },
            "Stripe_Subscription__r": { "Stripe_Subscription_ID__c": "sub_1" },
            "Amount__c": 49.99,
            "Currency__c": "USD",
            "Status__c": "succeeded",
            "Transaction_Date__c": CREATED_TEXT
        })
    );
}

#[test]
fn pre_basil_invoice_uses_top_level_subscription_and_payment_intent() {
    let mut old = invoice(4_900, "jpy", true);
    old.as_object_mut().unwrap().remove("parent");
    old.as_object_mut().unwrap().remove("status_transitions");
    old["subscription"] = json!("sub_old");
    old["payment_intent"] = json!("pi_old");
    let writes = map(&event("invoice.payment_succeeded", old));
    assert_eq!(
        writes[1].target,
        by_external_id("Stripe_Subscription_ID__c", "sub_old")
    );
    assert_eq!(
        writes[2].target,
        by_external_id("Stripe_Payment_Intent_ID__c", "pi_old")
    );
    assert_eq!(
        writes[2].fields["Stripe_Subscription__r"],
        json!({ "Stripe_Subscription_ID__c": "sub_old" })
    );
    assert_eq!(writes[2].fields["Amount__c"], json!(4_900));
    // No paid_at: the event's own time.
    assert_eq!(writes[2].fields["Transaction_Date__c"], json!(CREATED_TEXT));
}

#[test]
fn invoice_failed_marks_the_subscription_past_due() {
    let writes = map(&event(
        "invoice.payment_failed",
        invoice(15_250, "kwd", false),
    ));
    assert_eq!(writes[1].fields["Status__c"], json!("past_due"));
    let transaction = fields(&writes[2]);
    assert_eq!(transaction["Status__c"], json!("requires_payment_method"));
    assert_eq!(transaction["Amount__c"], json!(15.25));
    assert_eq!(transaction["Transaction_Date__c"], json!(CREATED_TEXT));
}

#[test]
fn invoice_without_subscription_skips_the_subscription_write() {
    let mut one_off = invoice(4_999, "usd", true);
    one_off["parent"] = Value::Null;
    let writes = map(&event("invoice.payment_succeeded", one_off));
    let objects: Vec<&str> = writes.iter().map(|w| w.sobject.as_str()).collect();
    assert_eq!(objects, ["Stripe_Customer__c", "Payment_Transaction__c"]);
    assert_eq!(writes[1].fields["Stripe_Subscription__c"], Value::Null);
}

#[test]
fn unhandled_types_and_non_events_are_recognisable() {
    let mapping = Mapping::builtin();
    assert!(!mapping.handles("charge.refunded"));
    let error = mapping
        .map_event(&event("charge.refunded", json!({"id": "ch_1"})))
        .unwrap_err();
    assert!(
        matches!(&error, MappingError::UnhandledType { event_type } if event_type == "charge.refunded")
    );
    assert_eq!(error.code(), "unhandled_type");
    assert_eq!(
        mapping.map_event(&json!({"id": "evt_1"})),
        Err(MappingError::NotAnEvent)
    );
}

#[test]
fn bad_values_name_the_event_field_and_path() {
    let mut bad = payment_intent(4_999, "usd", false);
    bad["amount"] = json!("49.99");
    let error = Mapping::builtin()
        .map_event(&event("payment_intent.succeeded", bad))
        .unwrap_err();
    assert!(matches!(error, MappingError::BadValue { .. }), "{error:?}");
    let message = error.to_string();
    for part in [
        "payment_intent.succeeded",
        "Payment_Transaction__c.Amount__c",
        "data.object.amount",
        "49.99",
    ] {
        assert!(message.contains(part), "{message} lacks {part}");
    }

    let mut no_currency = payment_intent(4_999, "usd", false);
    no_currency.as_object_mut().unwrap().remove("currency");
    let message = Mapping::builtin()
        .map_event(&event("payment_intent.succeeded", no_currency))
        .unwrap_err()
        .to_string();
    assert!(message.contains("data.object.currency"), "{message}");

    let mut no_customer = subscription("active", 1, "usd");
    no_customer.as_object_mut().unwrap().remove("customer");
    let error = Mapping::builtin()
        .map_event(&event("customer.subscription.created", no_customer))
        .unwrap_err();
    assert_eq!(error.code(), "missing_value");
    assert!(
        error.to_string().contains("Stripe_Customer_ID__c"),
        "{error}"
    );
}

#[test]
fn unknown_subscription_status_is_a_clear_error_not_a_wrong_picklist_value() {
    let error = Mapping::builtin()
        .map_event(&event(
            "customer.subscription.updated",
            subscription("hibernating", 1, "usd"),
        ))
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("Subscription_Status__c"), "{message}");
    assert!(
        message.contains("\"hibernating\" is not in value_map"),
        "{message}"
    );
}
