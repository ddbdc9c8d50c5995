//! The default schema takes every subscription status Stripe documents (`active`,
//! `canceled`, `incomplete`, `incomplete_expired`, `past_due`, `paused`, `trialing`,
//! `unpaid`; https://docs.stripe.com/api/subscriptions/object#subscription_object-status):
//! the fleet writes `Status__c` verbatim, so a missing value would dead-letter real events.

#[path = "support/mod.rs"]
mod support;

use serde_json::json;
use support::Org;

#[tokio::test]
async fn every_stripe_subscription_status_is_a_value_of_the_restricted_picklist() {
    let org = Org::start().await;
    for (n, status) in [
        "active",
        "canceled",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    ]
    .into_iter()
    .enumerate()
    {
        let reply = org
            .patch(
                &format!("/sobjects/Stripe_Subscription__c/Stripe_Subscription_ID__c/sub_{n}"),
                &json!({ "Status__c": status }),
            )
            .await;
        assert_eq!(reply.status, 201, "{status}: {}", reply.text);
    }
    let refused = org
        .patch(
            "/sobjects/Stripe_Subscription__c/Stripe_Subscription_ID__c/sub_x",
            &json!({ "Status__c": "hibernating" }),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
}
