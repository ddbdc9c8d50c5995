//! Payment intents and invoices: transactions, failure reasons, subscription statuses.

use serde_json::{json, Value};
use workers::mapping::{RecordTarget, WriteRole};

use crate::fixtures::*;

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
fn invoice_paid_stubs_the_subscription_and_records_a_transaction_by_invoice_id() {
    let writes = map(&event(
        "invoice.payment_succeeded",
        invoice(4_999, "usd", true),
    ));
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[0], customer_stub());
    // Only the key: the status is the subscription events' to write (newest wins per record),
    // and as its own aspect this write never makes theirs stale.
    assert_eq!(writes[1].sobject, "Stripe_Subscription__c");
    assert_eq!(writes[1].role, WriteRole::Main);
    assert_eq!(writes[1].aspect.as_deref(), Some("stripe_link"));
    assert_eq!(
        fields(&writes[1]),
        json!({ "Stripe_Subscription_ID__c": "sub_1" })
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
fn invoice_failed_records_the_failed_attempt_and_leaves_the_status_to_the_subscription() {
    let writes = map(&event(
        "invoice.payment_failed",
        invoice(15_250, "kwd", false),
    ));
    assert_eq!(writes[1].aspect.as_deref(), Some("stripe_link"));
    assert!(!writes[1].fields.contains_key("Status__c"));
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
fn an_invoice_of_a_subscription_bought_for_a_salesforce_record_links_that_record() {
    let mut paid = invoice(4_999, "usd", true);
    paid["parent"]["subscription_details"]["metadata"] =
        json!({ "salesforce_id": "a02000000000001AAA" });
    let writes = map(&event("invoice.payment_succeeded", paid));
    assert_eq!(
        writes[1].target,
        RecordTarget::SalesforceId("a02000000000001AAA".into())
    );
    assert_eq!(
        fields(&writes[1]),
        json!({ "Stripe_Subscription_ID__c": "sub_1" })
    );
}
