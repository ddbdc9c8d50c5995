//! What the mapping refuses, and how it says so.

use serde_json::json;
use workers::mapping::{Mapping, MappingError};

use crate::fixtures::*;

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

#[test]
fn an_amount_in_a_currency_stripe_does_not_have_is_refused_not_guessed() {
    // Two decimals would be a guess: "xyz" could as well have none, a factor 100 off.
    let error = Mapping::builtin()
        .map_event(&event(
            "payment_intent.succeeded",
            payment_intent(4_999, "xyz", false),
        ))
        .unwrap_err();
    assert_eq!(error.code(), "bad_value");
    let message = error.to_string();
    for part in [
        "Payment_Transaction__c.Amount__c",
        "data.object.currency",
        "\"xyz\" is not a currency Stripe charges in",
    ] {
        assert!(message.contains(part), "{message} lacks {part}");
    }

    // An account that really sees the code says how many decimals it has.
    let mapping = Mapping::from_toml(&format!(
        "{}\n[currency_exponents]\nxyz = 0\n",
        include_str!("../../mapping.default.toml")
    ))
    .expect("the default with an override loads");
    let writes = mapping
        .map_event(&event(
            "payment_intent.succeeded",
            payment_intent(4_999, "xyz", false),
        ))
        .expect("mapped with the override")
        .writes;
    let transaction = writes
        .iter()
        .find(|w| w.sobject == "Payment_Transaction__c")
        .expect("a transaction");
    assert_eq!(transaction.fields["Amount__c"], json!(4_999));
}
