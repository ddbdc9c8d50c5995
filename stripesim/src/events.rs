//! Events (https://docs.stripe.com/api/events): every change to an object records the event
//! Stripe would send (`customer.created`, `customer.updated` with
//! `data.previous_attributes`, `customer.deleted`), which is listed by `GET /v1/events`
//! (newest first; `type` with `*` wildcards, `types[]`, `created[gt|gte|lt|lte]`) and handed
//! to the webhook endpoints that subscribe to it.

use std::time::Instant;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::delivery;
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::{new_id, unix_now, AppState, Store};

/// Routes under `/v1/events`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
}

/// What caused an event: the event's `request` (`{"id", "idempotency_key"}`), both null
/// for events no API request caused (a customer paying on the Checkout page, a renewal).
#[derive(Debug, Clone, Default)]
pub struct Cause {
    /// The API request id.
    pub request_id: Option<String>,
    /// Its `Idempotency-Key`, if it had one.
    pub idempotency_key: Option<String>,
}

impl Cause {
    /// The cause of the request being handled.
    pub fn of(request_id: &RequestId, headers: &HeaderMap) -> Self {
        Self {
            request_id: Some(request_id.0.clone()),
            idempotency_key: headers
                .get("idempotency-key")
                .and_then(|value| value.to_str().ok())
                .map(str::to_string),
        }
    }

    /// No API request: something that happened in Stripe (a payment, a renewal).
    pub fn automatic() -> Self {
        Self::default()
    }
}

/// Records the event `kind` about `object` (with `previous_attributes` for updates), feeds
/// customer changes to the search index, and starts its delivery to every endpoint that
/// subscribes to it.
pub fn emit(
    state: &AppState,
    store: &mut Store,
    kind: &str,
    object: Value,
    previous: Option<Value>,
    cause: &Cause,
) {
    let targets = delivery::targets(store, kind);
    if let Some(id) = object["id"].as_str() {
        match kind {
            "customer.created" | "customer.updated" => {
                state
                    .search
                    .record(id, Some(object.clone()), Instant::now());
            }
            "customer.deleted" => state.search.record(id, None, Instant::now()),
            _ => {}
        }
    }
    let mut data = json!({ "object": object });
    if let Some(previous) = previous {
        data["previous_attributes"] = previous;
    }
    let id = new_id("evt");
    let event = json!({
        "id": id,
        "object": "event",
        "api_version": state.config.api_version,
        "created": unix_now(),
        "data": data,
        "livemode": false,
        "pending_webhooks": targets.len(),
        "request": { "id": cause.request_id, "idempotency_key": cause.idempotency_key },
        "type": kind,
    });
    store.events.insert(id, event.clone());
    delivery::dispatch(state, &event, targets);
}

/// Whether an event type matches a `type` filter, where `*` matches any rest
/// (`customer.*`), as Stripe documents for `GET /v1/events`.
pub fn type_matches(filter: &str, kind: &str) -> bool {
    match filter.split_once('*') {
        Some((prefix, _)) => kind.starts_with(prefix),
        None => filter == kind,
    }
}

/// `created[gt]` and friends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatedRange {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl CreatedRange {
    /// Whether `created` lies in the range.
    pub fn contains(&self, created: i64) -> bool {
        self.gt.is_none_or(|bound| created > bound)
            && self.gte.is_none_or(|bound| created >= bound)
            && self.lt.is_none_or(|bound| created < bound)
            && self.lte.is_none_or(|bound| created <= bound)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    types: Option<Vec<String>>,
    created: Option<CreatedRange>,
    delivery_success: Option<bool>,
    limit: Option<i64>,
    starting_after: Option<String>,
    ending_before: Option<String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "accepted as Stripe does; events have nothing to expand here"
    )]
    expand: Vec<String>,
}

async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: ListParams = form::parse(query.unwrap_or_default().as_bytes())?;
    if params.kind.is_some() && params.types.is_some() {
        return Err(StripeError::invalid(
            None,
            "You may only specify one of these parameters: type, types.",
            Some("types"),
        ));
    }
    let range = params.created.unwrap_or_default();
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .events
        .newest_first()
        .into_iter()
        .filter(|event| {
            let kind = event["type"].as_str().unwrap_or_default();
            let by_type = match (&params.kind, &params.types) {
                (Some(filter), _) => type_matches(filter, kind),
                (None, Some(types)) => types.iter().any(|t| t == kind),
                (None, None) => true,
            };
            let delivered = params
                .delivery_success
                .is_none_or(|wanted| (event["pending_webhooks"] == 0) == wanted);
            by_type && delivered && range.contains(event["created"].as_i64().unwrap_or(0))
        })
        .collect();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&matching, &page, "/v1/events", Value::clone)
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let store = state.store.lock();
    store
        .events
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| StripeError::no_such("event", &id, "id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_types() {
        assert!(type_matches("customer.*", "customer.updated"));
        assert!(type_matches("*", "product.created"));
        assert!(!type_matches("customer.*", "product.created"));
        assert!(!type_matches("customer.created", "customer.updated"));
    }

    #[test]
    fn created_range_bounds() {
        let range = CreatedRange {
            gte: Some(10),
            lt: Some(20),
            ..CreatedRange::default()
        };
        assert!(range.contains(10) && range.contains(19));
        assert!(!range.contains(9) && !range.contains(20));
    }
}
