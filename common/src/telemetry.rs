//! Logging set-up shared by every binary.
//!
//! [`LogConfig`]: `RUST_LOG` filters (default `info`); `LOG_FORMAT` chooses `json` (one
//! object per line, for log shippers) or `pretty` (for a terminal). Nothing logged at info
//! level may carry a secret, a token or personal data; event ids and Stripe object ids are
//! fine.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// The two log formats an operator can choose with `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line: the default, what log pipelines want.
    Json,
    /// Human-readable lines for local runs.
    Pretty,
}

/// Logging settings, shared by every binary (flatten it into the binary's configuration).
#[derive(Debug, Clone, clap::Args)]
pub struct LogConfig {
    /// Which log lines to keep: tracing filter directives such as `info` or
    /// `workers=debug,info`.
    #[arg(long = "rust-log", env = "RUST_LOG", default_value = "info", value_parser = log_filter)]
    pub filter: String,
    /// `json` (one object per line, for log shippers) or `pretty` (for a terminal).
    #[arg(
        long = "log-format",
        env = "LOG_FORMAT",
        value_enum,
        default_value = "json"
    )]
    pub format: LogFormat,
}

fn log_filter(text: &str) -> Result<String, String> {
    EnvFilter::try_new(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// Installs the global tracing subscriber. Call once, first thing in `main`, after the
/// configuration was parsed.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match config.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .init(),
        LogFormat::Pretty => registry.with(fmt::layer()).init(),
    }
}

/// Installs ring as rustls' process-wide crypto provider. Both the AWS SDK and reqwest are
/// built ring-only; installing it explicitly avoids rustls' "no default provider" panic if
/// another dependency ever pulls in a second provider.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        tracing::debug!("A rustls crypto provider was already installed.");
    }
}
