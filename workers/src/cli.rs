//! The `workers` command line: one subcommand per role or operator command, each with the
//! configuration it reads from the environment (or flags) as clap structs. `main` parses it
//! once with [`common::config::parse`], checks it with [`Cli::validate`], and runs it.

use clap::{Args, Parser, Subcommand};
use common::{config::ConfigError, telemetry::LogConfig};

use crate::{
    bulk::BulkConfig,
    catchup::{backfill::BackfillArgs, role::CatchupConfig},
    config::{BridgeConfig, FleetConfig, StripeConfig},
    consumer::ConsumerConfig,
    import::ImportArgs,
    mapping_check::MappingSource,
    ops::{
        cli::{DlqCommand, PendingArgs, StatusArgs},
        status_api::StatusApiConfig,
    },
    realtime::RealtimeConfig,
    reconcile::ReconcileArgs,
};

/// `workers`: the fleet's worker roles and operator commands.
#[derive(Debug, Parser)]
#[command(name = "workers", about = "Stripe → Salesforce worker fleet", version)]
pub struct Cli {
    /// The role to run or the operator command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Move events from SQS into the Redis priority streams (any number of replicas).
    Bridge {
        /// What every role needs.
        #[command(flatten)]
        role: RoleConfig,
        /// The bridge's own settings.
        #[command(flatten)]
        config: BridgeConfig,
    },
    /// Apply high-priority events to Salesforce through sObject Collections.
    Realtime {
        /// What every role needs.
        #[command(flatten)]
        role: RoleConfig,
        /// What both consumers need.
        #[command(flatten)]
        consumer: ConsumerConfig,
        /// The realtime consumer's own settings.
        #[command(flatten)]
        config: RealtimeConfig,
    },
    /// Apply low-priority events in batches: Collections, or Bulk API 2.0 for large ones.
    Bulk {
        /// What every role needs.
        #[command(flatten)]
        role: RoleConfig,
        /// What both consumers need.
        #[command(flatten)]
        consumer: ConsumerConfig,
        /// The bulk consumer's own settings.
        #[command(flatten)]
        config: BulkConfig,
    },
    /// Salesforce → Stripe: Contacts become customers and pending subscription records
    /// Checkout sessions, from Change Data Capture (one subscriber per channel across
    /// replicas).
    Outbound {
        /// What every role needs.
        #[command(flatten)]
        role: RoleConfig,
        /// What every consumer needs.
        #[command(flatten)]
        consumer: ConsumerConfig,
        /// Stripe.
        #[command(flatten)]
        stripe: StripeConfig,
        /// The outbound role's own settings (boxed: the largest variant by far).
        #[command(flatten)]
        config: Box<crate::outbound::OutboundConfig>,
    },
    /// Per stream: length, group lag, pending entries, the oldest one's idle time, and each
    /// consumer's pending count; plus the retry schedule and dead-letter counts.
    Pending {
        /// Where the fleet's Redis is.
        #[command(flatten)]
        fleet: FleetConfig,
        /// The command's arguments.
        #[command(flatten)]
        args: PendingArgs,
    },
    /// Inspect, replay and purge the dead-letter stream.
    Dlq {
        /// Where the fleet's Redis is.
        #[command(flatten)]
        fleet: FleetConfig,
        /// What to do with the dead letters.
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Check the mapping against the org's metadata (an SFDX project): every field it
    /// writes exists, is writable and takes its value; prints the problems and exits 1 if
    /// there are any. Needs neither Redis nor Salesforce.
    CheckMapping {
        /// The mapping and the metadata.
        #[command(flatten)]
        source: MappingSource,
    },
    /// Check the Stripe key and endpoint: one request (the newest event) through the
    /// shared Stripe budget; prints what it found, or the classified failure and exits 1.
    CheckStripe {
        /// Where the fleet's Redis is (the budget lives there).
        #[command(flatten)]
        fleet: FleetConfig,
        /// Stripe's key, endpoint and budget.
        #[command(flatten)]
        stripe: StripeConfig,
    },
    /// Enqueue Stripe's events since an instant (`GET /v1/events`, oldest first) through
    /// the bridge's idempotent enqueue: events the fleet has add nothing. Resumable.
    Backfill {
        /// Where the fleet's Redis is (streams, dedupe, budget, the run's cursor).
        #[command(flatten)]
        fleet: FleetConfig,
        /// Stripe's key, endpoint and budget.
        #[command(flatten)]
        stripe: StripeConfig,
        /// What to list.
        #[command(flatten)]
        args: BackfillArgs,
    },
    /// Every `CATCHUP_INTERVAL_SECS`, enqueue the Stripe events the webhooks did not bring
    /// (one replica active at a time, through a Redis lease).
    Catchup {
        /// What every role needs.
        #[command(flatten)]
        role: RoleConfig,
        /// Stripe's key, endpoint and budget.
        #[command(flatten)]
        stripe: StripeConfig,
        /// The catch-up's own settings.
        #[command(flatten)]
        config: CatchupConfig,
    },
    /// Import an account's current state (Stripe's list APIs) through the bulk path:
    /// parents first, resumable.
    Import {
        /// Where the fleet's Redis is (the low stream, the budget, the cursor).
        #[command(flatten)]
        fleet: FleetConfig,
        /// Stripe's key, endpoint and budget.
        #[command(flatten)]
        stripe: StripeConfig,
        /// What to import.
        #[command(flatten)]
        args: ImportArgs,
    },
    /// Compare Stripe's objects with the Salesforce records the mapping would make of
    /// them; exits 1 when they differ. `--repair` enqueues fixes through the pipeline.
    Reconcile {
        /// Where the fleet's Redis is (budgets, token, repairs).
        #[command(flatten)]
        fleet: FleetConfig,
        /// Stripe's key, endpoint and budget.
        #[command(flatten)]
        stripe: StripeConfig,
        /// Salesforce, the mapping and the call budget (as the consumers read them).
        #[command(flatten)]
        consumer: ConsumerConfig,
        /// What to compare.
        #[command(flatten)]
        args: ReconcileArgs,
    },
    /// One event's lifecycle: state, times, attempts, last error, Salesforce id. Exits 1
    /// if the event is unknown.
    Status {
        /// Where the fleet's Redis is.
        #[command(flatten)]
        fleet: FleetConfig,
        /// The command's arguments.
        #[command(flatten)]
        args: StatusArgs,
    },
}

/// Settings of every long-running role: the fleet's, the status API and logging.
#[derive(Debug, Clone, Args)]
pub struct RoleConfig {
    /// Redis, key prefix, retention, metrics address, worker id.
    #[command(flatten)]
    pub fleet: FleetConfig,
    /// `GET /v1/events/{id}` on the metrics server.
    #[command(flatten)]
    pub status_api: StatusApiConfig,
    /// Logging.
    #[command(flatten)]
    pub log: LogConfig,
}

impl Cli {
    /// Checks what clap cannot check one value at a time: settings against each other, and
    /// the Salesforce flow's credentials. Run before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.command {
            Command::Bridge { config, .. } => config.validate(),
            Command::Realtime { consumer, .. }
            | Command::Bulk { consumer, .. }
            | Command::Outbound { consumer, .. }
            | Command::Reconcile { consumer, .. } => consumer.validate(),
            Command::Pending { .. }
            | Command::Dlq { .. }
            | Command::Status { .. }
            | Command::CheckMapping { .. }
            | Command::CheckStripe { .. }
            | Command::Backfill { .. }
            | Command::Import { .. }
            | Command::Catchup { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn operator_commands_need_only_redis() {
        let cli = Cli::try_parse_from([
            "workers",
            "dlq",
            "--redis-url",
            "redis://x",
            "list",
            "--limit",
            "3",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Dlq { .. }));
        assert!(cli.validate().is_ok());
    }
}
