//! Configuration of the worker roles, read once from the environment.

use std::{net::SocketAddr, time::Duration};

use common::config::{ConfigError, Env};

use crate::bridge::routing::RoutingRules;

/// Settings every worker role shares: where Redis is, the key prefix, where to serve
/// metrics, and this replica's consumer name.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX` (default `fleet`): keys are `{prefix}:...`.
    pub key_prefix: String,
    /// `METRICS_ADDR` (default `0.0.0.0:9100`): `/metrics` and `/health`.
    pub metrics_addr: SocketAddr,
    /// `WORKER_ID`, else host name and pid: this replica's consumer name.
    pub worker_id: String,
}

impl FleetConfig {
    /// Reads the shared settings.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let key_prefix = env
            .get("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| "fleet".to_owned());
        if key_prefix.contains(['{', '}']) {
            return Err(ConfigError::new(
                "REDIS_KEY_PREFIX",
                "must not contain braces (the prefix becomes the hash tag)",
            ));
        }
        Ok(Self {
            redis_url: env.required("REDIS_URL", "redis://host:port")?,
            key_prefix,
            metrics_addr: env.parsed("METRICS_ADDR", SocketAddr::from(([0, 0, 0, 0], 9100)))?,
            worker_id: env.get("WORKER_ID").unwrap_or_else(default_worker_id),
        })
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
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// `SQS_QUEUE_URL`.
    pub queue_url: String,
    /// `BRIDGE_CONCURRENCY` (default 4): receive loops running at once.
    pub concurrency: usize,
    /// `SQS_WAIT_SECS` (default 10, at most 20): long-poll duration.
    pub wait_time: Duration,
    /// `SQS_VISIBILITY_TIMEOUT_SECS`: override of the queue's visibility timeout.
    pub visibility_timeout: Option<Duration>,
    /// `DEDUPE_WINDOW_SECS` (default 7 days, longer than Stripe's 3 days of retries).
    pub dedupe_window: Duration,
    /// `LIFECYCLE_TTL_SECS` (default 7 days): how long status records are kept.
    pub lifecycle_retention: Duration,
    /// `BACKLOG_HIGH_WATER` (default 50000): stop receiving when a stream is this long.
    pub backlog_high_water: u64,
    /// `BACKLOG_LOW_WATER` (default half the high-water mark): resume below this.
    pub backlog_low_water: u64,
    /// `ROUTING_FILE`: routing rules (TOML); built-in default when unset.
    pub routing: RoutingRules,
}

impl BridgeConfig {
    /// Reads the bridge settings.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let wait_secs = env.parsed("SQS_WAIT_SECS", 10u64)?;
        if wait_secs > 20 {
            return Err(ConfigError::new(
                "SQS_WAIT_SECS",
                "SQS allows at most 20 seconds",
            ));
        }
        let high_water = env.positive("BACKLOG_HIGH_WATER", 50_000)?;
        let low_water = env.parsed("BACKLOG_LOW_WATER", high_water / 2)?;
        if low_water >= high_water {
            return Err(ConfigError::new(
                "BACKLOG_LOW_WATER",
                "must be below BACKLOG_HIGH_WATER",
            ));
        }
        let routing = match env.get("ROUTING_FILE") {
            None => RoutingRules::builtin(),
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::new("ROUTING_FILE", format!("cannot read {path}: {e}"))
                })?;
                RoutingRules::from_toml(&text)
                    .map_err(|e| ConfigError::new("ROUTING_FILE", e.to_string()))?
            }
        };
        Ok(Self {
            queue_url: env.required("SQS_QUEUE_URL", "the queue's URL")?,
            concurrency: env.positive_usize("BRIDGE_CONCURRENCY", 4)?,
            wait_time: Duration::from_secs(wait_secs),
            visibility_timeout: env
                .get("SQS_VISIBILITY_TIMEOUT_SECS")
                .map(|_| env.secs("SQS_VISIBILITY_TIMEOUT_SECS", 30))
                .transpose()?,
            dedupe_window: env.secs("DEDUPE_WINDOW_SECS", 7 * 86_400)?,
            lifecycle_retention: env.secs("LIFECYCLE_TTL_SECS", 7 * 86_400)?,
            backlog_high_water: high_water,
            backlog_low_water: low_water,
            routing,
        })
    }
}
