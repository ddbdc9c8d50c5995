//! Sending a plan open loop: each POST goes out at its due time whether or not earlier ones
//! were answered, and its acknowledgement latency counts from that due time.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

use super::{plan::Plan, E2eLoad};
use crate::stripe::{sign, unix_now};

/// What sending left behind for the checks.
pub(super) struct Sent {
    /// Deliveries answered 2xx.
    pub accepted: usize,
    /// Acknowledgement latency of the accepted deliveries, in microseconds.
    pub acks: Histogram<u64>,
    /// Seconds from the first due time to the last answer.
    pub sending_secs: f64,
    /// Wall clock (epoch ms) of the start of sending.
    pub wall_start: i64,
    /// For each event (index into the plan), when its first delivery was due (epoch ms).
    pub first_due: HashMap<usize, i64>,
}

/// Sends every delivery of `plan` to `load.url`, signed with `secret`, and waits for all
/// answers. Prints a progress line every second.
pub(super) async fn send(
    load: &E2eLoad,
    secret: &str,
    http: &reqwest::Client,
    plan: &Plan,
) -> anyhow::Result<Sent> {
    let deliveries = &plan.deliveries;
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
        let body = plan.events[delivery.event].body();
        let request = http
            .post(&load.url)
            .header("stripe-signature", sign(secret, unix_now(), &body))
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
    Ok(Sent {
        accepted,
        acks,
        sending_secs: started.elapsed().as_secs_f64(),
        wall_start,
        first_due,
    })
}
