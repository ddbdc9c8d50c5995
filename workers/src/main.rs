//! `workers`: the fleet's worker processes and the operator commands. Configuration comes
//! from the environment (see the README's configuration table); the subcommand picks the
//! role or the command.
//!
//! Worker roles run until a signal and serve metrics and health; operator commands run
//! once, print their answer, and need only `REDIS_URL` (no metrics server, no Salesforce).

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use common::config::Env;
use workers::keys::KeySpace;
use workers::{
    bulk::BulkConfig,
    config::{BridgeConfig, FleetConfig},
    consumer::ConsumerConfig,
    ops::{
        self,
        cli::{DlqCommand, PendingArgs, StatusArgs},
        status_api::StatusApi,
    },
    realtime::RealtimeConfig,
};

#[derive(Parser)]
#[command(about = "Stripe → Salesforce worker fleet", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Role(Role),
    /// Per stream: length, group lag, pending entries, the oldest one's idle time, and each
    /// consumer's pending count; plus the retry schedule and dead-letter counts.
    Pending(PendingArgs),
    /// Inspect, replay and purge the dead-letter stream.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// One event's lifecycle: state, times, attempts, last error, Salesforce id. Exits 1
    /// if the event is unknown.
    Status(StatusArgs),
}

/// The long-running worker roles; each may run as many replicas as needed.
#[derive(Subcommand)]
enum Role {
    /// Move events from SQS into the Redis priority streams (any number of replicas).
    Bridge,
    /// Apply high-priority events to Salesforce through sObject Collections.
    Realtime,
    /// Apply low-priority events in batches: Collections, or Bulk API 2.0 for large ones.
    Bulk,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // Test builds only: failpoints configured through FAILPOINTS (see the README's tests).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let env = common::config::process_env();
    match cli.command {
        Command::Role(role) => run_role(role, &env).await.map(|()| ExitCode::SUCCESS),
        Command::Pending(args) => {
            operate(
                &env,
                |ops| async move { ops::cli::pending(&ops, args).await },
            )
            .await
        }
        Command::Dlq { command } => {
            operate(
                &env,
                |ops| async move { ops::cli::dlq(&ops, command).await },
            )
            .await
        }
        Command::Status(args) => {
            operate(
                &env,
                |ops| async move { ops::cli::status(&ops, args).await },
            )
            .await
        }
    }
}

/// Runs an operator command and prints its answer. No logging setup: stdout is the answer
/// (possibly JSON for a script); an error is one line on stderr and exit status 1.
async fn operate<F, Fut>(
    env: &Env<impl Fn(&str) -> Option<String>>,
    command: F,
) -> anyhow::Result<ExitCode>
where
    F: FnOnce(ops::Ops) -> Fut,
    Fut: std::future::Future<Output = Result<String, ops::OpsError>>,
{
    let answer = match ops::cli::connect(env) {
        Ok(ops) => command(ops).await,
        Err(error) => Err(error),
    };
    let output = match answer {
        Ok(output) => output,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `workers dlq list | head` closing the pipe early is not a failure.
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing the answer")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Runs a worker role with logging, metrics and the health (and status) server until a
/// signal.
async fn run_role(role: Role, env: &Env<impl Fn(&str) -> Option<String>>) -> anyhow::Result<()> {
    common::telemetry::init();
    common::telemetry::install_crypto_provider();
    let fleet = FleetConfig::from_env(env).context("invalid configuration")?;
    let metrics = workers::telemetry::install_recorder().context("metrics recorder")?;
    let status_api = StatusApi::from_env(
        env,
        workers::store::connect(&fleet.redis_url).context("REDIS_URL")?,
        KeySpace::new(&fleet.key_prefix),
    )
    .context("invalid configuration")?;
    let shutdown = common::shutdown::on_signal();
    let server = tokio::spawn(workers::telemetry::serve(
        fleet.metrics_addr,
        metrics,
        status_api,
        shutdown.clone(),
    ));
    let result = match role {
        Role::Bridge => {
            let config = BridgeConfig::from_env(env).context("invalid configuration")?;
            workers::bridge::run(fleet, config, shutdown.clone()).await
        }
        Role::Realtime => {
            let consumer = ConsumerConfig::from_env(env).context("invalid configuration")?;
            let config = RealtimeConfig::from_env(env).context("invalid configuration")?;
            workers::realtime::run(fleet, consumer, config, shutdown.clone()).await
        }
        Role::Bulk => {
            let consumer = ConsumerConfig::from_env(env).context("invalid configuration")?;
            let config = BulkConfig::from_env(env).context("invalid configuration")?;
            workers::bulk::run(fleet, consumer, config, shutdown.clone()).await
        }
    };
    shutdown.cancel();
    server.await.context("metrics server task")??;
    result
}
