//! SOQL through REST: the subset, escaping, type checks, errors and paging
//! (docs/salesforce-api.md §6).
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

async fn seed(org: &Org) {
    let records: Vec<Value> = [
        ("cus_1", "O'Brien", "Active"),
        ("cus_2", "Back\\slash", "Past Due"),
        ("cus_3", "Plain", "Active"),
        ("cus_4", "50% off_now", "Canceled"),
    ]
    .iter()
    .map(|(id, name, status)| json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": id, "Customer_Name__c": name, "Subscription_Status__c": status}))
    .collect();
    let reply = org
        .patch(
            "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
            &json!({"records": records}),
        )
        .await;
    assert_eq!(reply.status, 200);
}

fn names(reply: &support::Reply) -> Vec<String> {
    reply.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            record["Customer_Name__c"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn where_and_limit_with_escaped_literals() {
    let org = Org::start().await;
    seed(&org).await;
    let quote = query(
        &org,
        r"SELECT Id, Customer_Name__c FROM Stripe_Customer__c WHERE Customer_Name__c = 'O\'Brien'",
    )
    .await;
    assert_eq!(quote.status, 200, "{}", quote.text);
    assert_eq!(quote.body["totalSize"], 1);
    assert_eq!(quote.body["done"], true);
    assert!(quote.body.get("nextRecordsUrl").is_none());
    assert_eq!(
        quote.body["records"][0]["attributes"]["type"],
        "Stripe_Customer__c"
    );
    assert_eq!(names(&quote), vec!["O'Brien"]);
    let backslash = query(
        &org,
        r"SELECT Customer_Name__c FROM Stripe_Customer__c WHERE Customer_Name__c = 'Back\\slash'",
    )
    .await;
    assert_eq!(names(&backslash), vec!["Back\\slash"]);
    let and = query(&org, "select customer_name__c from stripe_customer__c where Subscription_Status__c = 'Active' AND Stripe_Customer_ID__c != 'cus_1'").await;
    assert_eq!(names(&and), vec!["Plain"]);
    let in_limit = query(&org, "SELECT Customer_Name__c FROM Stripe_Customer__c WHERE Stripe_Customer_ID__c IN ('cus_1','cus_3','cus_4') ORDER BY Customer_Name__c DESC LIMIT 2").await;
    assert_eq!(names(&in_limit), vec!["Plain", "O'Brien"]);
    let like = query(&org, r"SELECT Customer_Name__c FROM Stripe_Customer__c WHERE Customer_Name__c LIKE '50\% off\_%'").await;
    assert_eq!(names(&like), vec!["50% off_now"]);
    let count = query(
        &org,
        "SELECT COUNT() FROM Stripe_Customer__c WHERE Subscription_Status__c = 'Active'",
    )
    .await;
    assert_eq!(
        count.body,
        json!({"totalSize": 2, "done": true, "records": []})
    );
    let injection = query(&org, r"SELECT Customer_Name__c FROM Stripe_Customer__c WHERE Customer_Name__c = 'x\' OR Customer_Name__c != \'x'").await;
    assert_eq!(
        injection.body["totalSize"], 0,
        "an escaped quote cannot end the literal"
    );
}

#[tokio::test]
async fn parent_fields_numbers_and_dates() {
    let org = Org::start().await;
    org.upsert_customer("cus_p", &json!({"Customer_Name__c": "Parent"}))
        .await;
    org.patch("/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_1", &json!({"Amount__c": 20, "Transaction_Date__c": "2024-05-01T10:00:00Z", "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_p"}})).await;
    org.patch(
        "/sobjects/Payment_Transaction__c/Stripe_Payment_Intent_ID__c/pi_2",
        &json!({"Amount__c": 5}),
    )
    .await;
    let reply = query(&org, "SELECT Stripe_Payment_Intent_ID__c, Stripe_Customer__r.Stripe_Customer_ID__c FROM Payment_Transaction__c WHERE Amount__c > 10 AND Transaction_Date__c >= 2024-05-01T00:00:00Z").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["totalSize"], 1);
    let record = &reply.body["records"][0];
    assert_eq!(record["Stripe_Payment_Intent_ID__c"], "pi_1");
    assert_eq!(
        record["Stripe_Customer__r"]["Stripe_Customer_ID__c"],
        "cus_p"
    );
    assert_eq!(
        record["Stripe_Customer__r"]["attributes"]["type"],
        "Stripe_Customer__c"
    );
    let orphan = query(&org, "SELECT Stripe_Customer__r.Stripe_Customer_ID__c FROM Payment_Transaction__c WHERE Stripe_Customer__c = null").await;
    assert_eq!(orphan.body["records"][0]["Stripe_Customer__r"], Value::Null);
}

#[tokio::test]
async fn query_errors() {
    let org = Org::start().await;
    let cases = [
        ("SELECT Nope__c FROM Stripe_Customer__c", "INVALID_FIELD", "No such column 'Nope__c' on entity 'Stripe_Customer__c'"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE", "sObject type 'Nope__c' is not supported"),
        ("SELECT Id FROM Payment_Transaction__c WHERE Amount__c = '10'", "INVALID_FIELD", "value of filter criterion for field 'Amount__c' must be of type double and should not be enclosed in quotes"),
        ("SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'a\\qb'", "MALFORMED_QUERY", "Illegal character sequence"),
        ("SELECT Id FROM Stripe_Customer__c WHERE Customer_Name__c = 'open", "MALFORMED_QUERY", "unterminated"),
        ("SELECT Id Stripe_Customer__c", "MALFORMED_QUERY", "unexpected token"),
    ];
    for (soql, code, text) in cases {
        let reply = query(&org, soql).await;
        assert_eq!(reply.status, 400, "{soql}");
        assert_eq!(reply.error_code(), code, "{soql}: {}", reply.text);
        assert!(
            reply.message().contains(text),
            "{soql}: {}",
            reply.message()
        );
        assert!(
            reply.message().contains("ERROR at Row:1:Column:"),
            "{}",
            reply.message()
        );
    }
    assert_eq!(org.get("/query").await.error_code(), "MALFORMED_QUERY");
}

#[tokio::test]
async fn large_results_page_through_next_records_url() {
    let org = Org::start().await;
    for batch in 0..3 {
        let records: Vec<Value> = (0..150).map(|i| json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": format!("cus_{batch}_{i}")})).collect();
        assert_eq!(
            org.patch(
                "/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
                &json!({"records": records})
            )
            .await
            .status,
            200
        );
    }
    let first = support::read(
        org.client
            .get(org.api("/query/"))
            .query(&[("q", "SELECT Id FROM Stripe_Customer__c")])
            .header("Sforce-Query-Options", "batchSize=200")
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first.body["totalSize"], 450);
    assert_eq!(first.body["done"], false);
    assert_eq!(first.body["records"].as_array().unwrap().len(), 200);
    let next = first.body["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-200"),
        "{next}"
    );
    let second = support::read(
        org.client
            .get(org.url(&next))
            .header("Sforce-Query-Options", "batchSize=200")
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(second.body["records"].as_array().unwrap().len(), 200);
    let last_url = second.body["nextRecordsUrl"]
        .as_str()
        .unwrap()
        .replace("/query/", "/queryAll/");
    let last = org.send(Method::GET, &org.url(&last_url), None).await;
    assert_eq!(last.body["done"], true);
    assert_eq!(last.body["records"].as_array().unwrap().len(), 50);
    assert!(last.body.get("nextRecordsUrl").is_none());
    let bad = org.get("/query/01gDn0000000000-200").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), "INVALID_QUERY_LOCATOR");
}
