//! Checkout completion: by session, by Salesforce record id, guest checkout.

use serde_json::{json, Value};
use workers::mapping::RecordTarget;

use crate::fixtures::*;

#[test]
fn checkout_without_record_id_queries_by_session_then_upserts_by_subscription() {
    let writes = map(&event(
        "checkout.session.completed",
        checkout_session(json!("order-17")),
    ));
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0], customer_stub());
    assert_eq!(writes[1].sobject, "Stripe_Subscription__c");
    // Apart from the subscription events' fields of the same record (same second).
    assert_eq!(writes[1].aspect.as_deref(), Some("checkout"));
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
