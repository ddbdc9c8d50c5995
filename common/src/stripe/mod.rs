//! Everything the fleet knows about Stripe webhooks: how a delivery is authenticated
//! ([`signature`]) and which parts of the event envelope it relies on ([`envelope`]).

pub mod envelope;
pub mod signature;

pub use envelope::{EnvelopeError, EventEnvelope};
pub use signature::{SignatureError, SignatureVerifier, Tolerance};
