//! The pricing events: a Price becomes a Pricing_Plan__c, its tiers Pricing_Tier__c records
//! (deleting those the price no longer lists), and a product rename renames its plans.

use serde_json::{json, Value};
use workers::mapping::{Deletion, RecordTarget, WriteRole};

use crate::fixtures::*;

#[test]
fn a_per_unit_price_is_a_plan() {
    for event_type in ["price.created", "price.updated"] {
        let writes = map(&event(event_type, price(Some(4_999), None)));
        assert_eq!(writes.len(), 1, "no tiers in the payload: no tier writes");
        assert_eq!(writes[0].role, WriteRole::Main);
        assert_eq!(writes[0].sobject, "Pricing_Plan__c");
        assert_eq!(
            writes[0].target,
            by_external_id("Stripe_Price_ID__c", "price_1")
        );
        assert_eq!(
            fields(&writes[0]),
            json!({
                "Stripe_Price_ID__c": "price_1",
                "Name": "prod_1",
                "Stripe_Product_ID__c": "prod_1",
                "Amount__c": 49.99,
                "Currency__c": "USD",
                "Recurrency_Type__c": "Monthly",
                "Interval_Count__c": 1
            })
        );
    }
}

#[test]
fn the_name_is_the_nickname_else_the_expanded_product_name() {
    let mut nicknamed = price(Some(100), None);
    nicknamed["nickname"] = json!("Pro monthly");
    assert_eq!(
        fields(&map(&event("price.updated", nicknamed))[0])["Name"],
        "Pro monthly"
    );
    let mut expanded = price(Some(100), None);
    expanded["product"] = product("Pro");
    let plan = fields(&map(&event("price.updated", expanded))[0]);
    assert_eq!(plan["Name"], "Pro");
    assert_eq!(plan["Stripe_Product_ID__c"], "prod_1");
    let mut long = price(Some(100), None);
    long["nickname"] = json!("x".repeat(100));
    let name = fields(&map(&event("price.updated", long))[0])["Name"].clone();
    assert_eq!(name.as_str().map(str::len), Some(80), "Name is Text(80)");
}

#[test]
fn intervals_and_one_time_prices_pick_the_recurrency_type() {
    for (interval, count, expected) in [
        ("day", 1, "Daily"),
        ("week", 2, "Weekly"),
        ("month", 3, "Monthly"),
        ("year", 1, "Yearly"),
    ] {
        let mut recurring = price(Some(100), None);
        recurring["recurring"]["interval"] = json!(interval);
        recurring["recurring"]["interval_count"] = json!(count);
        let plan = fields(&map(&event("price.created", recurring))[0]);
        assert_eq!(plan["Recurrency_Type__c"], expected);
        assert_eq!(plan["Interval_Count__c"], count);
    }
    let mut once = price(Some(100), None);
    once["recurring"] = Value::Null;
    once["type"] = json!("one_time");
    let plan = fields(&map(&event("price.created", once))[0]);
    assert_eq!(plan["Recurrency_Type__c"], "One-time");
    assert_eq!(
        plan["Interval_Count__c"],
        Value::Null,
        "cleared: no interval"
    );
}

#[test]
fn amounts_in_real_decimals_and_below_one_minor_unit() {
    let mut yen = price(Some(4_900), None);
    yen["currency"] = json!("jpy");
    assert_eq!(
        fields(&map(&event("price.created", yen))[0])["Amount__c"],
        4900
    );
    let mut fraction = price(None, None);
    fraction["unit_amount_decimal"] = json!("0.5");
    assert_eq!(
        fields(&map(&event("price.created", fraction))[0])["Amount__c"],
        0.005
    );
}

#[test]
fn tiers_become_numbered_records_of_the_plan_and_the_rest_is_deleted() {
    let tiers = json!([
        tier(Some(5), 1_000, None),
        tier(Some(10), 800, Some(500)),
        tier(None, 600, None)
    ]);
    let mapped = workers::mapping::Mapping::builtin()
        .map_event(&event("price.created", price(None, Some(tiers))))
        .unwrap();
    let writes = &mapped.writes;
    assert_eq!(writes.len(), 4);
    assert_eq!(
        fields(&writes[0])["Amount__c"],
        Value::Null,
        "a tiered price has no unit amount"
    );
    let expected = [
        json!({"Stripe_Tier_Key__c": "price_1#1", "Name": "Tier 1", "Tier_Number__c": 1,
               "From_Quantity__c": 1, "To_Quantity__c": 5, "Unit_Price__c": 10,
               "Flat_Amount__c": null}),
        json!({"Stripe_Tier_Key__c": "price_1#2", "Name": "Tier 2", "Tier_Number__c": 2,
               "From_Quantity__c": 6, "To_Quantity__c": 10, "Unit_Price__c": 8,
               "Flat_Amount__c": 5}),
        json!({"Stripe_Tier_Key__c": "price_1#3", "Name": "Tier 3", "Tier_Number__c": 3,
               "From_Quantity__c": 11, "To_Quantity__c": null, "Unit_Price__c": 6,
               "Flat_Amount__c": null}),
    ];
    for (write, expected) in writes[1..].iter().zip(expected) {
        assert_eq!(write.sobject, "Pricing_Tier__c");
        let mut want = expected;
        want["Pricing_Plan__r"] = json!({"Stripe_Price_ID__c": "price_1"});
        // Each tier is a record of its own: the fence stamps it too.
        want["Last_Stripe_Event_At__c"] = json!(CREATED_TEXT);
        want["Last_Stripe_Event_ID__c"] = json!("evt_1");
        assert_eq!(fields(write), want);
        assert_eq!(
            write.target,
            by_external_id(
                "Stripe_Tier_Key__c",
                want["Stripe_Tier_Key__c"].as_str().unwrap()
            )
        );
    }
    assert_eq!(
        mapped.deletions,
        vec![Deletion {
            sobject: "Pricing_Tier__c".into(),
            scope_field: "Pricing_Plan__r.Stripe_Price_ID__c".into(),
            scope_value: "price_1".into(),
            key_field: "Stripe_Tier_Key__c".into(),
            keep: vec!["price_1#1".into(), "price_1#2".into(), "price_1#3".into()],
        }]
    );
}

#[test]
fn a_payload_without_tiers_leaves_the_tiers_alone() {
    // Webhooks never expand `tiers`: a tiered price arrives without them.
    let mut tiered = price(None, None);
    tiered["billing_scheme"] = json!("tiered");
    tiered["tiers_mode"] = json!("volume");
    let mapped = workers::mapping::Mapping::builtin()
        .map_event(&event("price.updated", tiered))
        .unwrap();
    assert_eq!(mapped.writes.len(), 1);
    assert!(mapped.deletions.is_empty());
}

#[test]
fn a_product_rename_renames_every_plan_of_the_product() {
    let writes = map(&event("product.updated", product("Pro (2027)")));
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].target,
        RecordTarget::QueryAll {
            field: "Stripe_Product_ID__c".into(),
            value: "prod_1".into()
        }
    );
    assert_eq!(fields(&writes[0]), json!({"Name": "Pro (2027)"}));
}
