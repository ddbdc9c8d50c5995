//! Webhook endpoints (https://docs.stripe.com/api/webhook_endpoints): create (`url` and
//! `enabled_events[]` required; the `whsec_…` signing `secret` is returned by create only),
//! retrieve, update (`url`, `enabled_events[]`, `description`, `metadata`, `disabled`), list
//! and delete. Events are sent to them by [`crate::delivery`].

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::changes::{self, text_or_null};
use crate::error::StripeError;
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::{new_id, unix_now, AppState};

/// Routes under `/v1/webhook_endpoints`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook_endpoints", get(list).post(create))
        .route(
            "/v1/webhook_endpoints/{id}",
            get(retrieve).post(update).delete(delete),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateParams {
    url: Option<String>,
    enabled_events: Option<Vec<String>>,
    description: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    api_version: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as Stripe does; nothing to expand here")]
    expand: Vec<String>,
}

/// An endpoint as shown after creation: without its secret.
pub fn public_view(endpoint: &Value) -> Value {
    let mut shown = endpoint.clone();
    if let Some(fields) = shown.as_object_mut() {
        fields.remove("secret");
    }
    shown
}

async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, StripeError> {
    let params: CreateParams = form::parse(&body)?;
    let url = checked_url(
        &params
            .url
            .ok_or_else(|| StripeError::missing_param("url"))?,
    )?;
    let events = params
        .enabled_events
        .filter(|events| !events.is_empty())
        .ok_or_else(|| StripeError::missing_param("enabled_events"))?;
    let id = new_id("we");
    let endpoint = json!({
        "id": id,
        "object": "webhook_endpoint",
        "api_version": params.api_version,
        "application": null,
        "created": unix_now(),
        "description": params.description,
        "enabled_events": events,
        "livemode": false,
        "metadata": params.metadata.unwrap_or_default(),
        "secret": format!("whsec_{}", Alphanumeric.sample_string(&mut rand::rng(), 32)),
        "status": "enabled",
        "url": url,
    });
    state
        .store
        .lock()
        .webhook_endpoints
        .insert(id, endpoint.clone());
    Ok(Json(endpoint))
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let store = state.store.lock();
    store
        .webhook_endpoints
        .get(&id)
        .map(|endpoint| Json(public_view(endpoint)))
        .ok_or_else(|| StripeError::no_such("webhook endpoint", &id, "id"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateParams {
    url: Option<String>,
    enabled_events: Option<Vec<String>>,
    description: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    disabled: Option<bool>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as Stripe does; nothing to expand here")]
    expand: Vec<String>,
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let params: UpdateParams = form::parse(&body)?;
    let url = params.url.map(|url| checked_url(&url)).transpose()?;
    if params.enabled_events.as_ref().is_some_and(Vec::is_empty) {
        return Err(StripeError::missing_param("enabled_events"));
    }
    let status = params
        .disabled
        .map(|disabled| json!(if disabled { "disabled" } else { "enabled" }));
    let fields = [
        ("url", url.map(Value::String)),
        (
            "enabled_events",
            params.enabled_events.map(|events| json!(events)),
        ),
        (
            "description",
            params.description.map(|text| text_or_null(Some(text))),
        ),
        ("status", status),
    ];
    let fields = fields
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| (field, value)))
        .collect();
    let mut store = state.store.lock();
    let endpoint = store
        .webhook_endpoints
        .get_mut(&id)
        .ok_or_else(|| StripeError::no_such("webhook endpoint", &id, "id"))?;
    changes::apply(endpoint, fields, params.metadata);
    Ok(Json(public_view(endpoint)))
}

/// An http(s) URL, or Stripe's 400 `url_invalid`.
fn checked_url(url: &str) -> Result<String, StripeError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url.to_string()),
        _ => Err(StripeError::invalid(
            Some("url_invalid"),
            "Invalid URL: the URL must be http or https.",
            Some("url"),
        )),
    }
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    store
        .webhook_endpoints
        .remove(&id)
        .ok_or_else(|| StripeError::no_such("webhook endpoint", &id, "id"))?;
    Ok(Json(
        json!({ "id": id, "object": "webhook_endpoint", "deleted": true }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i64>,
    starting_after: Option<String>,
    ending_before: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as Stripe does; nothing to expand here")]
    expand: Vec<String>,
}

async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: ListParams = form::parse(query.unwrap_or_default().as_bytes())?;
    let store = state.store.lock();
    let all = store.webhook_endpoints.newest_first();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&all, &page, "/v1/webhook_endpoints", public_view)
}
