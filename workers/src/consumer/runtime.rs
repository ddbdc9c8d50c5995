//! Everything a consumer replica needs, built once from the configuration: the Redis
//! connection, the Salesforce client behind the global limiter, the breaker, the ledger,
//! the mapping; and the background task that puts due retries back on their streams.

use std::{sync::Arc, time::Duration};

use common::config::{ConfigError, Env};
use salesforce_client::bulk::PollSchedule;
use salesforce_client::{
    jwt::AssertionSigner, ClientCredentials, Grant, SalesforceClient, SalesforceSettings,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{Pipeline, RecordWriter, RetrySchedule, StreamReader};
use crate::{
    backoff::{outage_backoff, pause},
    bulk::BulkWriter,
    config::FleetConfig,
    guard::{CallRate, CircuitBreaker, DailyBudget, SlidingWindowLimiter},
    keys::KeySpace,
    mapping::Mapping,
    store::{self, BulkJobStore, EventLedger, KnownRecords, Priority},
};

/// Settings shared by the realtime and bulk consumers.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Salesforce endpoint and credentials (`SALESFORCE_*`).
    pub salesforce: SalesforceSettings,
    /// `MAPPING_FILE`, else the built-in mapping.
    pub mapping_file: Option<String>,
    /// `RETRY_DELAYS_SECS` (default `2,4,8,16,32`).
    pub retry: RetrySchedule,
    /// `SF_CALLS_PER_WINDOW` (default 25) calls per `SF_WINDOW_MS` (default 1000), all replicas together.
    pub calls_per_window: u64,
    /// The limiter's window.
    pub window: Duration,
    /// `SF_DAILY_RESERVE_LOW` (0.8) / `SF_DAILY_RESERVE_HIGH` (0.95).
    pub budget: DailyBudget,
    /// `BREAKER_THRESHOLD` (5) consecutive failed calls open the breaker for `BREAKER_COOLDOWN_MS` (5000).
    pub breaker_threshold: u32,
    /// The breaker's cool-down.
    pub breaker_cooldown: Duration,
    /// `CLAIM_TTL_MS` (30000): how long an object claim outlives a crashed worker.
    pub claim_ttl: Duration,
    /// `RECLAIM_IDLE_MS` (60000): entries pending this long are taken over from dead replicas.
    pub reclaim_idle: Duration,
    /// `DEDUPE_WINDOW_SECS` (7 days): how long applied markers and object versions are kept.
    pub dedupe_window: Duration,
    /// `LIFECYCLE_TTL_SECS` (7 days).
    pub lifecycle_retention: Duration,
}

impl ConsumerConfig {
    /// Reads the shared consumer settings.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let retry = RetrySchedule::parse(
            &env.get("RETRY_DELAYS_SECS")
                .unwrap_or_else(|| "2,4,8,16,32".into()),
        )
        .map_err(|e| ConfigError::new("RETRY_DELAYS_SECS", e))?;
        let fraction = |name: &str, default: f64| -> Result<f64, ConfigError> {
            let value: f64 = env.parsed(name, default)?;
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError::new(name, "must be between 0 and 1"))
            }
        };
        let claim_ttl = env.millis("CLAIM_TTL_MS", 30_000)?;
        let reclaim_idle = env.millis("RECLAIM_IDLE_MS", 60_000)?;
        if reclaim_idle <= claim_ttl {
            return Err(ConfigError::new(
                "RECLAIM_IDLE_MS",
                "must be longer than CLAIM_TTL_MS",
            ));
        }
        Ok(Self {
            salesforce: SalesforceSettings {
                credentials: ClientCredentials {
                    login_url: env.required(
                        "SALESFORCE_LOGIN_URL",
                        "the org's My Domain URL or the simulator",
                    )?,
                    client_id: env
                        .required("SALESFORCE_CLIENT_ID", "the Connected App's consumer key")?,
                    grant: grant_from_env(env)?,
                },
                api_version: env
                    .get("SALESFORCE_API_VERSION")
                    .unwrap_or_else(|| "v62.0".into()),
                request_timeout: Duration::from_millis(
                    env.positive("SALESFORCE_TIMEOUT_MS", 30_000)?,
                ),
                token_lifetime: env.secs("SALESFORCE_TOKEN_TTL_SECS", 3600)?,
            },
            mapping_file: env.get("MAPPING_FILE"),
            retry,
            calls_per_window: env.positive("SF_CALLS_PER_WINDOW", 25)?,
            window: Duration::from_millis(env.positive("SF_WINDOW_MS", 1000)?),
            budget: DailyBudget {
                low_reserve: fraction("SF_DAILY_RESERVE_LOW", 0.8)?,
                high_reserve: fraction("SF_DAILY_RESERVE_HIGH", 0.95)?,
            },
            breaker_threshold: u32::try_from(env.positive("BREAKER_THRESHOLD", 5)?)
                .unwrap_or(u32::MAX),
            breaker_cooldown: Duration::from_millis(env.positive("BREAKER_COOLDOWN_MS", 5000)?),
            claim_ttl,
            reclaim_idle,
            dedupe_window: env.secs("DEDUPE_WINDOW_SECS", 7 * 86_400)?,
            lifecycle_retention: env.secs("LIFECYCLE_TTL_SECS", 7 * 86_400)?,
        })
    }
}

/// `SALESFORCE_AUTH`: `client_credentials` (default, needs `SALESFORCE_CLIENT_SECRET`) or
/// `jwt` (needs `SALESFORCE_USERNAME` and `SALESFORCE_JWT_KEY_FILE`, a PKCS#8 PEM; the
/// assertion's audience is `SALESFORCE_JWT_AUDIENCE`, default `https://login.salesforce.com`).
fn grant_from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Grant, ConfigError> {
    match env
        .get("SALESFORCE_AUTH")
        .as_deref()
        .unwrap_or("client_credentials")
    {
        "client_credentials" => Ok(Grant::ClientSecret(env.required(
            "SALESFORCE_CLIENT_SECRET",
            "the Connected App's consumer secret",
        )?)),
        "jwt" => {
            let path = env.required(
                "SALESFORCE_JWT_KEY_FILE",
                "the Connected App's private key (PKCS#8 PEM)",
            )?;
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::new(
                    "SALESFORCE_JWT_KEY_FILE",
                    format!("cannot read {path}: {e}"),
                )
            })?;
            let signer = AssertionSigner::from_pem(&pem)
                .map_err(|e| ConfigError::new("SALESFORCE_JWT_KEY_FILE", e.to_string()))?;
            Ok(Grant::JwtBearer {
                username: env.required(
                    "SALESFORCE_USERNAME",
                    "the integration user for the JWT bearer flow",
                )?,
                audience: env
                    .get("SALESFORCE_JWT_AUDIENCE")
                    .unwrap_or_else(|| "https://login.salesforce.com".into()),
                signer: Arc::new(signer),
            })
        }
        other => Err(ConfigError::new(
            "SALESFORCE_AUTH",
            format!("{other:?}: use client_credentials or jwt"),
        )),
    }
}

/// The parts of one consumer replica.
///
/// The fields are private: a role reaches Redis only through the typed stores these parts
/// hold, never with a connection of its own.
pub struct ConsumerRuntime {
    reader: StreamReader,
    pipeline: Pipeline,
    writer: RecordWriter,
    client: SalesforceClient,
    ledger: EventLedger,
    keys: KeySpace,
    conn: redis::aio::ConnectionManager,
}

impl ConsumerRuntime {
    /// Connects and builds everything for a consumer of `priority`'s stream. Waits for the
    /// call budget end when `shutdown` is cancelled.
    pub async fn build(
        fleet: &FleetConfig,
        config: &ConsumerConfig,
        priority: Priority,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Self> {
        let mapping = Arc::new(match &config.mapping_file {
            Some(path) => Mapping::from_file(std::path::Path::new(path))?,
            None => Mapping::builtin(),
        });
        let keys = KeySpace::new(&fleet.key_prefix);
        let conn = store::connect(&fleet.redis_url)?;
        let limiter = SlidingWindowLimiter::new(
            conn.clone(),
            keys.clone(),
            CallRate {
                calls: config.calls_per_window,
                window: config.window,
            },
            priority,
            config.budget,
            &fleet.worker_id,
            shutdown.clone(),
        );
        let client = SalesforceClient::new(
            config.salesforce.clone(),
            store::coordination(conn.clone(), &keys, limiter),
        )?;
        let breaker = CircuitBreaker::new(
            conn.clone(),
            keys.clone(),
            config.breaker_threshold,
            config.breaker_cooldown,
            &fleet.worker_id,
        );
        let ledger = EventLedger::new(
            conn.clone(),
            keys.clone(),
            priority,
            fleet.worker_id.clone(),
            config.claim_ttl,
            config.dedupe_window,
            config.lifecycle_retention,
        );
        Ok(Self {
            reader: StreamReader::new(
                conn.clone(),
                keys.stream(priority),
                priority.group(),
                &fleet.worker_id,
            ),
            pipeline: Pipeline::new(ledger.clone(), mapping, config.retry.clone(), priority),
            writer: RecordWriter::new(
                client.clone(),
                breaker,
                KnownRecords::new(conn.clone(), keys.clone()),
                priority.name(),
            ),
            client,
            ledger,
            keys,
            conn,
        })
    }

    /// Reads the stream as this replica.
    pub fn reader(&self) -> &StreamReader {
        &self.reader
    }

    /// Claim, coalesce, map, settle.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Collections writes.
    pub fn writer(&self) -> &RecordWriter {
        &self.writer
    }

    /// A Bulk API 2.0 writer sharing this runtime's client and limiter, polling on `poll`.
    pub fn bulk_writer(&self, poll: PollSchedule) -> BulkWriter {
        BulkWriter::new(
            self.client.clone(),
            BulkJobStore::new(self.conn.clone(), self.keys.clone()),
            poll,
        )
    }

    /// Puts due retries back on their streams every half second until `shutdown`.
    pub fn spawn_retry_mover(&self, tasks: &TaskTracker, shutdown: CancellationToken) {
        tasks.spawn(Self::move_due_retries(self.ledger.clone(), shutdown));
    }

    /// Creates the streams and consumer groups if missing, retrying until Redis answers.
    /// Returns false if shut down first.
    pub async fn wait_for_groups(&self, shutdown: &CancellationToken) -> bool {
        let mut conn = self.conn.clone();
        let mut delays = outage_backoff();
        while let Err(error) = store::ensure_consumer_groups(&mut conn, &self.keys).await {
            tracing::warn!(%error, "Redis not ready; retrying.");
            if !pause(delays.next(), shutdown).await {
                return false;
            }
        }
        true
    }

    async fn move_due_retries(ledger: EventLedger, shutdown: CancellationToken) {
        loop {
            match ledger.release_due_retries(500).await {
                Ok(0) => {}
                Ok(moved) => tracing::info!(moved, "Due retries put back on their streams."),
                Err(error) => tracing::debug!(%error, "Could not release due retries."),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }
}
