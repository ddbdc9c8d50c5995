//! `workers`: the fleet's worker processes and the operator commands. Configuration comes
//! from the environment or flags, parsed once here ([`workers::cli::Cli`]; `workers <command>
//! --help` and the README's configuration table list it); the subcommand picks the role or
//! the command.
//!
//! Worker roles run until a signal and serve metrics and health; operator commands run
//! once, print their answer, and need only `REDIS_URL` (no metrics server, no Salesforce);
//! `check-mapping` needs nothing but the mapping and the metadata.

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use workers::{
    cli::{Cli, Command, RoleConfig},
    ops::{self, status_api::StatusApi},
};

fn main() -> anyhow::Result<ExitCode> {
    // Before any thread starts: with SECRETS_MANAGER_SECRET_ID, the secret's values become
    // environment variables. Re-read while running, a rotated SALESFORCE_CLIENT_SECRET applies
    // at the next login (`common::secrets::updates`); the others at the next restart.
    let secrets = common::secrets::load_before_start(&[
        "STRIPE_API_KEY",
        "SALESFORCE_CLIENT_SECRET",
        "STATUS_API_TOKEN",
    ])?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?
        .block_on(async {
            if let Some(watcher) = secrets {
                // Ends with the runtime.
                watcher.spawn(tokio_util::sync::CancellationToken::new());
            }
            run().await
        })
}

async fn run() -> anyhow::Result<ExitCode> {
    let cli: Cli = common::config::parse();
    // Test builds only: failpoints configured through FAILPOINTS (see the README's tests).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    if let Err(error) = cli.validate() {
        // Exits like clap's own configuration errors: the message, status 2.
        clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("{error}\n"),
        )
        .exit();
    }
    match cli.command {
        Command::Bridge { role, config } => {
            run_role(role, |fleet, shutdown| {
                workers::bridge::run(fleet, config, shutdown)
            })
            .await
        }
        Command::Realtime {
            role,
            consumer,
            config,
        } => {
            run_role(role, |fleet, shutdown| {
                workers::realtime::run(fleet, consumer, config, shutdown)
            })
            .await
        }
        Command::Bulk {
            role,
            consumer,
            config,
        } => {
            run_role(role, |fleet, shutdown| {
                workers::bulk::run(fleet, consumer, config, shutdown)
            })
            .await
        }
        Command::Outbound {
            role,
            consumer,
            stripe,
            config,
        } => {
            run_role(role, |fleet, shutdown| {
                workers::outbound::run(fleet, consumer, stripe, *config, shutdown)
            })
            .await
        }
        Command::Pending { fleet, args } => {
            operate(
                &fleet,
                |ops| async move { ops::cli::pending(&ops, args).await },
            )
            .await
        }
        Command::Dlq { fleet, command } => {
            operate(
                &fleet,
                |ops| async move { ops::cli::dlq(&ops, command).await },
            )
            .await
        }
        Command::CheckMapping { source } => Ok(check_mapping(&source)),
        Command::CheckStripe { fleet, stripe } => {
            // The Stripe client installs the TLS crypto provider itself.
            match workers::stripe_check::check(&fleet, &stripe).await {
                Ok(report) => {
                    print!("{report}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("FAIL: {error:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Backfill {
            fleet,
            stripe,
            args,
        } => {
            let shutdown = common::shutdown::on_signal();
            match workers::catchup::backfill::run(&fleet, &stripe, &args, shutdown).await {
                Ok(summary) => {
                    print!("{}", summary.render(args.json));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Catchup {
            role,
            stripe,
            config,
        } => {
            run_role(role, |fleet, shutdown| {
                workers::catchup::role::run(fleet, stripe, config, shutdown)
            })
            .await
        }
        Command::Import {
            fleet,
            stripe,
            args,
        } => {
            let shutdown = common::shutdown::on_signal();
            match workers::import::run(&fleet, &stripe, &args, shutdown).await {
                Ok(summary) => {
                    print!("{}", summary.render(args.json));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Reconcile {
            fleet,
            stripe,
            consumer,
            args,
        } => {
            common::telemetry::install_crypto_provider();
            match workers::reconcile::run(&fleet, &stripe, &consumer, &args).await {
                Ok(report) => {
                    print!("{}", report.render(args.json));
                    Ok(if report.differences() == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    })
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Status { fleet, args } => {
            operate(
                &fleet,
                |ops| async move { ops::cli::status(&ops, args).await },
            )
            .await
        }
    }
}

/// `workers check-mapping`: the report on stdout, OK or not; status 1 when the mapping does
/// not fit or cannot be read.
fn check_mapping(source: &workers::mapping_check::MappingSource) -> ExitCode {
    let (mapping, metadata) = match source.load() {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = workers::mapping_check::check(&mapping, &metadata);
    let which = source.mapping_file.as_ref().map_or_else(
        || "the built-in mapping".to_owned(),
        |path| path.display().to_string(),
    );
    print!("{report}");
    if report.errors.is_empty() {
        println!(
            "OK: {which} fits {} ({} writes, {} fields checked, {} warnings)",
            metadata.root(),
            report.writes,
            report.fields,
            report.warnings.len()
        );
        ExitCode::SUCCESS
    } else {
        let count = report.errors.len();
        let noun = if count == 1 { "problem" } else { "problems" };
        println!(
            "FAIL: {which} does not fit {}: {count} {noun}",
            metadata.root()
        );
        ExitCode::FAILURE
    }
}

/// Runs an operator command and prints its answer. No logging setup: stdout is the answer
/// (possibly JSON for a script); an error is one line on stderr and exit status 1.
async fn operate<F, Fut>(
    fleet: &workers::config::FleetConfig,
    command: F,
) -> anyhow::Result<ExitCode>
where
    F: FnOnce(ops::Ops) -> Fut,
    Fut: std::future::Future<Output = Result<String, ops::OpsError>>,
{
    let answer = match ops::cli::connect(fleet) {
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
async fn run_role<F, Fut>(role: RoleConfig, run: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(workers::config::FleetConfig, tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    common::telemetry::init(&role.log);
    common::telemetry::install_crypto_provider();
    let fleet = role.fleet;
    let metrics = workers::telemetry::install_recorder().context("metrics recorder")?;
    let status_api = StatusApi::from_config(
        &role.status_api,
        workers::store::connect(&fleet.redis_url).context("REDIS_URL")?,
        fleet.keys(),
    );
    let shutdown = common::shutdown::on_signal();
    let server = tokio::spawn(workers::telemetry::serve(
        fleet.metrics_addr,
        metrics,
        status_api,
        shutdown.clone(),
    ));
    let result = run(fleet, shutdown.clone()).await;
    shutdown.cancel();
    server.await.context("metrics server task")??;
    result.map(|()| ExitCode::SUCCESS)
}
