//! `sfsim`: a Salesforce org simulator that behaves as `docs/salesforce-api.md` (the
//! documented Salesforce behaviour) says, so the fleet can be tested without a real org. A
//! client written against Salesforce's documentation must work with it unchanged.
//!
//! It serves OAuth 2.0 (client credentials, username-password, JWT bearer, revoke), REST
//! (versions, limits, sObjects by id and external id, Collections, Composite, SOQL), Bulk API 2.0
//! ingest, the daily allocation with `Sforce-Limit-Info`, fault injection and, under
//! `/__sim/`, inspection and control for tests. See `docs/sfsim.md` for the user guide.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sfsim::SimError> {
//! use sfsim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::on_free_port()).await?;
//! println!("login and instance URL: {}", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Module map: [`config`] and [`faults`] (what can be configured), [`server`] (start and
//! stop), [`gate`] (what every request passes), [`auth`], [`rest`], [`bulk`], [`soql`]
//! (the APIs), [`dml`], [`store`], [`schema`], [`values`] (the org's data and rules),
//! [`admin`] (`/__sim/`), [`bench`](mod@bench) (throughput measurement), [`pubsub`]
//! (Change Data Capture over the Pub/Sub API, gRPC).

pub mod admin;
pub mod auth;
pub mod bench;
pub mod bulk;
pub mod clock;
pub mod config;
pub mod dml;
pub mod endpoints;
pub mod error;
pub mod faults;
pub mod gate;
pub mod ids;
pub mod pubsub;
pub mod rest;
pub mod schema;
pub mod server;
pub mod soql;
pub mod state;
pub mod store;
pub mod test_keys;
pub mod usage;
pub mod values;

pub use admin::{AdminError, SimAdmin};
pub use config::{BulkConfig, SimConfig, SimUser, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
pub use error::SimError;
pub use faults::{ErrorRule, FaultConfig, OutageWindow};
pub use schema::Schema;
pub use server::{RunningSimulator, Simulator};
