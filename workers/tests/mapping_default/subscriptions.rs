//! Subscription events: stubs, amounts, periods (with the pre-basil fallbacks), statuses.

use serde_json::json;
use workers::mapping::{Mapping, MappingError, RecordTarget, WriteRole};

use crate::fixtures::*;

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
    // Its own aspect: customer.created's contact data is not dropped by this newer event.
    assert_eq!(writes[2].aspect.as_deref(), Some("subscription_status"));
    assert_eq!(writes[1].aspect, None);
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
fn a_subscription_bought_for_a_salesforce_record_writes_that_record() {
    let mut bought = subscription("active", 4_999, "usd");
    bought["metadata"] = json!({ "salesforce_id": "a02000000000001AAA" });
    let writes = map(&event("customer.subscription.created", bought));
    assert_eq!(
        writes[1].target,
        RecordTarget::SalesforceId("a02000000000001AAA".into())
    );
    assert_eq!(
        fields(&writes[1])["Stripe_Subscription_ID__c"],
        json!("sub_1")
    );
}
