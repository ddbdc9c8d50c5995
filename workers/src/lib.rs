//! The worker fleet. Each subcommand of the `workers` binary is one process role that can
//! run as many replicas as the operator starts:
//!
//! - [`bridge`]: SQS into the Redis priority streams, once.
//! - [`realtime`]: the high-priority stream to Salesforce through sObject Collections.
//!
//! Shared by the roles: [`config`] (typed settings), [`store`] (the Redis layout and its
//! atomic scripts), [`consumer`] (claim, coalesce, map, write, settle), [`guard`] (the
//! global limiter and the circuit breaker), [`telemetry`] (metrics and the health server).
#![forbid(unsafe_code)]

pub mod bridge;
pub mod config;
pub mod consumer;
pub mod guard;
pub mod realtime;
pub mod store;
pub mod telemetry;
