//! Customers (https://docs.stripe.com/api/customers): create, retrieve, update (metadata
//! merged key by key, `""` deleting a key or unsetting a field), delete (the
//! `{"id","object","deleted":true}` stub, which retrieving also answers), list with an
//! `email` filter; each change emits its event. Deleting a customer cancels their
//! subscriptions (`customer.subscription.deleted` before `customer.deleted`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::billing::flows::cancel_subscription;
use crate::changes::{self, initial_metadata, text_or_null};
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::events::{emit, Cause};
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::{new_id, unix_now, AppState};

/// Routes under `/v1/customers`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", get(list).post(create))
        .route(
            "/v1/customers/{id}",
            get(retrieve).post(update).delete(delete),
        )
}

/// The writable fields this simulator keeps (others are rejected as unknown).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    description: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "accepted as Stripe does; customers have nothing to expand here"
    )]
    expand: Vec<String>,
}

impl CustomerParams {
    /// A customer known only by an e-mail (Checkout creates such customers).
    pub fn with_email(email: Option<String>) -> Self {
        Self {
            email,
            ..Self::default()
        }
    }
}

/// A new customer in Stripe's shape.
pub fn new_customer(params: CustomerParams) -> Value {
    let prefix = Alphanumeric
        .sample_string(&mut rand::rng(), 8)
        .to_uppercase();
    json!({
        "id": new_id("cus"),
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": unix_now(),
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": text_or_null(params.description),
        "discount": null,
        "email": text_or_null(params.email),
        "invoice_prefix": prefix,
        "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null},
        "livemode": false,
        "metadata": initial_metadata(params.metadata),
        "name": text_or_null(params.name),
        "next_invoice_sequence": 1,
        "phone": text_or_null(params.phone),
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

/// Applies an update to `customer` and returns `previous_attributes` (see [`changes::apply`]).
pub fn apply_update(customer: &mut Value, params: CustomerParams) -> Map<String, Value> {
    let fields = [
        ("email", params.email),
        ("name", params.name),
        ("phone", params.phone),
        ("description", params.description),
    ];
    let fields = fields
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| (field, text_or_null(Some(value)))))
        .collect();
    changes::apply(customer, fields, params.metadata)
}

async fn create(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let customer = new_customer(form::parse(&body)?);
    let id = customer["id"].as_str().unwrap_or_default().to_string();
    let mut store = state.store.lock();
    store.customers.insert(id, customer.clone());
    emit(
        &state,
        &mut store,
        "customer.created",
        customer.clone(),
        None,
        &Cause::of(&request, &headers),
    );
    Ok(Json(customer))
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let store = state.store.lock();
    if let Some(customer) = store.customers.get(&id) {
        return Ok(Json(customer.clone()));
    }
    if store.deleted_customers.contains(&id) {
        return Ok(Json(deleted_stub(&id)));
    }
    Err(StripeError::no_such("customer", &id, "id"))
}

async fn update(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, StripeError> {
    let params: CustomerParams = form::parse(&body)?;
    let mut store = state.store.lock();
    let customer = store
        .customers
        .get_mut(&id)
        .ok_or_else(|| StripeError::no_such("customer", &id, "id"))?;
    let previous = apply_update(customer, params);
    let customer = customer.clone();
    if !previous.is_empty() {
        emit(
            &state,
            &mut store,
            "customer.updated",
            customer.clone(),
            Some(Value::Object(previous)),
            &Cause::of(&request, &headers),
        );
    }
    Ok(Json(customer))
}

async fn delete(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    let customer = store
        .customers
        .remove(&id)
        .ok_or_else(|| StripeError::no_such("customer", &id, "id"))?;
    store.deleted_customers.insert(id.clone());
    let cause = Cause::of(&request, &headers);
    // Deleting a customer cancels their subscriptions at once.
    let live: Vec<String> = store
        .subscriptions
        .newest_first()
        .into_iter()
        .filter(|sub| sub["customer"] == id.as_str() && sub["status"] != "canceled")
        .filter_map(|sub| sub["id"].as_str().map(str::to_string))
        .collect();
    for subscription in live {
        cancel_subscription(&state, &mut store, &subscription, &cause)?;
    }
    emit(
        &state,
        &mut store,
        "customer.deleted",
        customer,
        None,
        &cause,
    );
    Ok(Json(deleted_stub(&id)))
}

fn deleted_stub(id: &str) -> Value {
    json!({ "id": id, "object": "customer", "deleted": true })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    email: Option<String>,
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
        .customers
        .newest_first()
        .into_iter()
        .filter(|customer| {
            params
                .email
                .as_ref()
                .is_none_or(|email| customer["email"] == email.as_str())
        })
        .collect();
    let page = PageParams::new(params.limit, params.starting_after, params.ending_before);
    page_of(&matching, &page, "/v1/customers", Value::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &str) -> CustomerParams {
        form::parse(pairs.as_bytes()).expect("valid params")
    }

    #[test]
    fn update_merges_metadata_and_reports_previous_values() {
        let mut customer = new_customer(params("email=a@x.io&metadata[keep]=1&metadata[drop]=2"));
        let previous = apply_update(
            &mut customer,
            params("email=b@x.io&metadata[drop]=&metadata[new]=3&metadata[keep]=1"),
        );
        assert_eq!(customer["metadata"], json!({"keep": "1", "new": "3"}));
        assert_eq!(customer["email"], "b@x.io");
        assert_eq!(
            Value::Object(previous),
            json!({"email": "a@x.io", "metadata": {"drop": "2", "new": null}})
        );
    }

    #[test]
    fn empty_string_unsets_a_field_and_no_change_reports_nothing() {
        let mut customer = new_customer(params("name=Ann"));
        assert!(apply_update(&mut customer, params("name=Ann")).is_empty());
        let previous = apply_update(&mut customer, params("name="));
        assert_eq!(customer["name"], Value::Null);
        assert_eq!(previous["name"], "Ann");
    }
}
