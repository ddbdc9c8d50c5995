//! Talking to Salesforce: OAuth client credentials (or the JWT bearer flow, [`jwt`]) with a
//! token shared by all instances through a store the caller chooses ([`auth`],
//! [`coordination`]), REST upserts, sObject Collections and SOQL
//! ([`client`]), Bulk API 2.0 ingest jobs ([`bulk`], [`csv`]), daily usage from
//! `Sforce-Limit-Info` ([`usage`]), literal escaping ([`soql`]), and the classification of
//! every failure ([`error`]). sObject Collections calls (upsert, update, delete of up to 200
//! records) are methods of [`SalesforceClient`] too, in `collections.rs`; several of them go in
//! one call through the Composite resource ([`composite`]).
//!
//! Everything follows `docs/salesforce-api.md`, the documented behaviour of a real
//! org; the tests run it against the `sfsim` simulator over HTTP.
//!
//! The client knows nothing of Redis: what several instances share (the session token, the
//! latest API usage, the rate limit every call passes) are the traits of [`coordination`].
//! [`Coordination::in_process`] keeps them in memory; the fleet's workers implement them on
//! Redis.

pub mod auth;
pub mod bulk;
pub mod client;
mod collections;
pub mod composite;
pub mod coordination;
pub mod csv;
pub mod error;
pub mod jwt;
pub mod record;
pub mod redact;
pub mod soql;
pub mod usage;

pub use auth::{ClientCredentials, Grant, Session};
pub use client::{Body, SalesforceClient, SalesforceSettings, COLLECTION_LIMIT};
pub use composite::{
    CompositeRequest, SubResponse, Subrequest, COMPOSITE_COLLECTIONS_LIMIT, COMPOSITE_LIMIT,
};
pub use coordination::{
    CallGate, Coordination, InProcess, Interrupted, StoreError, StoreFuture, TokenStore, Ungated,
    UsageStore,
};
pub use error::{ApiError, FailureClass, SalesforceError};
pub use record::RecordOutcome;
pub use usage::ApiUsage;
