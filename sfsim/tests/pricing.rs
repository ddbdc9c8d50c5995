//! The calls the fleet makes for pricing plans and Contact links, against the default schema
//! (the SFDX project): tiers upserted under their plan through its external id, found with a
//! parent path and `NOT IN`, deleted with sObject Collections DELETE (docs/salesforce-api.md
//! §4.3), and Contacts found by a non-unique external id with `IN`.
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions unwrap too: a failed step should fail the test"
)]

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::Org;

async fn query(org: &Org, soql: &str) -> support::Reply {
    let response = org
        .client
        .get(org.api("/query"))
        .query(&[("q", soql)])
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    support::read(response).await
}

fn ids(reply: &support::Reply) -> Vec<String> {
    let mut ids: Vec<String> = reply.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// A plan with three tiers, upserted as the fleet does.
async fn plan_with_tiers(org: &Org, price: &str) {
    let plan = org
        .patch(
            "/composite/sobjects/Pricing_Plan__c/Stripe_Price_ID__c",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Pricing_Plan__c"}, "Stripe_Price_ID__c": price,
                 "Name": "Seats", "Recurrency_Type__c": "Weekly", "Interval_Count__c": 2}
            ]}),
        )
        .await;
    assert_eq!(plan.body[0]["success"], true, "{}", plan.text);
    let tiers: Vec<Value> = (1..=3)
        .map(|n| {
            json!({"attributes": {"type": "Pricing_Tier__c"},
                   "Stripe_Tier_Key__c": format!("{price}#{n}"), "Name": format!("Tier {n}"),
                   "Tier_Number__c": n, "Flat_Amount__c": 5,
                   "Pricing_Plan__r": {"Stripe_Price_ID__c": price}})
        })
        .collect();
    let reply = org
        .patch(
            "/composite/sobjects/Pricing_Tier__c/Stripe_Tier_Key__c",
            &json!({"allOrNone": false, "records": tiers}),
        )
        .await;
    let results = reply.body.as_array().unwrap();
    assert!(
        results.iter().all(|r| r["success"] == true),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn tiers_beyond_a_shorter_list_are_found_and_deleted_in_one_call() {
    let org = Org::start().await;
    plan_with_tiers(&org, "price_1").await;
    plan_with_tiers(&org, "price_2").await;
    let extra = query(
        &org,
        "SELECT Id FROM Pricing_Tier__c WHERE Pricing_Plan__r.Stripe_Price_ID__c = 'price_1' \
         AND Stripe_Tier_Key__c NOT IN ('price_1#1', 'price_1#2')",
    )
    .await;
    assert_eq!(extra.status, 200, "{}", extra.text);
    let doomed = ids(&extra);
    assert_eq!(doomed.len(), 1, "only price_1's third tier: {}", extra.text);

    let before = org.admin(Method::GET, "/__sim/calls", None).await;
    let deleted = org
        .delete(&format!(
            "/composite/sobjects?ids={}&allOrNone=false",
            doomed[0]
        ))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(
        deleted.body,
        json!([{"id": doomed[0], "success": true, "errors": []}])
    );
    let after = org.admin(Method::GET, "/__sim/calls", None).await;
    let counted = |calls: &support::Reply| {
        calls.body["by_endpoint"]["collections.delete"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(counted(&after) - counted(&before), 1, "one API call");

    let again = org
        .delete(&format!("/composite/sobjects?ids={}", doomed[0]))
        .await;
    assert_eq!(again.body[0]["success"], false);
    assert_eq!(
        again.body[0]["errors"][0]["statusCode"],
        "ENTITY_IS_DELETED"
    );
    let left = query(&org, "SELECT Id FROM Pricing_Tier__c").await;
    assert_eq!(left.body["totalSize"], 5, "{}", left.text);
}

#[tokio::test]
async fn contacts_are_found_by_a_non_unique_external_id_with_in() {
    let org = Org::start().await;
    let contacts: Vec<Value> = [("Rosen", "cus_1"), ("Rosén", "CUS_1"), ("Other", "cus_2")]
        .iter()
        .map(|(name, id)| {
            json!({"attributes": {"type": "Contact"}, "LastName": name,
                   "Stripe_Customer_ID__c": id})
        })
        .collect();
    let created = org
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": contacts}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let found = query(
        &org,
        "SELECT Id, Stripe_Customer_ID__c FROM Contact WHERE Stripe_Customer_ID__c IN ('cus_1', 'cus_9')",
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(
        found.body["totalSize"], 2,
        "both Contacts of cus_1, matched ignoring case: {}",
        found.text
    );
}
