//! `stripesim`: the Stripe simulator as a process. Configuration comes from flags or the
//! environment (`STRIPESIM_*`, plus `STRIPE_API_KEY` so one environment file serves the
//! simulator and its clients); it runs until SIGTERM/Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use stripesim::config::RateLimits;
use stripesim::{SimConfig, Simulator};

#[derive(Debug, Parser)]
#[command(
    name = "stripesim",
    about = "Stripe API simulator (customers, events, idempotency, webhooks)"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "STRIPESIM_LISTEN_ADDR", default_value = "127.0.0.1:12111")]
    listen_addr: SocketAddr,
    /// The only secret key accepted; unset: any `sk_test_…` key.
    #[arg(long, env = "STRIPE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// The account's API version (events' `api_version`, the default `Stripe-Version`).
    #[arg(long, env = "STRIPESIM_API_VERSION", default_value = stripesim::config::DEFAULT_API_VERSION)]
    api_version: String,
    /// Factor on the webhook retry schedule (1 = about three days, as Stripe's live mode).
    #[arg(long, env = "STRIPESIM_RETRY_SCALE", default_value_t = 0.001)]
    retry_scale: f64,
    /// Seconds one webhook delivery attempt may take.
    #[arg(long, env = "STRIPESIM_DELIVERY_TIMEOUT_SECS", default_value_t = 10)]
    delivery_timeout_secs: u64,
    /// Requests per second the whole API admits (Stripe's sandbox: 25); 0 = no limit.
    #[arg(long, env = "STRIPESIM_RATE_LIMIT", default_value_t = 25)]
    rate_limit: u32,
    /// Requests per second each endpoint admits (Stripe: 25); 0 = no limit.
    #[arg(long, env = "STRIPESIM_ENDPOINT_RATE_LIMIT", default_value_t = 25)]
    endpoint_rate_limit: u32,
    /// Search requests per second (Stripe: 20); 0 = no limit.
    #[arg(long, env = "STRIPESIM_SEARCH_RATE_LIMIT", default_value_t = 20)]
    search_rate_limit: u32,
    /// Milliseconds before a customer change shows in search (Stripe: under a minute).
    #[arg(long, env = "STRIPESIM_SEARCH_DELAY_MS", default_value_t = 1000)]
    search_delay_ms: u64,
    #[command(flatten)]
    log: common::telemetry::LogConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    common::telemetry::init(&cli.log);
    common::telemetry::install_crypto_provider();
    let config = SimConfig {
        listen_addr: cli.listen_addr,
        api_key: cli.api_key,
        api_version: cli.api_version,
        retry_scale: cli.retry_scale,
        delivery_timeout: Duration::from_secs(cli.delivery_timeout_secs),
        search_delay: Duration::from_millis(cli.search_delay_ms),
        rate_limits: RateLimits {
            global: cli.rate_limit,
            endpoint: cli.endpoint_rate_limit,
            search: cli.search_rate_limit,
        },
        ..SimConfig::default()
    };
    let shutdown = common::shutdown::on_signal();
    let sim = Simulator::start_with_shutdown(config, shutdown).await?;
    tracing::info!(
        base_url = sim.base_url(),
        "stripesim ready; SIGTERM stops it."
    );
    sim.wait().await;
    tracing::info!("stripesim stopped.");
    Ok(())
}
