//! `stripesim`: a stateful Stripe API stand-in, faithful enough that Stripe's official
//! libraries (and our own webhook receiver) work against it unchanged, so the fleet can be
//! tested without a Stripe account. See `docs/stripesim.md` for what is simulated.
//!
//! ```no_run
//! # async fn demo() -> Result<(), stripesim::SimError> {
//! use stripesim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::on_free_port()).await?;
//! println!("api base: {}", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Module map: [`config`] (what can be configured), [`server`] (start and stop), [`edge`]
//! (what every request passes: request id, version, API key), [`gate`] and
//! [`ratelimit`] (faults and Stripe's rate limits before the API), [`idempotency`], [`form`] and
//! [`list`] (request parsing and pagination), [`changes`] (updates), [`customers`],
//! [`search`] and [`query`] (customer search), [`products`], [`prices`], [`billing`] (Checkout, subscriptions, invoices, payments),
//! [`events`], [`webhooks`] and
//! [`delivery`] and [`release`] (the resources and webhook sending), [`admin`] and [`faults`] (`/__sim/`).

pub mod admin;
pub mod billing;
pub mod changes;
pub mod config;
pub mod customers;
pub mod delivery;
pub mod edge;
pub mod error;
pub mod events;
pub mod faults;
pub mod form;
pub mod gate;
pub mod idempotency;
pub mod list;
pub mod prices;
pub mod products;
pub mod query;
pub mod ratelimit;
pub mod release;
pub mod search;
pub mod server;
pub mod state;
pub mod webhooks;

pub use config::SimConfig;
pub use error::{SimError, StripeError};
pub use server::{RunningSimulator, Simulator};
