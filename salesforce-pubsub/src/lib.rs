//! The Salesforce Pub/Sub API as both sides of this project speak it: `sfsim` serves it and
//! `workers outbound` subscribes to it. One crate so that the wire format is written once:
//!
//! - [`proto`]: the gRPC service and messages generated from the `.proto` Salesforce publishes
//!   (vendored in `proto/`, see its README for the source and licence);
//! - [`bitmap`]: how `changedFields`, `nulledFields` and `diffFields` are encoded;
//! - [`change`]: an Avro change event decoded with its schema into JSON and a typed header;
//! - [`connection`]: a TLS channel and the `accesstoken` / `instanceurl` / `tenantid`
//!   metadata every call carries.

pub mod bitmap;
pub mod change;
pub mod connection;

/// The generated Pub/Sub API types, server and client (package `eventbus.v1`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("eventbus.v1");
}

pub use change::{ChangeEvent, ChangeEventHeader, DecodeError, EventSchema};
pub use connection::{PubSubAuth, PubSubEndpoint};
