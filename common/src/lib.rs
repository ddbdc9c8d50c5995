//! Shared building blocks of the Stripe → Salesforce fleet.
//!
//! Every process role (ingress, bridge, realtime and bulk workers) is its own crate; what
//! more than one of them needs lives here, once:
//!
//! - [`keys`]: the Redis key layout every role shares.
//! - [`config`]: reading typed configuration from the environment, errors naming the variable.
//! - [`mapping`]: translating a Stripe event into Salesforce record writes, driven by a mapping
//!   file (built-in default for seed 002's data model).
//! - [`stripe`]: verifying `Stripe-Signature` headers and reading the event envelope.
//! - [`sqs`]: building the AWS SQS client the way every role needs it (ring-only TLS,
//!   explicit timeouts, the SDK's own environment variables).
//! - [`telemetry`]: logging set-up shared by all binaries (`RUST_LOG`, `LOG_FORMAT`).
//! - [`salesforce`]: the Salesforce client (OAuth, REST, Collections, Bulk 2.0, SOQL) and
//!   its failure classes.
//! - [`time`]: Unix time helpers.
//! - [`shutdown`]: turning SIGTERM / Ctrl-C into a cancellation token.
#![forbid(unsafe_code)]

pub mod config;
pub mod keys;
pub mod mapping;
pub mod salesforce;
pub mod shutdown;
pub mod sqs;
pub mod stripe;
pub mod telemetry;
pub mod time;
