//! A request outlives its client, as on a real server: when the client times out or
//! disconnects, Salesforce still executes the request, and the write lands after the added
//! latency. The fleet's fence (docs/mapping.md, "Newest wins") exists because of this.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sfsim::FaultConfig;
use support::Org;
use testkit::harness::wait_for;

#[tokio::test]
async fn a_write_whose_client_timed_out_still_lands_after_the_latency() {
    let org = Org::start().await;
    let faults = FaultConfig {
        latency_ms: 800,
        ..FaultConfig::default()
    };
    let reply = org
        .admin(
            Method::PUT,
            "/__sim/faults",
            Some(&serde_json::to_value(&faults).unwrap()),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let sent = impatient
        .patch(org.api("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/cus_late"))
        .bearer_auth(&org.token)
        .json(&json!({"Customer_Name__c": "Late Lander"}))
        .send()
        .await;
    let error = sent.expect_err("the client gives up before the latency has passed");
    assert!(error.is_timeout(), "{error}");

    // Not visible before the latency has passed...
    let admin = org.sim.admin();
    assert!(admin
        .records("Stripe_Customer__c")
        .await
        .unwrap()
        .is_empty());
    // ...and then it lands, although nobody waits for the answer any more.
    let landed = wait_for("the late write", Duration::from_secs(10), || async {
        let records = admin.records("Stripe_Customer__c").await.ok()?;
        records
            .iter()
            .any(|record| record["Stripe_Customer_ID__c"] == "cus_late")
            .then_some(())
    })
    .await;
    assert!(landed.is_ok(), "{landed:?}");
}
