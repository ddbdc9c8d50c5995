//! The checks after sending, against the simulator's `/__sim/` API: wait until Salesforce
//! holds every expected record at its newest version (or the settle time runs out), count
//! what is missing or stale, read each payment's write history for POST → record latency
//! and writes made twice, and count the API calls.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::Value;

use super::plan::{Kind, Plan};
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

/// POST → record latency of the payments, from their write histories.
pub(super) struct EndToEnd {
    /// First write minus the first due time, in microseconds.
    pub histogram: Histogram<u64>,
    /// Payments whose record was written more than once.
    pub written_twice: usize,
    /// (seconds since the start of sending, latency in ms) of each payment, for the chart.
    pub points: Vec<(f64, f64)>,
}

/// Reads the write history of every payment's record.
pub(super) async fn end_to_end(
    http: &reqwest::Client,
    sim: &str,
    plan: &Plan,
    first_due: &HashMap<usize, i64>,
    wall_start: i64,
) -> anyhow::Result<EndToEnd> {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut written_twice = 0;
    let mut points = Vec::new();
    for (index, event) in plan
        .events
        .iter()
        .enumerate()
        .filter(|(i, _)| plan.kinds[*i] == Kind::Payment)
    {
        let history = get(
            http,
            &format!(
                "{sim}/__sim/history/Payment_Transaction__c/{}?by=Stripe_Payment_Intent_ID__c",
                event.object_id
            ),
        )
        .await?;
        let writes = history["writes"].as_array().cloned().unwrap_or_default();
        if writes.len() > 1 {
            written_twice += 1;
        }
        if let (Some(at), Some(due)) = (
            writes.first().and_then(|w| w["at_ms"].as_i64()),
            first_due.get(&index),
        ) {
            histogram.saturating_record(u64::try_from((at - due) * 1000).unwrap_or(1).max(1));
            points.push(((due - wall_start) as f64 / 1000.0, (at - due) as f64));
        }
    }
    Ok(EndToEnd {
        histogram,
        written_twice,
        points,
    })
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
async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
