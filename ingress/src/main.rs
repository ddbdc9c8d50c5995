//! `ingress`: the Stripe webhook receiver. Configuration is read from the environment or
//! flags once, here (`ingress --help`, and the README's configuration table); with
//! `SECRETS_MANAGER_SECRET_ID`, the webhook secrets come from AWS Secrets Manager first.

use anyhow::Context;
use ingress::config::IngressConfig;

fn main() -> anyhow::Result<()> {
    // Before any thread starts: the secret's values become environment variables.
    let secrets = common::secrets::load_before_start(&["STRIPE_WEBHOOK_SECRETS"])?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?
        .block_on(serve(secrets))
}

async fn serve(secrets: Option<common::secrets::SecretWatcher>) -> anyhow::Result<()> {
    let config: IngressConfig = common::config::parse();
    common::telemetry::init(&config.log);
    common::telemetry::install_crypto_provider();
    config.warn_about_unusual_secrets();
    let metrics = ingress::telemetry::install_recorder().context("metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
    let shutdown = common::shutdown::on_signal();
    ingress::run_with_secrets(config, listener, metrics, shutdown, secrets).await
}
