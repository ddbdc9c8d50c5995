//! `loadgen ingress`: drives `POST /webhook/stripe` with distinct, correctly signed events
//! and checks afterwards that every 2xx is matched by a message in the queue.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tokio::sync::{mpsc, Semaphore};

use super::LatencySummary;
use crate::stripe::{sign, unix_now, EventFactory, CURRENCIES};

/// What to send and how fast.
#[derive(Debug, Clone, clap::Args)]
pub struct IngressLoad {
    /// The webhook URL.
    #[arg(long, default_value = "http://127.0.0.1:8000/webhook/stripe")]
    pub url: String,
    /// The secret to sign with.
    #[command(flatten)]
    pub secret: super::SigningSecret,
    /// Requests per second; 0 sends as fast as `--connections` allow (closed loop).
    #[arg(long, default_value_t = 2000)]
    pub rate: u64,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 256)]
    pub connections: usize,
    /// Queue to check afterwards (uses `AWS_ENDPOINT_URL_SQS` and friends); it should be
    /// empty when the run starts, or be purged with `--purge`.
    #[arg(long, env = "SQS_QUEUE_URL")]
    pub queue_url: Option<String>,
    /// Purge the queue before the run.
    #[arg(long)]
    pub purge: bool,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
}

/// The outcome of a run.
#[derive(Debug, serde::Serialize)]
pub struct IngressReport {
    /// Requests sent.
    pub sent: u64,
    /// Answers by HTTP status (0 = transport error).
    pub statuses: BTreeMap<u16, u64>,
    /// Seconds from the first request due to the last answer.
    pub elapsed_secs: f64,
    /// Answered 2xx per second.
    pub accepted_per_sec: f64,
    /// Acknowledgement latency of 2xx answers, from the time each request was due.
    pub latency: LatencySummary,
    /// Messages found in the queue afterwards, if a queue was given.
    pub queued: Option<u64>,
}

/// Runs the load and returns the report.
pub async fn run(load: IngressLoad) -> anyhow::Result<IngressReport> {
    let secret = load.secret.first()?;
    let sqs = match &load.queue_url {
        Some(_) => Some(common::sqs::client_from_env(Default::default()).await),
        None => None,
    };
    if let (Some(sqs), Some(url), true) = (&sqs, &load.queue_url, load.purge) {
        sqs.purge_queue().queue_url(url).send().await?;
    }

    // Closed-loop runs get enough distinct events for 15,000 requests per second.
    let total = if load.rate == 0 { 15_000 } else { load.rate } * load.duration;
    let bodies = Arc::new(prepare_bodies(&secret, total));
    eprintln!("prepared {} signed events", bodies.len());

    let client = crate::harness::http_client();
    let slots = Arc::new(Semaphore::new(load.connections));
    let (samples, mut collected) = mpsc::unbounded_channel::<(u16, u64)>();
    let started = Instant::now();
    let stop_at = started + Duration::from_secs(load.duration);
    let mut sent = 0u64;
    while sent < bodies.len() as u64 {
        let due = if load.rate == 0 {
            Instant::now()
        } else {
            started + Duration::from_secs_f64(sent as f64 / load.rate as f64)
        };
        if due >= stop_at || Instant::now() >= stop_at {
            break;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = slots.clone().acquire_owned().await?;
        let (body, header) = bodies[usize::try_from(sent)?].clone();
        let request = client
            .post(&load.url)
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(body);
        let samples = samples.clone();
        tokio::spawn(async move {
            let status = match request.send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            drop(permit);
            // The collector outlives every sender; a failed send only means it stopped early.
            samples.send((status, micros)).ok();
        });
        sent += 1;
        if sent.is_multiple_of(5000) {
            eprintln!(
                "  {sent} sent after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(samples);

    let mut histogram = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let mut statuses = BTreeMap::new();
    while let Some((status, micros)) = collected.recv().await {
        *statuses.entry(status).or_insert(0) += 1;
        if (200..300).contains(&status) {
            histogram.saturating_record(micros.max(1));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = histogram.len();
    let queued = match (&sqs, &load.queue_url) {
        (Some(sqs), Some(url)) => Some(count_messages(sqs, url, accepted).await?),
        _ => None,
    };
    Ok(IngressReport {
        sent,
        statuses,
        elapsed_secs: elapsed,
        accepted_per_sec: accepted as f64 / elapsed,
        latency: LatencySummary::from_micros(&histogram),
        queued,
    })
}

/// Distinct events with their signature headers, signed now (valid for the 300 s tolerance).
fn prepare_bodies(secret: &str, count: u64) -> Vec<(String, String)> {
    let factory = EventFactory::new();
    let now = unix_now();
    (0..count)
        .map(|i| {
            let currency = CURRENCIES[usize::try_from(i).unwrap_or(0) % CURRENCIES.len()];
            let customer = factory.customer(now);
            let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
            let event = if i % 2 == 0 {
                factory.event("customer.updated", customer, None, now)
            } else {
                let amount = crate::stripe::sample_amount(currency, 1);
                let intent = factory.payment_intent(&customer_id, amount, currency, now, None);
                factory.event("payment_intent.succeeded", intent, None, now)
            };
            let body = serde_json::to_string(&event.json).unwrap_or_default();
            let header = sign(secret, now, &body);
            (body, header)
        })
        .collect()
}

/// Polls the queue's message count until it reaches `expected` or stops changing.
async fn count_messages(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    expected: u64,
) -> anyhow::Result<u64> {
    let mut last = u64::MAX;
    let mut stable_since = Instant::now();
    loop {
        let output = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await?;
        let count = output
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                    .cloned()
            })
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if count == expected {
            return Ok(count);
        }
        if count != last {
            last = count;
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_secs(5) {
            return Ok(count);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
