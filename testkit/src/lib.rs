//! Test-only tools for the fleet. Production crates use this only as a dev-dependency.
//!
//! - [`harness`]: start the real dependencies (a private `redis-server`, the SQS emulator,
//!   the project's own binaries) on free ports, wait for them by polling with a deadline,
//!   and kill them when the test ends, also when it fails.
//! - [`loadgen`]: the signed-event load generator behind the `loadgen` binary, and the load
//!   test's chart (PNG and SVG).
//! - [`stripe`]: realistic Stripe events and a signer for `Stripe-Signature` headers.
#![forbid(unsafe_code)]

pub mod harness;
pub mod loadgen;
pub mod stripe;
