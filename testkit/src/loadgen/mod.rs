//! The load generator: signed Stripe events at a target rate, with latency percentiles
//! that are free of coordinated omission.
//!
//! Open-loop means requests are due at fixed times (`start + i / rate`) whether or not
//! earlier ones have been answered, and each latency is measured from the time the request
//! was *due*, not from when a free connection finally sent it. A stalled server therefore
//! shows up as the latency its clients would really see.

pub mod chart;
pub mod e2e;
pub mod ingress;

use hdrhistogram::Histogram;

/// The endpoint secret deliveries are signed with: `--secret`, else the first of
/// `STRIPE_WEBHOOK_SECRETS` (the ingress's own variable, so one environment serves both).
#[derive(Debug, Clone, clap::Args)]
pub struct SigningSecret {
    /// Secret to sign with (the first of `STRIPE_WEBHOOK_SECRETS` if not given).
    #[arg(
        long = "secret",
        env = "STRIPE_WEBHOOK_SECRETS",
        value_delimiter = ',',
        num_args = 1
    )]
    secrets: Vec<String>,
}

impl SigningSecret {
    /// The first configured secret.
    pub fn first(&self) -> anyhow::Result<String> {
        self.secrets
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("--secret or STRIPE_WEBHOOK_SECRETS is required"))
    }
}

/// A latency distribution in milliseconds, as the reports print and serialise it:
/// percentiles from an HdrHistogram, so a few slow requests show in p99 and max instead of
/// vanishing in an average.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencySummary {
    /// Number of samples (answered requests, or records found).
    pub count: u64,
    /// Median, in ms.
    pub p50_ms: f64,
    /// 95th percentile, in ms.
    pub p95_ms: f64,
    /// 99th percentile, in ms.
    pub p99_ms: f64,
    /// Slowest sample, in ms.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Summarises a histogram recorded in microseconds.
    pub fn from_micros(histogram: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p95_ms: ms(histogram.value_at_quantile(0.95)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }
}

impl std::fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            self.p50_ms, self.p95_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}
