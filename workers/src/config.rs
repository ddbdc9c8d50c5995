//! Configuration of the worker roles: clap structs read from the environment (or flags)
//! once at start-up, each default written once, in its attribute. [`crate::cli::Cli`]
//! assembles them per subcommand: [`FleetConfig`] for every role and operator command,
//! [`BridgeConfig`] for the bridge, [`crate::consumer::ConsumerConfig`] (with
//! [`SalesforceConfig`]) for realtime and bulk, and each consumer's own settings.
//! Checks across settings ([`BridgeConfig::validate`] and the like) run in `main` before
//! anything starts.

mod salesforce;
mod stripe;

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use common::config::{positive, positive_count, positive_secs, ConfigError};

use crate::bridge::routing::RoutingRules;

pub use salesforce::{AuthFlow, SalesforceConfig, SigningKey};
pub use stripe::{StripeConfig, LIVE_MODE_RATE, TEST_MODE_RATE};

/// Settings every worker role and operator command shares: where Redis is, the key
/// prefix, how long records are kept, where to serve metrics, and this replica's name.
#[derive(Debug, Clone, Args)]
pub struct FleetConfig {
    /// The fleet's Redis (`redis://host:port`).
    #[arg(long = "redis-url", env = "REDIS_URL")]
    pub redis_url: String,
    /// Keys are `{prefix}:...`; the prefix is their hash tag, so it must not contain braces.
    #[arg(
        long = "redis-key-prefix",
        env = "REDIS_KEY_PREFIX",
        default_value = "fleet",
        value_parser = key_prefix
    )]
    pub key_prefix: String,
    /// How many partitions Stripe events are spread over (each its own hash tag, so a
    /// Redis Cluster spreads them over its nodes). Fixed per deployment: changing it needs
    /// the streams drained first (README, "Partitions").
    #[arg(
        long = "partitions",
        env = "PARTITIONS",
        default_value_t = crate::keys::DEFAULT_PARTITIONS,
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    pub partitions: u16,
    /// Where a worker role serves `/metrics` and its health endpoints.
    #[arg(
        long = "metrics-addr",
        env = "METRICS_ADDR",
        default_value = "0.0.0.0:9100"
    )]
    pub metrics_addr: SocketAddr,
    /// This replica's consumer name (default: host name and pid).
    #[arg(
        long = "worker-id",
        env = "WORKER_ID",
        default_value_t = default_worker_id(),
        hide_default_value = true
    )]
    pub worker_id: String,
    /// Seconds an event id is remembered: the bridge's dedupe, applied markers and object
    /// versions (7 days, longer than Stripe's 3 days of retries).
    #[arg(
        long = "dedupe-window-secs",
        env = "DEDUPE_WINDOW_SECS",
        default_value = "604800",
        value_parser = positive_secs
    )]
    pub dedupe_window: Duration,
    /// Seconds an event's lifecycle (status) record is kept.
    #[arg(
        long = "lifecycle-ttl-secs",
        env = "LIFECYCLE_TTL_SECS",
        default_value = "604800",
        value_parser = positive_secs
    )]
    pub lifecycle_retention: Duration,
}

impl FleetConfig {
    /// The fleet's key layout: `REDIS_KEY_PREFIX` spread over `PARTITIONS` partitions.
    pub fn keys(&self) -> crate::keys::KeySpace {
        crate::keys::KeySpace::partitioned(&self.key_prefix, self.partitions)
    }
}

/// `REDIS_KEY_PREFIX`: becomes the hash tag `{prefix}`, so braces would break it.
fn key_prefix(text: &str) -> Result<String, String> {
    if text.contains(['{', '}']) {
        Err("must not contain braces (the prefix becomes the hash tag)".into())
    } else {
        Ok(text.to_owned())
    }
}

/// Host name plus pid: unique per replica on one host and readable in `XINFO CONSUMERS`.
fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Settings of `workers bridge`.
#[derive(Debug, Clone, Args)]
pub struct BridgeConfig {
    /// The SQS queue the ingress fills.
    #[arg(long = "sqs-queue-url", env = "SQS_QUEUE_URL")]
    pub queue_url: String,
    /// Receive loops per replica. SQS answers a receive as soon as messages are available,
    /// often with fewer than 10, so one loop moves about 10 messages per round trip at best
    /// (receive, enqueue, delete); 8 loops keep up with 2,000 events/s.
    #[arg(
        long = "bridge-concurrency",
        env = "BRIDGE_CONCURRENCY",
        default_value = "8",
        value_parser = positive_count
    )]
    pub concurrency: usize,
    /// Long-poll seconds per receive (at most 20, SQS's limit).
    #[arg(
        long = "sqs-wait-secs",
        env = "SQS_WAIT_SECS",
        default_value = "10",
        value_parser = wait_secs
    )]
    pub wait_time: Duration,
    /// Visibility timeout in seconds for received messages (default: the queue's own).
    #[arg(
        long = "sqs-visibility-timeout-secs",
        env = "SQS_VISIBILITY_TIMEOUT_SECS",
        value_parser = positive_secs
    )]
    pub visibility_timeout: Option<Duration>,
    /// Stop receiving while a stream holds this many entries.
    #[arg(
        long = "backlog-high-water",
        env = "BACKLOG_HIGH_WATER",
        default_value = "50000",
        value_parser = positive
    )]
    pub backlog_high_water: u64,
    /// Resume receiving below this many entries (default: half the high-water mark).
    #[arg(long = "backlog-low-water", env = "BACKLOG_LOW_WATER")]
    pub backlog_low_water: Option<u64>,
    /// Routing rules, a TOML file read at start (default: the built-in rules,
    /// `workers/routing.default.toml`).
    #[arg(long = "routing-file", env = "ROUTING_FILE", value_parser = routing_file)]
    pub routing_file: Option<RoutingRules>,
    /// Replicas that must hold an event before its SQS message is deleted (`WAIT`): 0
    /// trusts the primary's acknowledgement; 1 survives the primary failing before it
    /// replicated (README, "Redis Cluster").
    #[arg(
        long = "bridge-wait-replicas",
        env = "BRIDGE_WAIT_REPLICAS",
        default_value = "0"
    )]
    pub wait_replicas: u32,
    /// How long the bridge waits for those replicas before it leaves the message in SQS
    /// (it comes back and the enqueue, deduplicated, is confirmed again).
    #[arg(
        long = "bridge-wait-timeout-ms",
        env = "BRIDGE_WAIT_TIMEOUT_MS",
        default_value = "1000",
        value_parser = common::config::positive_millis
    )]
    pub wait_timeout: Duration,
}

impl BridgeConfig {
    /// Checks the settings against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.low_water() >= self.backlog_high_water {
            return Err(ConfigError::new(
                "BACKLOG_LOW_WATER",
                "must be below BACKLOG_HIGH_WATER",
            ));
        }
        Ok(())
    }

    /// Where receiving resumes: `BACKLOG_LOW_WATER`, else half the high-water mark.
    pub fn low_water(&self) -> u64 {
        self.backlog_low_water
            .unwrap_or(self.backlog_high_water / 2)
    }

    /// The routing rules: `ROUTING_FILE`'s, else the built-in ones.
    pub fn routing(&self) -> RoutingRules {
        self.routing_file
            .clone()
            .unwrap_or_else(RoutingRules::builtin)
    }
}

/// `SQS_WAIT_SECS`: 0 to 20 seconds.
fn wait_secs(text: &str) -> Result<Duration, String> {
    let secs: u64 = text
        .trim()
        .parse()
        .map_err(|e| format!("not a whole number: {e}"))?;
    if secs > 20 {
        return Err("SQS allows at most 20 seconds".into());
    }
    Ok(Duration::from_secs(secs))
}

/// `ROUTING_FILE`: read and checked at start.
pub(crate) fn routing_file(path: &str) -> Result<RoutingRules, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    RoutingRules::from_toml(&text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The bridge's settings as one command, for parsing in tests.
    #[derive(Debug, Parser)]
    struct Bridge {
        #[command(flatten)]
        fleet: FleetConfig,
        #[command(flatten)]
        bridge: BridgeConfig,
    }

    fn bridge(vars: &[(&str, &str)]) -> Result<Bridge, String> {
        let mut all = vec![("REDIS_URL", "redis://x"), ("SQS_QUEUE_URL", "http://q")];
        all.extend_from_slice(vars);
        let parsed: Bridge = common::config::parse_vars(&all).map_err(|e| e.to_string())?;
        parsed.bridge.validate().map_err(|e| e.to_string())?;
        Ok(parsed)
    }

    #[test]
    fn defaults_follow_the_documentation() {
        let parsed = bridge(&[]).unwrap();
        assert_eq!(parsed.fleet.key_prefix, "fleet");
        assert_eq!(parsed.fleet.metrics_addr.port(), 9100);
        assert!(parsed.fleet.worker_id.contains('-'));
        assert_eq!(parsed.fleet.dedupe_window, Duration::from_secs(7 * 86_400));
        assert_eq!(parsed.bridge.concurrency, 8);
        assert_eq!(parsed.bridge.wait_time, Duration::from_secs(10));
        assert_eq!(parsed.bridge.visibility_timeout, None);
        assert_eq!(parsed.bridge.backlog_high_water, 50_000);
        assert_eq!(parsed.bridge.low_water(), 25_000);
        let low = bridge(&[("BACKLOG_HIGH_WATER", "1000")]).unwrap();
        assert_eq!(low.bridge.low_water(), 500);
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (var, value) in [
            ("REDIS_KEY_PREFIX", "{fleet}"),
            ("SQS_WAIT_SECS", "21"),
            ("BRIDGE_CONCURRENCY", "0"),
            ("BACKLOG_LOW_WATER", "60000"),
            ("DEDUPE_WINDOW_SECS", "0"),
            ("ROUTING_FILE", "/nonexistent/routing.toml"),
        ] {
            let error = bridge(&[(var, value)]).unwrap_err();
            assert!(error.contains(var), "{var}: {error}");
        }
        let error = common::config::parse_vars::<Bridge>(&[("SQS_QUEUE_URL", "http://q")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("REDIS_URL"), "{error}");
    }
}
