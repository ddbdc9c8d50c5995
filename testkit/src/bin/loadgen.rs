//! `loadgen`: the signed-event load generator. See `scripts/bench-ingress.sh` and the
//! README's benchmark section.

use clap::{Parser, Subcommand};
use testkit::loadgen::{e2e, ingress};

#[derive(Parser)]
#[command(about = "Signed Stripe event load generator for the fleet")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the ingress alone and check that every 2xx reached the queue.
    Ingress(ingress::IngressLoad),
    /// Load a running fleet with a realistic mix and check what Salesforce ends up holding.
    E2e(e2e::E2eLoad),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::telemetry::install_crypto_provider();
    match Cli::parse().command {
        Command::Ingress(load) => {
            let report_path = load.report.clone();
            let report = ingress::run(load).await?;
            println!("sent            {}", report.sent);
            println!("statuses        {:?}", report.statuses);
            println!("elapsed         {:.2} s", report.elapsed_secs);
            println!("accepted/s      {:.0}", report.accepted_per_sec);
            println!("ack latency     {}", report.latency);
            if let Some(queued) = report.queued {
                let accepted: u64 = report
                    .statuses
                    .iter()
                    .filter(|(s, _)| (200..300).contains(*s))
                    .map(|(_, n)| n)
                    .sum();
                let verdict = if queued == accepted { "OK" } else { "MISMATCH" };
                println!("queued          {queued} (2xx {accepted}) {verdict}");
                if queued != accepted {
                    anyhow::bail!("{accepted} requests were acknowledged but {queued} messages are in the queue");
                }
            }
            if let Some(path) = report_path {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
            }
        }
        Command::E2e(load) => {
            let report_path = load.report.clone();
            let report = e2e::run(load).await?;
            println!(
                "events          {} ({} deliveries, {} accepted)",
                report.events, report.deliveries, report.accepted
            );
            println!("accepted/s      {:.0}", report.accepted_per_sec);
            println!("ack latency     {}", report.ack_latency);
            println!("POST → record   {}", report.end_to_end);
            println!(
                "SF calls        {} = {:.1} per 1,000 events",
                report.salesforce_calls, report.calls_per_1000_events
            );
            println!(
                "lost {}, written twice {}, not the newest {}",
                report.lost, report.written_twice, report.not_newest
            );
            if let Some(path) = report_path {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
            }
            if report.lost + report.written_twice + report.not_newest > 0 {
                anyhow::bail!(
                    "CHECK FAILED: events lost, applied twice, or a record is not its newest event"
                );
            }
            println!("check           OK: nothing lost, nothing applied twice, every record at its newest event");
        }
    }
    Ok(())
}
