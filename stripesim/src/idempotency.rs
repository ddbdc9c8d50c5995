//! Idempotent requests as Stripe does them (https://docs.stripe.com/api/idempotent_requests):
//! the first response to a POST with an `Idempotency-Key` is saved (status and body, 500s
//! included) and replayed for a retry with the same key and the same parameters, marked
//! `Idempotent-Replayed: true`; other parameters under the same key are a 400
//! `idempotency_error`; a retry while the first is still executing is a 409. Keys are
//! scoped to the API key and kept for the configured retention (Stripe: at least 24 h).
//! Requests that fail validation (400) or conflict (409, 429) save nothing, as Stripe says.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::edge::{ApiKey, RequestId};
use crate::error::StripeError;
use crate::state::AppState;

/// Largest request or response body handled (far above anything this API sends).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A saved first response.
#[derive(Debug, Clone)]
pub struct Saved {
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: Bytes,
    /// The `Request-Id` of the request that produced it (sent as `Original-Request`).
    pub request_id: String,
}

#[derive(Debug)]
struct Entry {
    fingerprint: String,
    first_seen: Instant,
    saved: Option<Saved>,
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone)]
pub enum Decision {
    /// First use of the key: run the request (it is now in flight).
    Execute,
    /// Same key, same parameters, finished: replay this.
    Replay(Saved),
    /// Same key, other parameters.
    Mismatch,
    /// Same key, first request still executing.
    InFlight,
}

/// The keys seen and their outcomes.
#[derive(Debug)]
pub struct IdempotencyTable {
    retention: Duration,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl IdempotencyTable {
    /// An empty table keeping keys for `retention`.
    pub fn new(retention: Duration) -> Self {
        Self {
            retention,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Decides what a request with `key` (under API key `scope`) and parameters
    /// `fingerprint` gets; [`Decision::Execute`] marks the key in flight.
    pub fn begin(&self, scope: &str, key: &str, fingerprint: &str, now: Instant) -> Decision {
        let mut entries = self.entries.lock();
        entries.retain(|_, entry| now.duration_since(entry.first_seen) < self.retention);
        let slot = (scope.to_string(), key.to_string());
        match entries.get(&slot) {
            Some(entry) if entry.fingerprint != fingerprint => Decision::Mismatch,
            Some(Entry {
                saved: Some(saved), ..
            }) => Decision::Replay(saved.clone()),
            Some(_) => Decision::InFlight,
            None => {
                entries.insert(
                    slot,
                    Entry {
                        fingerprint: fingerprint.to_string(),
                        first_seen: now,
                        saved: None,
                    },
                );
                Decision::Execute
            }
        }
    }

    /// Records the outcome of an executed request; `None` forgets the key (nothing saved).
    pub fn finish(&self, scope: &str, key: &str, outcome: Option<Saved>) {
        let slot = (scope.to_string(), key.to_string());
        let mut entries = self.entries.lock();
        match outcome {
            Some(saved) => {
                if let Some(entry) = entries.get_mut(&slot) {
                    entry.saved = Some(saved);
                }
            }
            None => {
                entries.remove(&slot);
            }
        }
    }
}

/// The parameters of a request, independent of their order: method, path, and the sorted
/// `&`-separated pairs of the body.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut pairs: Vec<&str> = text.split('&').filter(|pair| !pair.is_empty()).collect();
    pairs.sort_unstable();
    format!("{method} {path}?{}", pairs.join("&"))
}

/// The middleware for `/v1/` POSTs; other methods pass (Stripe ignores keys on GET and DELETE).
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (Some(key), true) = (key, request.method() == Method::POST) else {
        return next.run(request).await;
    };
    if key.len() > 255 {
        return StripeError::invalid(
            None,
            "Idempotency keys can be at most 255 characters long.",
            None,
        )
        .into_response();
    }
    let scope = request
        .extensions()
        .get::<ApiKey>()
        .map(|k| k.0.clone())
        .unwrap_or_default();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return StripeError::invalid(None, "The request body could not be read.", None)
            .into_response();
    };
    let print = fingerprint(&parts.method, parts.uri.path(), &body);
    match state
        .idempotency
        .begin(&scope, &key, &print, Instant::now())
    {
        Decision::Execute => {}
        Decision::Replay(saved) => return replay(saved, &key),
        Decision::Mismatch => {
            return StripeError::idempotency(StatusCode::BAD_REQUEST, format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request.")).into_response();
        }
        Decision::InFlight => {
            return StripeError::idempotency(StatusCode::CONFLICT, format!("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {key}. Please try again later.")).into_response();
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (mut parts, body) = response.into_parts();
    let body = match to_bytes(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(error) => {
            state.idempotency.finish(&scope, &key, None);
            return StripeError::internal(format!("response body unreadable: {error}"))
                .into_response();
        }
    };
    let saves = !matches!(
        parts.status,
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
    );
    let outcome = saves.then(|| Saved {
        status: parts.status,
        body: body.clone(),
        request_id,
    });
    state.idempotency.finish(&scope, &key, outcome);
    if let Ok(value) = HeaderValue::from_str(&key) {
        parts.headers.insert("idempotency-key", value);
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(saved: Saved, key: &str) -> Response {
    let mut response = (saved.status, saved.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Ok(value) = HeaderValue::from_str(&saved.request_id) {
        headers.insert("original-request", value);
    }
    if let Ok(value) = HeaderValue::from_str(key) {
        headers.insert("idempotency-key", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Saved {
        Saved {
            status: StatusCode::OK,
            body: Bytes::from_static(b"{}"),
            request_id: "req_1".into(),
        }
    }

    #[test]
    fn first_use_executes_then_conflicts_then_replays() {
        let table = IdempotencyTable::new(Duration::from_secs(60));
        let now = Instant::now();
        assert!(matches!(
            table.begin("sk", "k", "a", now),
            Decision::Execute
        ));
        assert!(matches!(
            table.begin("sk", "k", "a", now),
            Decision::InFlight
        ));
        assert!(matches!(
            table.begin("sk", "k", "b", now),
            Decision::Mismatch
        ));
        table.finish("sk", "k", Some(saved()));
        assert!(matches!(
            table.begin("sk", "k", "a", now),
            Decision::Replay(_)
        ));
        assert!(
            matches!(table.begin("other", "k", "b", now), Decision::Execute),
            "keys are per API key"
        );
    }

    #[test]
    fn unsaved_outcomes_and_expired_keys_free_the_key() {
        let table = IdempotencyTable::new(Duration::from_secs(60));
        let now = Instant::now();
        assert!(matches!(
            table.begin("sk", "k", "a", now),
            Decision::Execute
        ));
        table.finish("sk", "k", None);
        assert!(matches!(
            table.begin("sk", "k", "b", now),
            Decision::Execute
        ));
        table.finish("sk", "k", Some(saved()));
        let later = now + Duration::from_secs(61);
        assert!(matches!(
            table.begin("sk", "k", "c", later),
            Decision::Execute
        ));
    }

    #[test]
    fn fingerprint_ignores_parameter_order() {
        let one = fingerprint(&Method::POST, "/v1/customers", b"a=1&b=2");
        assert_eq!(one, fingerprint(&Method::POST, "/v1/customers", b"b=2&a=1"));
        assert_ne!(one, fingerprint(&Method::POST, "/v1/customers", b"a=1&b=3"));
    }
}
