//! The circuit breaker shared by every replica (`lua/circuit_breaker.lua`): after
//! consecutive failed Salesforce calls, all replicas stop calling for a cool-down, then one
//! probe call decides whether to close it again. Events wait in their streams.

use std::time::Duration;

use common::time::unix_millis;

use crate::keys::KeySpace;
use crate::store::RedisConnection;
use tokio_util::sync::CancellationToken;

use crate::telemetry;

const BREAKER: &str = include_str!("../../../lua/circuit_breaker.lua");

/// What the breaker says about the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Call freely.
    Closed,
    /// You are the one probe allowed after the cool-down.
    Probe,
    /// Do not call for this long.
    Open(Duration),
}

/// Handle on the shared breaker.
#[derive(Clone)]
pub struct CircuitBreaker {
    conn: RedisConnection,
    keys: KeySpace,
    script: redis::Script,
    threshold: u32,
    cooldown: Duration,
    caller: String,
}

impl CircuitBreaker {
    /// Opens after `threshold` consecutive failures, for `cooldown`.
    pub fn new(
        conn: RedisConnection,
        keys: KeySpace,
        threshold: u32,
        cooldown: Duration,
        caller: &str,
    ) -> Self {
        Self {
            conn,
            keys,
            script: redis::Script::new(BREAKER),
            threshold,
            cooldown,
            caller: caller.to_owned(),
        }
    }

    async fn run(&self, op: &str) -> redis::RedisResult<(String, i64)> {
        let mut conn = self.conn.clone();
        self.script
            .key(self.keys.breaker())
            .key(self.keys.breaker_probe())
            .arg(op)
            .arg(unix_millis())
            .arg(self.threshold)
            .arg(self.cooldown.as_millis() as u64)
            .arg(&self.caller)
            .invoke_async(&mut conn)
            .await
    }

    /// The breaker's answer for the next call.
    pub async fn state(&self) -> redis::RedisResult<BreakerState> {
        let (state, wait) = self.run("admit").await?;
        Ok(match state.as_str() {
            "closed" => BreakerState::Closed,
            "probe" => BreakerState::Probe,
            _ => BreakerState::Open(Duration::from_millis(
                u64::try_from(wait).unwrap_or(250).max(1),
            )),
        })
    }

    /// Waits until a call may be made. Returns false on shutdown.
    pub async fn wait_until_closed(&self, shutdown: &CancellationToken) -> bool {
        loop {
            let wait = match self.state().await {
                Ok(BreakerState::Closed) => {
                    metrics::gauge!(telemetry::BREAKER_OPEN).set(0.0);
                    return true;
                }
                Ok(BreakerState::Probe) => {
                    tracing::info!("Circuit breaker half-open: this replica sends the probe call.");
                    return true;
                }
                Ok(BreakerState::Open(wait)) => {
                    metrics::gauge!(telemetry::BREAKER_OPEN).set(1.0);
                    wait
                }
                Err(error) => {
                    tracing::warn!(%error, "Circuit breaker state unavailable; waiting.");
                    Duration::from_millis(200)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(wait.min(Duration::from_secs(5))) => {}
            }
        }
    }

    /// Reports a call that reached Salesforce and got an answer it could act on.
    pub async fn record_success(&self) {
        if let Err(error) = self.run("success").await {
            tracing::debug!(%error, "Could not record a breaker success.");
        }
    }

    /// Reports a call that failed as a whole (5xx, timeout, connection).
    pub async fn record_failure(&self) {
        match self.run("failure").await {
            Ok((state, _)) if state == "open" => {
                metrics::counter!(telemetry::BREAKER_OPENED).increment(1);
                tracing::warn!(
                    cooldown_ms = self.cooldown.as_millis() as u64,
                    "Circuit breaker open: all replicas pause Salesforce calls."
                );
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "Could not record a breaker failure."),
        }
    }
}
