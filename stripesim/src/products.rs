//! Products (https://docs.stripe.com/api/products): create (a custom `id` allowed), retrieve,
//! update, delete (refused while prices refer to the product, as Stripe refuses it), list
//! with `active`; each change emits `product.created`, `product.updated` or
//! `product.deleted`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::changes::{self, initial_metadata, text_or_null};
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::events::{emit, Cause};
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::{new_id, unix_now, AppState};

/// Routes under `/v1/products`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/products", get(list).post(create))
        .route(
            "/v1/products/{id}",
            get(retrieve).post(update).delete(delete),
        )
}

/// Parameters of create and update (`id` only on create).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    id: Option<String>,
    name: Option<String>,
    active: Option<bool>,
    description: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    unit_label: Option<String>,
    url: Option<String>,
    statement_descriptor: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as Stripe does; nothing to expand here")]
    expand: Vec<String>,
}

/// A new product in Stripe's shape; `name` is required.
pub fn new_product(params: ProductParams) -> Result<Value, StripeError> {
    let name = params
        .name
        .filter(|name| !name.is_empty())
        .ok_or_else(|| StripeError::missing_param("name"))?;
    let now = unix_now();
    Ok(json!({
        "id": params.id.unwrap_or_else(|| new_id("prod")),
        "object": "product",
        "active": params.active.unwrap_or(true),
        "created": now,
        "default_price": null,
        "description": text_or_null(params.description),
        "images": [],
        "livemode": false,
        "marketing_features": [],
        "metadata": initial_metadata(params.metadata),
        "name": name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": text_or_null(params.statement_descriptor),
        "tax_code": null,
        "unit_label": text_or_null(params.unit_label),
        "updated": now,
        "url": text_or_null(params.url),
    }))
}

async fn create(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let product = new_product(form::parse(&body)?)?;
    let id = product["id"].as_str().unwrap_or_default().to_string();
    let mut store = state.store.lock();
    if store.products.get(&id).is_some() {
        return Err(StripeError::invalid(
            Some("resource_already_exists"),
            format!("Product already exists: '{id}'"),
            Some("id"),
        ));
    }
    store.products.insert(id, product.clone());
    emit(
        &state,
        &mut store,
        "product.created",
        product.clone(),
        None,
        &Cause::of(&request, &headers),
    );
    Ok(Json(product))
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let store = state.store.lock();
    store
        .products
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| StripeError::no_such("product", &id, "id"))
}

async fn update(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let params: ProductParams = form::parse(&body)?;
    if params.id.is_some() {
        return Err(StripeError::invalid(
            Some("parameter_unknown"),
            "Received unknown parameter: id",
            Some("id"),
        ));
    }
    if params.name.as_deref() == Some("") {
        return Err(StripeError::invalid(
            None,
            "You cannot unset the name of a product.",
            Some("name"),
        ));
    }
    let mut fields = vec![
        ("active", params.active.map(Value::Bool)),
        ("name", params.name.map(Value::String)),
    ];
    for (field, value) in [
        ("description", params.description),
        ("unit_label", params.unit_label),
        ("url", params.url),
        ("statement_descriptor", params.statement_descriptor),
    ] {
        fields.push((field, value.map(|value| text_or_null(Some(value)))));
    }
    let fields = fields
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| (field, value)))
        .collect();
    let mut store = state.store.lock();
    let product = store
        .products
        .get_mut(&id)
        .ok_or_else(|| StripeError::no_such("product", &id, "id"))?;
    let previous = changes::apply(product, fields, params.metadata);
    if !previous.is_empty() {
        product["updated"] = unix_now().into();
    }
    let product = product.clone();
    if !previous.is_empty() {
        emit(
            &state,
            &mut store,
            "product.updated",
            product.clone(),
            Some(Value::Object(previous)),
            &Cause::of(&request, &headers),
        );
    }
    Ok(Json(product))
}

async fn delete(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    if store.products.get(&id).is_none() {
        return Err(StripeError::no_such("product", &id, "id"));
    }
    if store
        .prices
        .newest_first()
        .iter()
        .any(|price| price["product"] == id.as_str())
    {
        return Err(StripeError::invalid(
            None,
            "This product cannot be deleted because it has one or more user-created prices.",
            None,
        ));
    }
    let product = store.products.remove(&id).unwrap_or_default();
    emit(
        &state,
        &mut store,
        "product.deleted",
        product,
        None,
        &Cause::of(&request, &headers),
    );
    Ok(Json(
        json!({ "id": id, "object": "product", "deleted": true }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    active: Option<bool>,
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
    let matching: Vec<&Value> = store
        .products
        .newest_first()
        .into_iter()
        .filter(|product| {
            params
                .active
                .is_none_or(|active| product["active"] == active)
        })
        .collect();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&matching, &page, "/v1/products", Value::clone)
}
