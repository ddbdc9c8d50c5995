//! `loadgen e2e`: a realistic mix of signed events against a running fleet, then a check of
//! what Salesforce (the simulator) ends up holding.
//!
//! The mix: new payments (`payment_intent.succeeded`, high priority), customer updates
//! (`customer.updated`, low) and subscription status changes
//! (`customer.subscription.updated`, high) for pools of objects that get several versions
//! each. A share of deliveries is sent twice (Stripe retries), and a share of versions is
//! sent after the next version of the same object (Stripe does not order). Requests are
//! due at fixed times (open loop); latencies count from the due time.
//!
//! Afterwards it waits until the simulator holds every expected record and checks: nothing
//! lost, no payment written twice, every pooled object equal to its newest version. It
//! reports acknowledgement and POST-to-record latency (HdrHistogram), throughput and
//! Salesforce calls per 1,000 events, and writes a JSON report.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::LatencySummary;
use crate::stripe::{sign, unix_now, EventFactory, StripeEvent};

/// What to send and where to check.
#[derive(Debug, Clone, clap::Args)]
pub struct E2eLoad {
    /// The ingress webhook URL.
    #[arg(long, default_value = "http://127.0.0.1:8000/webhook/stripe")]
    pub url: String,
    /// The simulator's base URL (for `/__sim/`).
    #[arg(long, default_value = "http://127.0.0.1:7700")]
    pub sim: String,
    /// The secret to sign with.
    #[command(flatten)]
    pub secret: super::SigningSecret,
    /// Events per second (open loop).
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Share of deliveries sent twice.
    #[arg(long, default_value_t = 0.05)]
    pub duplicates: f64,
    /// Share of versions sent after the next version of the same object.
    #[arg(long, default_value_t = 0.1)]
    pub out_of_order: f64,
    /// The mix of event kinds as relative weights:
    /// `payments=W,customers=W,subscriptions=W` (new `payment_intent.succeeded`,
    /// `customer.updated` of pooled customers, `customer.subscription.updated` of pooled
    /// subscriptions).
    #[arg(long, default_value = "payments=2,customers=1,subscriptions=1", value_parser = parse_mix)]
    pub mix: Mix,
    /// How long to wait for Salesforce to hold everything, in seconds.
    #[arg(long, default_value_t = 120)]
    pub settle: u64,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
    /// Write a PNG of POST → record latency over the run (x: seconds, y: ms; grid: 5 s, and a
    /// 1-2-5 step of at least 100 ms).
    #[arg(long)]
    pub chart: Option<std::path::PathBuf>,
}

/// The outcome of a run.
#[derive(Debug, serde::Serialize)]
pub struct E2eReport {
    /// Distinct events generated.
    pub events: usize,
    /// Deliveries sent (duplicates included).
    pub deliveries: usize,
    /// Deliveries answered 2xx.
    pub accepted: usize,
    /// Accepted deliveries per second while sending.
    pub accepted_per_sec: f64,
    /// Acknowledgement latency.
    pub ack_latency: LatencySummary,
    /// POST → first write of the payment's record in Salesforce.
    pub end_to_end: LatencySummary,
    /// Salesforce API calls counted by the simulator during the run.
    pub salesforce_calls: u64,
    /// Calls per 1,000 distinct events.
    pub calls_per_1000_events: f64,
    /// Expected records missing.
    pub lost: usize,
    /// Payments whose record was written more than once.
    pub written_twice: usize,
    /// Pooled objects whose record is not their newest version.
    pub not_newest: usize,
}

/// Shares of each event kind, summing to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// New payments.
    pub payments: f64,
    /// Customer updates.
    pub customers: f64,
    /// Subscription status changes.
    pub subscriptions: f64,
}

/// Parses `payments=2,customers=1,subscriptions=1` into shares.
fn parse_mix(text: &str) -> Result<Mix, String> {
    let (mut payments, mut customers, mut subscriptions) = (0.0, 0.0, 0.0);
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: expected kind=weight"))?;
        let weight: f64 = weight
            .parse()
            .map_err(|_| format!("{part:?}: the weight is not a number"))?;
        if weight < 0.0 {
            return Err(format!("{part:?}: weights are not negative"));
        }
        match kind {
            "payments" => payments = weight,
            "customers" => customers = weight,
            "subscriptions" => subscriptions = weight,
            other => {
                return Err(format!(
                    "{other:?}: kinds are payments, customers, subscriptions"
                ))
            }
        }
    }
    let total = payments + customers + subscriptions;
    if total <= 0.0 {
        return Err("the weights add up to nothing".into());
    }
    Ok(Mix {
        payments: payments / total,
        customers: customers / total,
        subscriptions: subscriptions / total,
    })
}

/// One delivery: the event, and when the POST is due (offset from the start).
struct Delivery {
    event: usize,
    due: Duration,
}

/// Runs the load and the checks.
pub async fn run(load: E2eLoad) -> anyhow::Result<E2eReport> {
    let secret = load.secret.first()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let factory = EventFactory::new();
    let total = usize::try_from(load.rate * load.duration)?;
    let base = unix_now() - 3600;

    // Pools: a tenth as many customers and subscriptions as events, each changing often.
    let pool = (total / 10).max(1);
    let customers: Vec<Value> = (0..pool).map(|_| factory.customer(base)).collect();
    let subscriptions: Vec<Value> = (0..pool)
        .map(|i| factory.subscription(&format!("cus_pool_sub_{i}"), "active", 1000, "usd", base))
        .collect();
    let mut versions: HashMap<String, usize> = HashMap::new();
    let statuses = [
        "active", "past_due", "unpaid", "active", "canceled", "trialing",
    ];
    let mut events: Vec<StripeEvent> = Vec::with_capacity(total);
    let mut kinds = Vec::with_capacity(total);
    for _ in 0..total {
        let roll: f64 = rng.random();
        let event = if roll < load.mix.payments {
            let currency = ["usd", "eur", "jpy", "kwd", "gbp"][rng.random_range(0..5)];
            let customer = format!("cus_pay_{}", events.len());
            let intent = factory.payment_intent(
                &customer,
                crate::stripe::sample_amount(currency, 1),
                currency,
                unix_now(),
                None,
            );
            kinds.push("payment");
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        } else if roll < load.mix.payments + load.mix.customers {
            let mut customer = customers[rng.random_range(0..pool)].clone();
            let id = customer["id"].as_str().unwrap_or_default().to_owned();
            let version = versions.entry(id.clone()).or_insert(0);
            *version += 1;
            customer["email"] = json!(format!("v{version}.{id}@example.com"));
            kinds.push("customer");
            factory.event(
                "customer.updated",
                customer,
                Some(json!({"email": "old@example.com"})),
                base + *version as i64,
            )
        } else {
            let mut subscription = subscriptions[rng.random_range(0..pool)].clone();
            let id = subscription["id"].as_str().unwrap_or_default().to_owned();
            let version = versions.entry(id.clone()).or_insert(0);
            *version += 1;
            subscription["status"] = json!(statuses[*version % statuses.len()]);
            kinds.push("subscription");
            factory.event(
                "customer.subscription.updated",
                subscription,
                Some(json!({"status": "x"})),
                base + *version as i64,
            )
        };
        events.push(event);
    }

    // Send order: in creation order, then some versions swapped with their object's next one.
    let mut order: Vec<usize> = (0..total).collect();
    let mut last_of: HashMap<&str, usize> = HashMap::new();
    for position in 0..total {
        let object = events[order[position]].object_id.as_str();
        if let Some(&previous) = last_of.get(object) {
            if kinds[order[position]] != "payment" && rng.random::<f64>() < load.out_of_order {
                order.swap(previous, position);
            }
        }
        last_of.insert(events[order[position]].object_id.as_str(), position);
    }
    let spacing = Duration::from_secs_f64(1.0 / load.rate as f64);
    let mut deliveries: Vec<Delivery> = order
        .iter()
        .enumerate()
        .map(|(slot, &event)| Delivery {
            event,
            due: spacing * u32::try_from(slot).unwrap_or(u32::MAX),
        })
        .collect();
    let duplicates: Vec<Delivery> = deliveries
        .iter()
        .filter(|_| rng.random::<f64>() < load.duplicates)
        .map(|d| Delivery {
            event: d.event,
            due: d.due + Duration::from_millis(500),
        })
        .collect();
    deliveries.extend(duplicates);
    deliveries.sort_by_key(|d| d.due);

    let http = crate::harness::http_client();
    let calls_before = calls(&http, &load.sim).await?;
    let started = Instant::now();
    let wall_start = common::time::unix_millis();
    let (samples, mut collected) = tokio::sync::mpsc::unbounded_channel::<Option<u64>>();
    let mut first_due: HashMap<usize, i64> = HashMap::new();
    let mut last_progress = Instant::now();
    for (n, delivery) in deliveries.iter().enumerate() {
        let due = started + delivery.due;
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        first_due
            .entry(delivery.event)
            .or_insert(wall_start + i64::try_from(delivery.due.as_millis()).unwrap_or(0));
        let body = events[delivery.event].body();
        let request = http
            .post(&load.url)
            .header("stripe-signature", sign(&secret, unix_now(), &body))
            .body(body);
        let samples = samples.clone();
        tokio::spawn(async move {
            let ok = request
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            let micros = u64::try_from(due.elapsed().as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            // The collector outlives the senders; a failed send only means it stopped.
            samples.send(ok.then_some(micros)).ok();
        });
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            eprintln!(
                "  {n}/{} deliveries sent, {:.0} s",
                deliveries.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(samples);
    let mut acks = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let mut accepted = 0;
    while let Some(sample) = collected.recv().await {
        if let Some(micros) = sample {
            accepted += 1;
            acks.saturating_record(micros);
        }
    }
    let sending = started.elapsed().as_secs_f64();
    eprintln!(
        "sent {} deliveries ({accepted} accepted); waiting for Salesforce to hold everything",
        deliveries.len()
    );

    // Expected final state.
    let mut newest: HashMap<String, &StripeEvent> = HashMap::new();
    for event in &events {
        let current = newest.entry(event.object_id.clone()).or_insert(event);
        if (event.created, &event.id) > (current.created, &current.id) {
            *current = event;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(load.settle);
    let (lost, not_newest) = loop {
        let (lost, not_newest) = compare(&http, &load.sim, &newest).await?;
        if (lost == 0 && not_newest == 0) || Instant::now() > deadline {
            break (lost, not_newest);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let salesforce_calls = calls(&http, &load.sim).await? - calls_before;

    let mut end_to_end = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut written_twice = 0;
    let mut points = Vec::new();
    for (index, event) in events
        .iter()
        .enumerate()
        .filter(|(i, _)| kinds[*i] == "payment")
    {
        let history = get(
            &http,
            &format!(
                "{}/__sim/history/Payment_Transaction__c/{}?by=Stripe_Payment_Intent_ID__c",
                load.sim, event.object_id
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
            end_to_end.saturating_record(u64::try_from((at - due) * 1000).unwrap_or(1).max(1));
            points.push(((due - wall_start) as f64 / 1000.0, (at - due) as f64));
        }
    }
    if let Some(path) = &load.chart {
        std::fs::write(path, super::chart::latency_png(&points, 100.0))?;
    }
    Ok(E2eReport {
        events: events.len(),
        deliveries: deliveries.len(),
        accepted,
        accepted_per_sec: accepted as f64 / sending,
        ack_latency: LatencySummary::from_micros(&acks),
        end_to_end: LatencySummary::from_micros(&end_to_end),
        salesforce_calls,
        calls_per_1000_events: salesforce_calls as f64 * 1000.0 / events.len() as f64,
        lost,
        written_twice,
        not_newest,
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

async fn calls(http: &reqwest::Client, sim: &str) -> anyhow::Result<u64> {
    Ok(get(http, &format!("{sim}/__sim/calls")).await?["total"]
        .as_u64()
        .unwrap_or(0))
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_are_weights() {
        let mix = parse_mix("payments=2,customers=1,subscriptions=1").unwrap();
        assert_eq!(
            (mix.payments, mix.customers, mix.subscriptions),
            (0.5, 0.25, 0.25)
        );
        assert_eq!(parse_mix("customers=1").unwrap().customers, 1.0);
        assert!(parse_mix("refunds=1").is_err());
        assert!(parse_mix("payments=0").is_err());
    }
}
