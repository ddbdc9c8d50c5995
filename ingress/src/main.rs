//! `ingress`: the Stripe webhook receiver. Configuration is read from the environment
//! (see the README's configuration table).

use anyhow::Context;
use ingress::config::IngressConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::telemetry::init();
    common::telemetry::install_crypto_provider();
    let config = IngressConfig::from_env().context("invalid configuration")?;
    let metrics = ingress::telemetry::install_recorder().context("metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
    let shutdown = common::shutdown::on_signal();
    ingress::run(config, listener, metrics, shutdown).await
}
