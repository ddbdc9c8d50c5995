//! `workers`: the fleet's worker processes. Configuration comes from the environment (see
//! the README's configuration table); the subcommand picks the role.

use anyhow::Context;
use clap::{Parser, Subcommand};
use workers::{
    config::{BridgeConfig, FleetConfig},
    consumer::ConsumerConfig,
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
    /// Move events from SQS into the Redis priority streams (any number of replicas).
    Bridge,
    /// Apply high-priority events to Salesforce through sObject Collections.
    Realtime,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    common::telemetry::init();
    common::telemetry::install_crypto_provider();
    let env = common::config::process_env();
    let fleet = FleetConfig::from_env(&env).context("invalid configuration")?;
    let metrics = workers::telemetry::install_recorder().context("metrics recorder")?;
    let shutdown = common::shutdown::on_signal();
    let server = tokio::spawn(workers::telemetry::serve(
        fleet.metrics_addr,
        metrics,
        shutdown.clone(),
    ));
    let result = match cli.command {
        Command::Bridge => {
            let config = BridgeConfig::from_env(&env).context("invalid configuration")?;
            workers::bridge::run(fleet, config, shutdown.clone()).await
        }
        Command::Realtime => {
            let consumer = ConsumerConfig::from_env(&env).context("invalid configuration")?;
            let config = RealtimeConfig::from_env(&env).context("invalid configuration")?;
            workers::realtime::run(fleet, consumer, config, shutdown.clone()).await
        }
    };
    shutdown.cancel();
    server.await.context("metrics server task")??;
    result
}
