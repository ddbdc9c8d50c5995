//! Talking to Salesforce: OAuth client credentials (or the JWT bearer flow, [`jwt`]) with a
//! token shared by all replicas ([`auth`]), REST upserts, sObject Collections and SOQL
//! ([`client`]), Bulk API 2.0 ingest jobs ([`bulk`], [`csv`]), daily usage from
//! `Sforce-Limit-Info` ([`usage`]), literal escaping ([`soql`]), and the classification of
//! every failure ([`error`]).
//!
//! Everything follows `docs/salesforce-api.md`, the documented behaviour of a real
//! org; the tests run it against the `sfsim` simulator over HTTP.

pub mod auth;
pub mod bulk;
pub mod client;
pub mod csv;
pub mod error;
pub mod jwt;
pub mod soql;
pub mod usage;

pub use auth::{ClientCredentials, Grant};
pub use client::{
    Body, CallGate, RecordOutcome, SalesforceClient, SalesforceSettings, Ungated, COLLECTION_LIMIT,
};
pub use error::{ApiError, FailureClass, SalesforceError};
pub use usage::ApiUsage;
