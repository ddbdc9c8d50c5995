//! Prices (https://docs.stripe.com/api/prices): create (per unit or tiered, one-time or
//! recurring), retrieve, update (only `active`, `nickname`, `lookup_key`, `metadata`,
//! `tax_behavior`: amounts and tiers are fixed at creation), list with `product`, `active`,
//! `type`, `currency`. `tiers` is shown only when expanded (`expand[]=tiers`, in lists
//! `expand[]=data.tiers`), so events carry tiered prices without tiers, as Stripe's do.
//! Each change emits `price.created` or `price.updated`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::changes::{self, text_or_null};
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::events::{emit, Cause};
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::AppState;

pub mod shape;

pub use shape::{new_price, view, PriceParams};

/// Routes under `/v1/prices`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/prices", get(list).post(create))
        .route("/v1/prices/{id}", get(retrieve).post(update))
}

async fn create(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let params: PriceParams = form::parse(&body)?;
    let expand = params.expand.iter().any(|field| field == "tiers");
    let price = new_price(params)?;
    let mut store = state.store.lock();
    let product = price["product"].as_str().unwrap_or_default().to_string();
    if store.products.get(&product).is_none() {
        return Err(StripeError {
            status: axum::http::StatusCode::BAD_REQUEST,
            ..StripeError::no_such("product", &product, "product")
        });
    }
    store.prices.insert(
        price["id"].as_str().unwrap_or_default().to_string(),
        price.clone(),
    );
    emit(
        &state,
        &mut store,
        "price.created",
        view(&price, false),
        None,
        &Cause::of(&request, &headers),
    );
    Ok(Json(view(&price, expand)))
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
    let price = store
        .prices
        .get(&id)
        .ok_or_else(|| StripeError::no_such("price", &id, "id"))?;
    Ok(Json(view(
        price,
        params.expand.iter().any(|field| field == "tiers"),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateParams {
    active: Option<bool>,
    nickname: Option<String>,
    lookup_key: Option<String>,
    tax_behavior: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    expand: Vec<String>,
}

async fn update(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let params: UpdateParams = form::parse(&body)?;
    let expand = params.expand.iter().any(|field| field == "tiers");
    let fields = [
        ("active", params.active.map(Value::Bool)),
        (
            "nickname",
            params.nickname.map(|text| text_or_null(Some(text))),
        ),
        (
            "lookup_key",
            params.lookup_key.map(|text| text_or_null(Some(text))),
        ),
        ("tax_behavior", params.tax_behavior.map(Value::String)),
    ];
    let fields = fields
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| (field, value)))
        .collect();
    let mut store = state.store.lock();
    let price = store
        .prices
        .get_mut(&id)
        .ok_or_else(|| StripeError::no_such("price", &id, "id"))?;
    let previous = changes::apply(price, fields, params.metadata);
    let price = price.clone();
    if !previous.is_empty() {
        emit(
            &state,
            &mut store,
            "price.updated",
            view(&price, false),
            Some(Value::Object(previous)),
            &Cause::of(&request, &headers),
        );
    }
    Ok(Json(view(&price, expand)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    product: Option<String>,
    active: Option<bool>,
    #[serde(rename = "type")]
    kind: Option<String>,
    currency: Option<String>,
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
    let expand = params.expand.iter().any(|field| field == "data.tiers");
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .prices
        .newest_first()
        .into_iter()
        .filter(|price| {
            params
                .product
                .as_ref()
                .is_none_or(|product| price["product"] == product.as_str())
        })
        .filter(|price| params.active.is_none_or(|active| price["active"] == active))
        .filter(|price| {
            params
                .kind
                .as_ref()
                .is_none_or(|kind| price["type"] == kind.as_str())
        })
        .filter(|price| {
            params
                .currency
                .as_ref()
                .is_none_or(|currency| price["currency"] == currency.to_lowercase().as_str())
        })
        .collect();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&matching, &page, "/v1/prices", |price| view(price, expand))
}
