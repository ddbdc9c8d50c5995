//! Everything a consumer replica needs, built once from the configuration: the Redis
//! connection, the Salesforce client behind the global limiter, the breaker, the ledger,
//! the mapping (checked against the org's metadata first); and the background task that
//! puts due retries back on their streams.

use std::{sync::Arc, time::Duration};

use clap::Args;
use common::config::{millis, positive, positive_millis, ConfigError};
use salesforce_client::{bulk::PollSchedule, SalesforceClient};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{Pipeline, RecordWriter, RetrySchedule, StreamReader};
use crate::{
    backoff::{outage_backoff, pause},
    bulk::BulkWriter,
    config::{FleetConfig, SalesforceConfig},
    guard::{CallRate, CircuitBreaker, DailyBudget, SlidingWindowLimiter},
    keys::KeySpace,
    mapping_check::MappingSource,
    store::{self, BatchPacer, BulkJobStore, EventLedger, KnownRecords, Priority},
};

/// Settings shared by the realtime and bulk consumers.
#[derive(Debug, Clone, Args)]
pub struct ConsumerConfig {
    /// Salesforce endpoint and credentials.
    #[command(flatten)]
    pub salesforce: SalesforceConfig,
    /// The mapping, and the metadata it is checked against at start.
    #[command(flatten)]
    pub mapping: MappingSource,
    /// Seconds before the 1st, 2nd, ... retry of a failed event; then the dead-letter stream.
    #[arg(
        long = "retry-delays-secs",
        env = "RETRY_DELAYS_SECS",
        default_value = "2,4,8,16,32",
        value_parser = RetrySchedule::parse
    )]
    pub retry: RetrySchedule,
    /// Salesforce calls per window, all replicas of all roles together.
    #[arg(
        long = "sf-calls-per-window",
        env = "SF_CALLS_PER_WINDOW",
        default_value = "25",
        value_parser = positive
    )]
    pub calls_per_window: u64,
    /// The call budget's window in milliseconds.
    #[arg(
        long = "sf-window-ms",
        env = "SF_WINDOW_MS",
        default_value = "1000",
        value_parser = positive_millis
    )]
    pub window: Duration,
    /// Throttles on the org's daily usage.
    #[command(flatten)]
    pub budget: DailyBudget,
    /// Consecutive failed Salesforce calls that open the circuit breaker.
    #[arg(
        long = "breaker-threshold",
        env = "BREAKER_THRESHOLD",
        default_value = "5",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub breaker_threshold: u32,
    /// Milliseconds the breaker stays open before a probe.
    #[arg(
        long = "breaker-cooldown-ms",
        env = "BREAKER_COOLDOWN_MS",
        default_value = "5000",
        value_parser = positive_millis
    )]
    pub breaker_cooldown: Duration,
    /// Milliseconds an object claim outlives a crashed worker.
    #[arg(
        long = "claim-ttl-ms",
        env = "CLAIM_TTL_MS",
        default_value = "30000",
        value_parser = millis
    )]
    pub claim_ttl: Duration,
    /// Milliseconds an entry stays pending before another replica takes it over (longer
    /// than CLAIM_TTL_MS).
    #[arg(
        long = "reclaim-idle-ms",
        env = "RECLAIM_IDLE_MS",
        default_value = "60000",
        value_parser = millis
    )]
    pub reclaim_idle: Duration,
}

impl ConsumerConfig {
    /// Checks the settings against each other, and that the Salesforce flow has what it
    /// needs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.reclaim_idle <= self.claim_ttl {
            return Err(ConfigError::new(
                "RECLAIM_IDLE_MS",
                "must be longer than CLAIM_TTL_MS",
            ));
        }
        self.salesforce.settings().map(drop)
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
    conn: crate::store::RedisConnection,
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
        let mapping = Arc::new(config.mapping.load_checked()?);
        super::signals::register(priority);
        let keys = fleet.keys();
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
            config.salesforce.settings()?,
            store::coordination(conn.clone(), &keys, limiter),
        )?;
        follow_secret_rotation(&client, shutdown.clone());
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
            fleet.dedupe_window,
            fleet.lifecycle_retention,
        );
        Ok(Self {
            reader: StreamReader::new(
                conn.clone(),
                &keys,
                priority,
                &fleet.worker_id,
                match priority {
                    Priority::Outbound => store::Assignment::all(1),
                    // Realtime replicas take turns at reading every partition
                    // (`store::BatchPacer`): their batches are the fleet's, not a share's.
                    Priority::High => store::Assignment::all(keys.partition_count()),
                    Priority::Low => store::Assignment::shared(
                        conn.clone(),
                        &keys,
                        priority.group(),
                        &fleet.worker_id,
                        shutdown.clone(),
                    ),
                },
            ),
            writer: RecordWriter::new(
                client.clone(),
                breaker,
                KnownRecords::new(conn.clone(), keys.clone()),
                priority.name(),
                mapping.fence().cloned(),
            ),
            pipeline: Pipeline::new(ledger.clone(), mapping, config.retry.clone(), priority),
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

    /// The Salesforce client, behind the limiter.
    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// The ledger of this runtime's stream.
    pub fn ledger(&self) -> &EventLedger {
        &self.ledger
    }

    /// Collections writes.
    pub fn writer(&self) -> &RecordWriter {
        &self.writer
    }

    /// Settles a written batch, then marks the records of events it dead-lettered as failed
    /// where the mapping says so (`on_dead_letter`). The marks are best effort: the dead
    /// letter is already recorded, so a mark that fails is logged and left.
    pub async fn settle(
        &self,
        prepared: super::Prepared,
        results: Vec<super::WriteResult>,
        shutdown: &CancellationToken,
    ) -> redis::RedisResult<()> {
        let marks = self.pipeline.settle(prepared, results).await?;
        if marks.is_empty() {
            return Ok(());
        }
        let events: Vec<&crate::mapping::MappedEvent> = marks.iter().collect();
        let results = self.writer.apply(&events, shutdown).await;
        for (mark, result) in marks.iter().zip(results) {
            let sobject = mark.writes.first().map_or("", |w| w.sobject.as_str());
            match result {
                super::WriteResult::Failed(failure) => {
                    tracing::warn!(%sobject, code = %failure.code, "Could not mark a dead-lettered event's record as failed.");
                }
                _ => tracing::info!(%sobject, "Marked a dead-lettered event's record as failed."),
            }
        }
        Ok(())
    }

    /// A Bulk API 2.0 writer sharing this runtime's client and limiter, polling on `poll`.
    pub fn bulk_writer(&self, poll: PollSchedule) -> BulkWriter {
        BulkWriter::new(
            self.client.clone(),
            BulkJobStore::new(self.conn.clone(), self.keys.clone()),
            poll,
            self.writer.fence().cloned(),
        )
    }

    /// This replica's side of the turns `group`'s replicas take at reading a batch, as
    /// `holder`: batches at least `interval` apart, a turn held `hold` unless renewed.
    pub fn batch_pacer(
        &self,
        group: &str,
        holder: &str,
        interval: Duration,
        hold: Duration,
    ) -> BatchPacer {
        BatchPacer::new(
            self.conn.clone(),
            self.keys.batch_turn(group),
            holder,
            interval,
            hold,
        )
    }

    /// Puts due retries back on their streams every half second until `shutdown`.
    pub fn spawn_retry_mover(&self, tasks: &TaskTracker, shutdown: CancellationToken) {
        tasks.spawn(Self::move_due_retries(self.ledger.clone(), shutdown));
    }

    /// Called with every Redis error of a consumer loop: a stream or group that vanished
    /// (`NOGROUP`: Redis lost data, e.g. a failover to a replica that had not caught up,
    /// or a restart without persistence) is created again, so the replica goes on with
    /// whatever arrives next instead of failing forever.
    pub async fn recover_from(&self, error: &redis::RedisError) {
        if error.code() != Some("NOGROUP") {
            return;
        }
        let mut conn = self.conn.clone();
        match store::ensure_consumer_groups(&mut conn, &self.keys).await {
            Ok(()) => tracing::warn!(
                "A stream or consumer group was missing (Redis lost data); created it again."
            ),
            Err(error) => {
                tracing::warn!(%error, "Could not create the missing streams and groups.")
            }
        }
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

/// With the secrets in AWS Secrets Manager, a rotated `SALESFORCE_CLIENT_SECRET` is put in
/// force for `client`'s next login (the session in use stays until it ages out or is refused).
fn follow_secret_rotation(client: &SalesforceClient, shutdown: CancellationToken) {
    let client = client.clone();
    common::secrets::follow("SALESFORCE_CLIENT_SECRET", shutdown, move |secret| {
        if client.set_client_secret(secret.to_owned()) {
            tracing::info!("Salesforce client secret rotated; the next login uses it.");
        }
    });
}
