//! The worker fleet. Each subcommand of the `workers` binary is one process role that can
//! run as many replicas as the operator starts:
//!
//! - [`bridge`]: SQS into the Redis priority streams, once.
//!
//! Shared by the roles: [`config`] (typed settings), [`store`] (the Redis layout and its
//! atomic scripts), [`telemetry`] (metrics and the health server).
#![forbid(unsafe_code)]

pub mod bridge;
pub mod config;
pub mod store;
pub mod telemetry;
