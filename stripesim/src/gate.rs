//! What an authenticated API request passes before the idempotency layer and its handler,
//! in this order: an outage, added latency, the 429s asked for, Stripe's rate limiter, and
//! injected errors (see [`crate::faults`] and [`crate::ratelimit`]). Each refusal happens
//! before the idempotency layer, as Stripe's limiters do ("rate limiters run before the
//! API's idempotency layer", https://docs.stripe.com/error-low-level), so nothing is saved
//! under the request's `Idempotency-Key` and a retry with the same key runs.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};

use crate::faults::rate_limited;
use crate::ratelimit::Endpoint;
use crate::state::AppState;

/// The method, path and matched route of a request: what the gate decides on.
#[derive(Debug, Clone)]
pub struct Call {
    method: String,
    path: String,
    template: Option<String>,
}

impl Call {
    /// Reads them from `request`.
    pub fn of(request: &Request) -> Self {
        Self {
            method: request.method().as_str().to_string(),
            path: request.uri().path().to_string(),
            template: request
                .extensions()
                .get::<MatchedPath>()
                .map(|matched| matched.as_str().to_string()),
        }
    }
}

/// The answer that stops `call` here, if one does.
pub async fn check(state: &AppState, call: Call) -> Option<Response> {
    if let Some(outage) = state.faults.outage() {
        return Some(outage);
    }
    if let Some(delay) = state.faults.latency() {
        tokio::time::sleep(delay).await;
    }
    if let Some(too_many) = state.faults.take_rate_limit() {
        return Some(too_many.into_response());
    }
    let endpoint = Endpoint::new(&call.method, call.template.as_deref().unwrap_or(&call.path));
    if !state.rate_limiter.admit(&endpoint, Instant::now()) {
        return Some(rate_limited().into_response());
    }
    state.faults.injected_error(&call.method, &call.path)
}
