//! Throughput measurement (`sfsim bench`): starts a simulator in-process and drives it over
//! real HTTP with single-record upserts or 200-record Collections upserts, as the realtime
//! workers do. Not part of the pass/fail suite: timings belong here, not in tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::config::SimConfig;
use crate::error::SimError;
use crate::server::Simulator;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchMode {
    /// `PATCH /sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/{id}`.
    Single,
    /// `PATCH /composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c`, 200 records.
    Collections,
}

/// Benchmark settings.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Kind of request.
    pub mode: BenchMode,
    /// How long to send.
    pub duration: Duration,
    /// Concurrent connections.
    pub concurrency: usize,
}

/// The outcome.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Successful API calls.
    pub calls: u64,
    /// Records written by them.
    pub records: u64,
    /// Failed calls (any non-2xx).
    pub failures: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl BenchReport {
    /// Successful calls per second.
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// Records per second.
    pub fn records_per_second(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The simulator did not start.
    #[error(transparent)]
    Start(#[from] SimError),
    /// An HTTP request failed outright.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The login answer had no token.
    #[error("no access_token in the login answer")]
    NoToken,
}

/// Distinct Collections bodies per worker (50 × 200 external ids, so most upserts update).
const COLLECTION_VARIANTS: u64 = 50;

fn collection_body(worker: usize, variant: u64) -> axum::body::Bytes {
    let records: Vec<Value> = (0..200)
        .map(|i| json!({"attributes": {"type": "Stripe_Customer__c"}, "Stripe_Customer_ID__c": format!("cus_w{worker}_{variant}_{i}"), "Customer_Name__c": "Bench", "Subscription_Status__c": "Active"}))
        .collect();
    axum::body::Bytes::from(json!({"allOrNone": false, "records": records}).to_string())
}

/// Runs the benchmark against a fresh in-process simulator.
pub async fn run(options: BenchOptions) -> Result<BenchReport, BenchError> {
    let config = SimConfig {
        daily_api_limit: u64::MAX / 2,
        ..SimConfig::on_free_port()
    };
    let sim = Simulator::start(config).await?;
    common::telemetry::install_crypto_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let login: Value = client
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .ok_or(BenchError::NoToken)?
        .to_string();
    let base = format!("{}/services/data/v62.0", sim.base_url());
    let counters = Arc::new((AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)));
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut workers = Vec::new();
    for worker in 0..options.concurrency {
        let (client, token, base, counters) = (
            client.clone(),
            token.clone(),
            base.clone(),
            counters.clone(),
        );
        let collection_bodies: Vec<axum::body::Bytes> = match options.mode {
            BenchMode::Single => Vec::new(),
            BenchMode::Collections => (0..COLLECTION_VARIANTS)
                .map(|variant| collection_body(worker, variant))
                .collect(),
        };
        workers.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                n += 1;
                let (request, records) = match options.mode {
                    BenchMode::Single => {
                        // 1 in 4 upserts hits an existing record (update), the rest insert.
                        let key = format!("cus_w{worker}_{}", if n.is_multiple_of(4) { n - 1 } else { n });
                        let url = format!("{base}/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/{key}");
                        (client.patch(url).json(&json!({"Customer_Name__c": "Bench", "Customer_Email__c": "bench@example.com", "Subscription_Status__c": "Active"})), 1)
                    }
                    BenchMode::Collections => {
                        // Bodies are built once per worker so the measurement is about the
                        // simulator, not about serialising JSON in the load generator.
                        let body = collection_bodies[(n % COLLECTION_VARIANTS) as usize].clone();
                        let url = format!("{base}/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c");
                        (client.patch(url).header("content-type", "application/json").body(body), 200)
                    }
                };
                let ok = match request.bearer_auth(&token).send().await {
                    Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    counters.0.fetch_add(1, Ordering::Relaxed);
                    counters.1.fetch_add(records, Ordering::Relaxed);
                } else {
                    counters.2.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        if let Err(error) = worker.await {
            tracing::error!(%error, "A benchmark worker failed.");
        }
    }
    let elapsed = started.elapsed();
    sim.shutdown().await;
    Ok(BenchReport {
        calls: counters.0.load(Ordering::Relaxed),
        records: counters.1.load(Ordering::Relaxed),
        failures: counters.2.load(Ordering::Relaxed),
        elapsed,
    })
}
