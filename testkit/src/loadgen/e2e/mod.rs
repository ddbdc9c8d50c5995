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
//!
//! With `--chart` it also draws the run (see [`super::chart`]): every event's POST → record
//! latency by kind, the API calls per second and the limiter's budget, as PNG and SVG.
//!
//! `plan` draws the events and deliveries, `send` sends them, `check` asks the simulator
//! what it holds, `latency` reads the write histories, `mix` parses `--mix`; this module
//! ties them together.

mod check;
mod latency;
mod mix;
mod plan;
mod send;

use std::{path::PathBuf, time::Duration};

use mix::parse_mix;
pub use mix::Mix;

use super::{
    chart::{Budget, LatencyChart},
    LatencySummary,
};

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
    pub report: Option<PathBuf>,
    /// Write a chart of the run to this PNG, and the same chart as SVG beside it (same name,
    /// `.svg`): each event's POST → record latency by kind (x: seconds since the start, y:
    /// ms), Salesforce API calls per second and the limiter's budget.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// The fleet's Salesforce call budget: calls per window (the workers' own variable, so
    /// one environment serves both). Shown on the chart and in the report.
    #[arg(long, env = "SF_CALLS_PER_WINDOW", default_value_t = Budget::default().calls_per_window,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub calls_per_window: u64,
    /// The budget's window in milliseconds (`SF_WINDOW_MS`).
    #[arg(long, env = "SF_WINDOW_MS", default_value_t = Budget::default().window_ms,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window_ms: u64,
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
    /// The call budget the fleet was said to run with (`--calls-per-window`, `--window-ms`).
    pub salesforce_budget: Budget,
}

/// Runs the load and the checks, and draws the chart if asked.
pub async fn run(load: E2eLoad) -> anyhow::Result<E2eReport> {
    let secret = load.secret.first()?;
    let budget = Budget {
        calls_per_window: load.calls_per_window,
        window_ms: load.window_ms,
    };
    let plan = plan::Plan::new(&load)?;
    let http = crate::harness::http_client();
    let calls_before = check::calls(&http, &load.sim).await?;
    let sent = send::send(&load, &secret, &http, &plan).await?;
    eprintln!(
        "sent {} deliveries ({} accepted); waiting for Salesforce to hold everything",
        plan.deliveries.len(),
        sent.accepted
    );
    let settle = Duration::from_secs(load.settle);
    let (lost, not_newest) = check::settle(&http, &load.sim, &plan.events, settle).await?;
    let salesforce_calls = check::calls(&http, &load.sim).await? - calls_before;
    let end_to_end =
        latency::end_to_end(&http, &load.sim, &plan, &sent.first_due, sent.wall_start).await?;
    if let Some(png) = &load.chart {
        let chart = LatencyChart {
            series: end_to_end.series,
            calls_per_second: latency::calls_per_second(&http, &load.sim, sent.wall_start).await?,
            budget,
        };
        let svg = chart.write(png)?;
        eprintln!("chart: {} and {}", png.display(), svg.display());
    }
    let events = plan.events.len();
    Ok(E2eReport {
        events,
        deliveries: plan.deliveries.len(),
        accepted: sent.accepted,
        accepted_per_sec: sent.accepted as f64 / sent.sending_secs,
        ack_latency: LatencySummary::from_micros(&sent.acks),
        end_to_end: LatencySummary::from_micros(&end_to_end.payments),
        salesforce_calls,
        calls_per_1000_events: salesforce_calls as f64 * 1000.0 / events as f64,
        lost,
        written_twice: end_to_end.written_twice,
        not_newest,
        salesforce_budget: budget,
    })
}
