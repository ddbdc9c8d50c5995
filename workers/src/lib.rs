//! The worker fleet. Each subcommand of the `workers` binary is one process role that can
//! run as many replicas as the operator starts:
//!
//! - [`bridge`]: SQS into the Redis priority streams, once.
//! - [`realtime`]: the high-priority stream to Salesforce through sObject Collections.
//! - [`bulk`]: the low-priority stream, batched into Collections or Bulk API 2.0 jobs.
//! - [`outbound`]: Salesforce changes (Change Data Capture over the Pub/Sub API) to Stripe
//!   customers and Checkout sessions.
//! - [`ops`]: the operator commands (`pending`, `dlq`, `status`) and the HTTP status API;
//!   they only read and repair the Redis state, so they need nothing but `REDIS_URL`.
//! - [`catchup`]: `catchup` (a role) and `backfill` (a command): Stripe's event list as a
//!   second source, so that no event a webhook missed stays missing.
//! - [`import`]: `import`, an account's current state through the bulk path.
//! - [`reconcile`]: `reconcile`, Stripe's objects against the Salesforce records the
//!   mapping would make of them, with repairs through the normal pipeline.
//! - [`mapping_check`]: `check-mapping`, the mapping checked against the org's metadata
//!   (also run by every role that maps, at start).
//!
//! Shared by the roles: [`cli`] and [`config`] (the command line and the typed settings,
//! read once at start), [`backoff`] (waiting out outages), [`store`] (the Redis layout and
//! its atomic scripts), [`consumer`] (claim, coalesce, map, write, settle), [`guard`] (the
//! global limiter and the circuit breaker), [`telemetry`] (metrics and the health server).
#![forbid(unsafe_code)]

pub mod backoff;
pub mod bridge;
pub mod bulk;
pub mod catchup;
pub mod cli;
pub mod config;
pub mod consumer;
pub mod guard;
pub mod import;
pub mod keys;
pub mod mapping;
pub mod mapping_check;
pub mod ops;
pub mod outbound;
pub mod realtime;
pub mod reconcile;
pub mod store;
pub mod stripe_check;
pub mod telemetry;
