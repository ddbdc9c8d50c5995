//! A small typed Stripe API client for the fleet.
//!
//! Why not the ecosystem's generated client: see the README ("Choices worth knowing"). In
//! short, the fleet needs a dozen calls; this crate is those calls on the reqwest and serde
//! the fleet already builds, with what a payments integration must get right made
//! explicit: every mutating call takes an [`IdempotencyKey`] derived from its cause, every
//! request attempt passes a [`RequestGate`] (the fleet's shared budget), every failure has a
//! [`FailureClass`], the key never appears in `Debug`, and the `Stripe-Version` is pinned.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use stripe_client::{customers::CustomerParams, ApiKey, IdempotencyKey, StripeClient, StripeSettings, Unmetered};
//! let settings = StripeSettings::new(ApiKey::new("sk_test_123")?);
//! let client = StripeClient::new(settings, Arc::new(Unmetered))?;
//! let params = CustomerParams { email: Some("jane@example.com".into()), ..Default::default() };
//! let key = IdempotencyKey::derive("customer.create", &["003000000000001"]);
//! let customer = client.create_customer(&params, &key).await?;
//! # let _ = customer; Ok(()) }
//! ```
//!
//! Module map: [`config`] (key, base URL, version), [`client`] (the HTTP core and retries),
//! [`error`] (classification), [`gate`], [`idempotency`], [`list`] (pagination), and the
//! resources: [`customers`], [`checkout`], [`prices`], [`subscriptions`], [`events`].

pub mod client;
pub mod config;
pub mod error;
pub mod gate;
pub mod idempotency;
pub mod list;
mod resources;

pub use client::StripeClient;
pub use config::{ApiKey, InvalidApiKey, StripeSettings, API_VERSION, DEFAULT_API_BASE};
pub use error::{ApiError, FailureClass, StripeError};
pub use gate::{Interrupted, RequestGate, Unmetered};
pub use idempotency::IdempotencyKey;
pub use list::{CreatedRange, List, Page};
pub use resources::{checkout, customers, events, prices, subscriptions, Metadata};
