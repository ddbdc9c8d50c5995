//! Checkout session endpoints (https://docs.stripe.com/api/checkout/sessions): create,
//! retrieve, list (filters `customer`, `status`, `subscription`, `payment_intent`), the
//! session's `line_items`, and expire (an open session only; emits
//! `checkout.session.expired`). Creating a session emits no event, as in Stripe.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::{new_session, view, SessionParams};
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::events::{emit, Cause};
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::AppState;

/// Routes under `/v1/checkout/sessions`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkout/sessions", get(list).post(create))
        .route("/v1/checkout/sessions/{id}", get(retrieve))
        .route("/v1/checkout/sessions/{id}/expire", post(expire))
        .route("/v1/checkout/sessions/{id}/line_items", get(line_items))
}

fn expands_line_items(expand: &[String]) -> bool {
    expand.iter().any(|field| field == "line_items")
}

async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, StripeError> {
    let params: SessionParams = form::parse(&body)?;
    let expand = expands_line_items(&params.expand);
    let mut store = state.store.lock();
    let session = new_session(&store, params)?;
    let id = session["id"].as_str().unwrap_or_default().to_string();
    store.checkout_sessions.insert(id, session.clone());
    Ok(Json(view(&session, expand)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrieveParams {
    #[serde(default)]
    expand: Vec<String>,
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: RetrieveParams = form::parse(query.unwrap_or_default().as_bytes())?;
    let store = state.store.lock();
    let session = store
        .checkout_sessions
        .get(&id)
        .ok_or_else(|| StripeError::no_such("checkout.session", &id, "id"))?;
    Ok(Json(view(session, expands_line_items(&params.expand))))
}

async fn expire(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    let session = store
        .checkout_sessions
        .get_mut(&id)
        .ok_or_else(|| StripeError::no_such("checkout.session", &id, "id"))?;
    if session["status"] != "open" {
        return Err(StripeError::invalid(
            None,
            format!("Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".", session["status"].as_str().unwrap_or_default()),
            None,
        ));
    }
    session["status"] = json!("expired");
    session["url"] = Value::Null;
    let shown = view(session, false);
    emit(
        &state,
        &mut store,
        "checkout.session.expired",
        shown.clone(),
        None,
        &Cause::of(&request, &headers),
    );
    Ok(Json(shown))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    customer: Option<String>,
    status: Option<String>,
    subscription: Option<String>,
    payment_intent: Option<String>,
    limit: Option<i64>,
    starting_after: Option<String>,
    ending_before: Option<String>,
    #[serde(default)]
    expand: Vec<String>,
}

async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: ListParams = form::parse(query.unwrap_or_default().as_bytes())?;
    let expand = params.expand.iter().any(|field| field == "data.line_items");
    let filters = [
        ("customer", &params.customer),
        ("status", &params.status),
        ("subscription", &params.subscription),
        ("payment_intent", &params.payment_intent),
    ];
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .checkout_sessions
        .newest_first()
        .into_iter()
        .filter(|session| {
            filters.iter().all(|(field, wanted)| {
                wanted
                    .as_ref()
                    .is_none_or(|wanted| session[*field] == wanted.as_str())
            })
        })
        .collect();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&matching, &page, "/v1/checkout/sessions", |session| {
        view(session, expand)
    })
}

async fn line_items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let page: PageParams = form::parse(query.unwrap_or_default().as_bytes())?;
    let store = state.store.lock();
    let session = store
        .checkout_sessions
        .get(&id)
        .ok_or_else(|| StripeError::no_such("checkout.session", &id, "id"))?;
    let items: Vec<&Value> = session["line_items"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    // Line items keep the order they were given in, not newest first.
    page_of(
        &items,
        &page,
        &format!("/v1/checkout/sessions/{id}/line_items"),
        Value::clone,
    )
}
