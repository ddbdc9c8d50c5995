//! The gate every request passes before it is sent: the caller's rate limiter.
//!
//! Stripe limits requests per account, not per process, so the fleet's replicas must share
//! one budget; the client only asks, and the caller decides what asking means (the
//! workers implement it on the Redis sliding-window limiter). [`Unmetered`] admits
//! everything, for tools and tests.

use std::{future::Future, pin::Pin};

use crate::error::FailureClass;

/// A boxed future, so that [`RequestGate`] can be used as a trait object.
pub type GateFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Interrupted>> + Send + 'a>>;

/// Something that must admit each Stripe request (every attempt of it) before it is sent.
pub trait RequestGate: Send + Sync {
    /// Waits until one more request may be sent, or answers [`Interrupted`] when the
    /// process is stopping; the request is then not sent.
    fn admit(&self) -> GateFuture<'_>;

    /// Hears how an admitted attempt ended (`None`: Stripe answered 2xx with the object;
    /// otherwise the failure's class), so that the caller can count Stripe calls by outcome
    /// where it already meters them. The default ignores it.
    fn attempted(&self, _failure: Option<FailureClass>) {}
}

/// The gate gave up waiting because the process is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopping: the request was not sent")]
pub struct Interrupted;

/// A gate that admits every request at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unmetered;

impl RequestGate for Unmetered {
    fn admit(&self) -> GateFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}
