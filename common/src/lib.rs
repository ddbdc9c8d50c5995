//! What more than one crate of the fleet needs, once:
//!
//! - [`config`]: what every role's clap configuration shares: value parsers, blank
//!   variables counting as unset, errors naming the variable.
//! - [`currency`]: how many decimals a Stripe currency's minor unit has.
//! - [`stripe`]: verifying `Stripe-Signature` headers and reading the event envelope.
//! - [`sqs`]: building the AWS SQS client the way every role needs it (ring-only TLS,
//!   explicit timeouts, the SDK's own environment variables).
//! - [`telemetry`]: logging set-up shared by all binaries ([`telemetry::LogConfig`]:
//!   `RUST_LOG`, `LOG_FORMAT`).
//! - [`time`]: Unix time helpers.
//! - [`shutdown`]: turning SIGTERM / Ctrl-C into a cancellation token.
//!
//! The Salesforce client is its own crate (`salesforce-client`); the Redis key layout and
//! the mapping belong to the workers, the only crate that uses them.
#![forbid(unsafe_code)]

pub mod config;
pub mod currency;
pub mod secrets;
pub mod shutdown;
pub mod sqs;
pub mod stripe;
pub mod telemetry;
pub mod time;
