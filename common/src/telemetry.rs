//! Logging set-up shared by every binary.
//!
//! `RUST_LOG` filters (default `info`); `LOG_FORMAT` chooses `json` (one object per line,
//! for log shippers) or `pretty` (for a terminal). Nothing logged at info level may carry a
//! secret, a token or personal data; event ids and Stripe object ids are fine.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// The two log formats an operator can choose with `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: the default, what log pipelines want.
    Json,
    /// Human-readable lines for local runs.
    Pretty,
}

impl LogFormat {
    /// Reads `LOG_FORMAT`; anything other than `pretty` means JSON.
    pub fn from_env() -> Self {
        match std::env::var("LOG_FORMAT").as_deref() {
            Ok("pretty") => LogFormat::Pretty,
            _ => LogFormat::Json,
        }
    }
}

/// Installs the global tracing subscriber. Call once, first thing in `main`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match LogFormat::from_env() {
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
