//! `ingress`: the Stripe webhook receiver. Configuration is read from the environment or
//! flags once, here (`ingress --help`, and the README's configuration table).

use anyhow::Context;
use ingress::config::IngressConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: IngressConfig = common::config::parse();
    common::telemetry::init(&config.log);
    common::telemetry::install_crypto_provider();
    config.warn_about_unusual_secrets();
    let metrics = ingress::telemetry::install_recorder().context("metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
    let shutdown = common::shutdown::on_signal();
    ingress::run(config, listener, metrics, shutdown).await
}
