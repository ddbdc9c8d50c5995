//! Describe over HTTP: Describe Global (`GET .../sobjects/`) and sObject Describe
//! (`GET .../sobjects/{Object}/describe`), built from the default schema (the SFDX project),
//! authenticated and counted like other REST calls (docs/salesforce-api.md §11).

#[path = "support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{Org, VERSION};

fn field<'a>(describe: &'a Value, name: &str) -> &'a Value {
    describe["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|field| field["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[tokio::test]
async fn describe_global_lists_every_object() {
    let org = Org::start().await;
    let reply = org.get("/sobjects/").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["encoding"], "UTF-8");
    assert_eq!(reply.body["maxBatchSize"], 200);
    let sobjects = reply.body["sobjects"].as_array().unwrap();
    let names: Vec<&str> = sobjects
        .iter()
        .map(|object| object["name"].as_str().unwrap())
        .collect();
    for name in [
        "Contact",
        "Stripe_Customer__c",
        "Stripe_Subscription__c",
        "Payment_Transaction__c",
        "Pricing_Plan__c",
        "Pricing_Tier__c",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let customer = sobjects
        .iter()
        .find(|object| object["name"] == "Stripe_Customer__c")
        .unwrap();
    assert_eq!(customer["label"], "Stripe Customer");
    assert_eq!(customer["labelPlural"], "Stripe Customers");
    assert_eq!(customer["keyPrefix"], "a01");
    assert_eq!(customer["custom"], true);
    assert_eq!(customer["queryable"], true);
    assert_eq!(
        customer["urls"]["describe"],
        format!("/services/data/{VERSION}/sobjects/Stripe_Customer__c/describe")
    );
    let contact = sobjects
        .iter()
        .find(|object| object["name"] == "Contact")
        .unwrap();
    assert_eq!(contact["custom"], false);
    assert_eq!(contact["keyPrefix"], "003");
}

#[tokio::test]
async fn describe_object_lists_fields_with_their_types() {
    let org = Org::start().await;
    let reply = org.get("/sobjects/stripe_subscription__c/describe").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let describe = &reply.body;
    assert_eq!(describe["name"], "Stripe_Subscription__c");
    assert_eq!(describe["keyPrefix"], "a02");
    assert_eq!(describe["createable"], true);

    let id = field(describe, "Id");
    assert_eq!(id["type"], "id");
    assert_eq!(id["length"], 18);
    assert_eq!(id["createable"], false);
    assert_eq!(id["nillable"], false);

    let name = field(describe, "Name");
    assert_eq!(name["type"], "string");
    assert_eq!(name["autoNumber"], true);
    assert_eq!(name["nameField"], true);
    assert_eq!(name["createable"], false);

    let external = field(describe, "Stripe_Subscription_ID__c");
    assert_eq!(external["type"], "string");
    assert_eq!(external["length"], 255);
    assert_eq!(external["externalId"], true);
    assert_eq!(external["unique"], true);
    assert_eq!(external["nillable"], true);
    assert_eq!(external["custom"], true);

    let status = field(describe, "Status__c");
    assert_eq!(status["type"], "picklist");
    assert_eq!(status["restrictedPicklist"], true);
    assert_eq!(
        status["picklistValues"][0],
        json!({"value": "active", "label": "active", "active": true, "defaultValue": false, "validFor": null})
    );
    assert_eq!(status["picklistValues"].as_array().unwrap().len(), 8);

    let customer = field(describe, "Stripe_Customer__c");
    assert_eq!(customer["type"], "reference");
    assert_eq!(customer["referenceTo"], json!(["Stripe_Customer__c"]));
    assert_eq!(customer["relationshipName"], "Stripe_Customer__r");

    let amount = field(describe, "Amount__c");
    assert_eq!(amount["type"], "currency");
    assert_eq!(amount["precision"], 18);
    assert_eq!(amount["scale"], 2);
    assert_eq!(field(describe, "Error_Message__c")["type"], "textarea");
    assert_eq!(field(describe, "Checkout_URL__c")["type"], "url");
    assert_eq!(field(describe, "Current_Period_End__c")["type"], "datetime");
}

#[tokio::test]
async fn describe_covers_numbers_master_detail_and_standard_fields() {
    let org = Org::start().await;
    let tier = org.get("/sobjects/Pricing_Tier__c/describe").await;
    assert_eq!(tier.status, 200, "{}", tier.text);
    assert_eq!(field(&tier.body, "Tier_Number__c")["type"], "double");
    assert_eq!(field(&tier.body, "Discount__c")["type"], "percent");
    let plan = field(&tier.body, "Pricing_Plan__c");
    assert_eq!(plan["type"], "reference");
    assert_eq!(plan["nillable"], false, "master-detail is required");
    let name = field(&tier.body, "Name");
    assert_eq!(name["createable"], true);
    assert_eq!(name["autoNumber"], false);

    let contact = org.get("/sobjects/Contact/describe").await;
    assert_eq!(contact.status, 200, "{}", contact.text);
    assert_eq!(field(&contact.body, "Email")["type"], "email");
    assert_eq!(field(&contact.body, "Email")["idLookup"], true);
    assert_eq!(field(&contact.body, "Phone")["type"], "phone");
    assert_eq!(field(&contact.body, "LastName")["nillable"], false);
    assert_eq!(
        field(&contact.body, "Stripe_Customer_ID__c")["externalId"],
        true
    );

    let plan = org.get("/sobjects/Pricing_Plan__c/describe").await;
    assert_eq!(
        field(&plan.body, "Recurrency_Type__c")["picklistValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value["value"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Daily", "Weekly", "Monthly", "Yearly", "One-time"]
    );
}

#[tokio::test]
async fn unknown_object_is_not_found() {
    let org = Org::start().await;
    let reply = org.get("/sobjects/Invoice__c/describe").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "NOT_FOUND");
    assert_eq!(reply.message(), "The requested resource does not exist");
}

#[tokio::test]
async fn describe_needs_a_session_and_is_counted_when_authenticated() {
    let org = Org::start().await;
    let anonymous = org.client.get(org.api("/sobjects/")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let first = org.get("/sobjects/Contact/describe").await;
    assert_eq!(
        first.header("sforce-limit-info"),
        Some("api-usage=1/115000")
    );
    let again = org.send(Method::GET, &org.api("/sobjects"), None).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.header("sforce-limit-info"),
        Some("api-usage=2/115000")
    );
}
