//! The checks after sending, against the simulator's `/__sim/` API: wait until Salesforce
//! holds every expected record at its newest version (or the settle time runs out), count
//! what is missing or stale, and count the API calls.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::stripe::StripeEvent;

/// Waits up to `settle` for every object to be held at its newest event; returns the
/// expected records still missing and the pooled objects not at their newest version.
pub(super) async fn settle(
    http: &reqwest::Client,
    sim: &str,
    events: &[StripeEvent],
    settle: Duration,
) -> anyhow::Result<(usize, usize)> {
    let mut newest: HashMap<String, &StripeEvent> = HashMap::new();
    for event in events {
        let current = newest.entry(event.object_id.clone()).or_insert(event);
        if (event.created, &event.id) > (current.created, &current.id) {
            *current = event;
        }
    }
    let deadline = Instant::now() + settle;
    loop {
        let (lost, not_newest) = compare(http, sim, &newest).await?;
        if (lost == 0 && not_newest == 0) || Instant::now() > deadline {
            return Ok((lost, not_newest));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Counts expected records that are missing, and pooled objects not at their newest version.
async fn compare(
    http: &reqwest::Client,
    sim: &str,
    newest: &HashMap<String, &StripeEvent>,
) -> anyhow::Result<(usize, usize)> {
    let mut index: HashMap<String, Value> = HashMap::new();
    for (object, field) in [
        ("Payment_Transaction__c", "Stripe_Payment_Intent_ID__c"),
        ("Stripe_Customer__c", "Stripe_Customer_ID__c"),
        ("Stripe_Subscription__c", "Stripe_Subscription_ID__c"),
    ] {
        let records = get(http, &format!("{sim}/__sim/records/{object}")).await?;
        for record in records["records"].as_array().cloned().unwrap_or_default() {
            if let Some(id) = record[field].as_str() {
                index.insert(id.to_owned(), record.clone());
            }
        }
    }
    let (mut lost, mut not_newest) = (0, 0);
    for (object_id, event) in newest {
        let Some(record) = index.get(object_id) else {
            lost += 1;
            continue;
        };
        let object = &event.json["data"]["object"];
        let matches = match event.event_type.as_str() {
            "customer.updated" => record["Customer_Email__c"] == object["email"],
            "customer.subscription.updated" => record["Status__c"] == object["status"],
            _ => true,
        };
        if !matches {
            not_newest += 1;
        }
    }
    Ok((lost, not_newest))
}

/// Salesforce API calls the simulator has counted so far.
pub(super) async fn calls(http: &reqwest::Client, sim: &str) -> anyhow::Result<u64> {
    Ok(get(http, &format!("{sim}/__sim/calls")).await?["total"]
        .as_u64()
        .unwrap_or(0))
}

/// `GET url` as JSON, failing on a non-2xx answer.
pub(super) async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// `GET url` as JSON, or `None` if the simulator answers 404 (no such record, or a
/// simulator without that endpoint); fails on other non-2xx answers.
pub(super) async fn get_if_found(
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<Option<Value>> {
    let response = http.get(url).send().await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    Ok(Some(response.error_for_status()?.json().await?))
}
