//! What happens to every request before and after its handler, in the order Salesforce
//! would apply it: version check, outage, concurrency limit, latency, session, daily
//! allocation, injected errors; then the `Sforce-Limit-Info` header (docs/salesforce-api.md
//! §2.5: on every REST response; the simulator also sends it on errors and on `/jobs/`
//! responses, an open question in §10.7 resolved towards "always") and the call log.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use parking_lot::Mutex;

use crate::clock;
use crate::endpoints;
use crate::error::ApiError;
use crate::faults;
use crate::state::AppState;
use crate::store::Txn;

/// Oldest API version still served: 21.0–30.0 were retired in Summer '25 (§2.1).
pub const OLDEST_LIVE_VERSION: u32 = 31;

/// Per-request facts handlers need, inserted as a request extension.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The simulator's request id (`X-Sfsim-Request-Id`), recorded in write history.
    pub request_id: String,
    /// Endpoint name (see [`endpoints::classify`]).
    pub endpoint: &'static str,
    /// Major API version of the path, e.g. 62 for `v62.0`.
    pub api_version: u32,
    /// The id of the user whose session makes the call: the `commitUser` of its changes.
    pub user_id: String,
    /// The transaction of the all-or-none Composite request this is a subrequest of
    /// ([`crate::rest::composite`]); `None` for a request of its own.
    pub transaction: Option<Arc<Mutex<Txn>>>,
}

/// The gate of `/services/data/vNN.N/...`.
///
/// The request runs in a task of its own, as on a real server: a client that disconnects or
/// times out does not stop it, and its write still lands, after the added latency
/// (docs/sfsim.md, "Requests outlive their clients"). The task is tracked, so a shutdown
/// waits for it.
pub async fn rest_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let task = state.tasks.spawn(gated(state.clone(), request, next));
    match task.await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "A request's task failed.");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred.",
            )
            .into_response()
        }
    }
}

/// [`rest_gate`]'s work: checks, handler, headers and the call log.
async fn gated(state: AppState, request: Request, next: Next) -> Response {
    let arrived_ms = clock::now_ms();
    let endpoint = endpoints::classify(request.method(), request.uri().path());
    let request_id = state.next_request_id();
    let (mut response, usage) = admit(&state, request, next, endpoint, &request_id).await;
    let counted = usage.is_some();
    let (used, max) = usage.unwrap_or_else(|| state.daily.snapshot(clock::now_ms()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        headers.insert("sforce-limit-info", value);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-sfsim-request-id", value);
    }
    state
        .calls
        .record(arrived_ms, endpoint, response.status().as_u16(), counted);
    response
}

/// Runs the checks and the handler. Returns the usage after counting this request, or
/// `None` when it was refused before it counted.
async fn admit(
    state: &AppState,
    mut request: Request,
    next: Next,
    endpoint: &'static str,
    request_id: &str,
) -> (Response, Option<(u64, u64)>) {
    let api_version = match api_version(request.uri().path(), state.config.latest_api_version) {
        Ok(version) => version,
        Err(error) => return (error.into_response(), None),
    };
    if let Some(outage) = state.faults.outage_response() {
        return (outage, None);
    }
    if state
        .in_flight
        .long_running(state.config.long_running_threshold)
        >= state.config.long_running_limit
    {
        return (faults::concurrent_limit_exceeded().into_response(), None);
    }
    let _in_flight = state.in_flight.enter();
    if let Some(delay) = state.faults.latency() {
        tokio::time::sleep(delay).await;
    }
    let token = bearer_token(&request);
    let Some(username) = token.and_then(|token| state.sessions.touch(token)) else {
        return (ApiError::invalid_session().into_response(), None);
    };
    let user_id = state.user_id_of(&username).to_string();
    let usage = match state.daily.try_consume(clock::now_ms()) {
        Ok(usage) => usage,
        Err(_) => {
            let error = ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            );
            return (error.into_response(), None);
        }
    };
    if let Some(injected) = state.faults.injected_error(endpoint) {
        return (injected, Some(usage));
    }
    let method = request.method().clone();
    request.extensions_mut().insert(RequestContext {
        request_id: request_id.to_string(),
        endpoint,
        api_version,
        user_id,
        transaction: None,
    });
    let response = next.run(request).await;
    (method_not_allowed_body(&method, response), Some(usage))
}

/// The gate of unauthenticated, uncounted endpoints (OAuth, the versions list): outage,
/// latency and injected errors apply, and the call is logged.
pub async fn edge_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let arrived_ms = clock::now_ms();
    let endpoint = endpoints::classify(request.method(), request.uri().path());
    let response = if let Some(outage) = state.faults.outage_response() {
        outage
    } else {
        if let Some(delay) = state.faults.latency() {
            tokio::time::sleep(delay).await;
        }
        match state.faults.injected_error(endpoint) {
            Some(injected) => injected,
            None => next.run(request).await,
        }
    };
    state
        .calls
        .record(arrived_ms, endpoint, response.status().as_u16(), false);
    response
}

/// The bearer token of `Authorization: Bearer x` (or the older `OAuth x`, §2.2).
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("OAuth "))
        .map(str::trim)
}

/// The major version of `/services/data/vNN.N/...`: retired versions answer 410, unknown
/// ones 404 (the 410 body is unverified, §2.1).
pub(crate) fn api_version(path: &str, latest: u32) -> Result<u32, ApiError> {
    let segment = path.split('/').nth(3).unwrap_or("");
    let parsed = segment
        .strip_prefix('v')
        .and_then(|number| number.split_once('.'))
        .filter(|(_, minor)| minor.bytes().all(|b| b.is_ascii_digit()) && !minor.is_empty())
        .and_then(|(major, _)| major.parse::<u32>().ok());
    match parsed {
        Some(version) if (OLDEST_LIVE_VERSION..=latest).contains(&version) => Ok(version),
        Some(version) if (7..OLDEST_LIVE_VERSION).contains(&version) => Err(ApiError::new(
            StatusCode::GONE,
            "GONE",
            format!("The requested API version {segment} has been retired."),
        )),
        _ => Err(ApiError::not_found()),
    }
}

/// Gives axum's bare 405 Salesforce's body (§2.3, `METHOD_NOT_ALLOWED`).
fn method_not_allowed_body(method: &Method, response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allowed = response
        .headers()
        .get(header::ALLOW)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut rewritten = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        rewritten.headers_mut().insert(header::ALLOW, value);
    }
    rewritten
}
