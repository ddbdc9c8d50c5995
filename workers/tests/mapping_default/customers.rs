//! The customer events: contact data, payment methods, deletion.

use serde_json::{json, Value};
use workers::mapping::{Mapping, WriteRole};

use crate::fixtures::*;

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
        assert_eq!(
            writes[0].pending_lookups,
            vec![contact_link()],
            "linked to the customer's Contact if one exists"
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
    assert_eq!(writes.len(), 2);
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
            "Default_Payment_Method__c": null
        })
    );
    assert_eq!(writes[0].pending_lookups, vec![contact_link()]);
    // The status is the aspect the subscription events write too, so a late, older
    // customer.subscription.updated cannot set it back to Active.
    assert_eq!(writes[1].aspect.as_deref(), Some("subscription_status"));
    assert_eq!(writes[1].target, writes[0].target);
    assert_eq!(
        fields(&writes[1]),
        json!({ "Stripe_Customer_ID__c": "cus_1", "Subscription_Status__c": "Canceled" })
    );
}

#[test]
fn only_the_customer_writes_look_for_a_contact() {
    let subscription = map(&event(
        "customer.subscription.updated",
        subscription("active", 4_999, "usd"),
    ));
    assert!(subscription.iter().all(|w| w.pending_lookups.is_empty()));
}
