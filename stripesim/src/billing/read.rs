//! Reading what payments created, and cancelling: subscriptions
//! (https://docs.stripe.com/api/subscriptions: retrieve, list with `customer`, `price` and
//! `status`, canceled ones only with `status=canceled` or `all`, cancel with `DELETE`),
//! invoices (retrieve, list with `customer`, `subscription`, `status`; `payments` shown
//! when expanded) and PaymentIntents (retrieve, list with `customer`).

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::flows::cancel_subscription;
use super::objects::invoice_view;
use crate::edge::RequestId;
use crate::error::StripeError;
use crate::events::Cause;
use crate::form;
use crate::list::{page_of, PageParams};
use crate::state::{AppState, Collection};

/// Routes for subscriptions, invoices and PaymentIntents.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/subscriptions", get(list_subscriptions))
        .route(
            "/v1/subscriptions/{id}",
            get(retrieve_subscription).delete(cancel),
        )
        .route("/v1/invoices", get(list_invoices))
        .route("/v1/invoices/{id}", get(retrieve_invoice))
        .route("/v1/payment_intents", get(list_payment_intents))
        .route("/v1/payment_intents/{id}", get(retrieve_payment_intent))
}

/// Filters and pagination of the three lists (each takes the subset Stripe documents for it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    customer: Option<String>,
    subscription: Option<String>,
    status: Option<String>,
    price: Option<String>,
    limit: Option<i64>,
    starting_after: Option<String>,
    ending_before: Option<String>,
    #[serde(default)]
    expand: Vec<String>,
}

impl ListParams {
    fn parse(query: Option<String>, allowed: &[&str]) -> Result<Self, StripeError> {
        let params: Self = form::parse(query.unwrap_or_default().as_bytes())?;
        let given = [
            ("customer", params.customer.is_some()),
            ("subscription", params.subscription.is_some()),
            ("status", params.status.is_some()),
            ("price", params.price.is_some()),
        ];
        if let Some((name, _)) = given
            .iter()
            .find(|(name, given)| *given && !allowed.contains(name))
        {
            return Err(StripeError::invalid(
                Some("parameter_unknown"),
                format!("Received unknown parameter: {name}"),
                Some(name),
            ));
        }
        Ok(params)
    }

    fn page(&self) -> PageParams {
        PageParams {
            limit: self.limit,
            starting_after: self.starting_after.clone(),
            ending_before: self.ending_before.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrieveParams {
    #[serde(default)]
    expand: Vec<String>,
}

fn one(collection: &Collection, kind: &str, id: &str) -> Result<Value, StripeError> {
    collection
        .get(id)
        .cloned()
        .ok_or_else(|| StripeError::no_such(kind, id, "id"))
}

fn matches(value: &Value, wanted: Option<&String>) -> bool {
    wanted.is_none_or(|wanted| value == wanted.as_str())
}

async fn retrieve_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    one(&state.store.lock().subscriptions, "subscription", &id).map(Json)
}

async fn list_subscriptions(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params = ListParams::parse(query, &["customer", "status", "price"])?;
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .subscriptions
        .newest_first()
        .into_iter()
        .filter(|sub| matches(&sub["customer"], params.customer.as_ref()))
        .filter(|sub| match params.status.as_deref() {
            None => sub["status"] != "canceled",
            Some("all") => true,
            Some(status) => sub["status"] == status,
        })
        .filter(|sub| {
            params.price.as_ref().is_none_or(|price| {
                sub["items"]["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|item| item["price"]["id"] == price.as_str())
            })
        })
        .collect();
    page_of(&matching, &params.page(), "/v1/subscriptions", Value::clone)
}

async fn cancel(
    State(state): State<AppState>,
    Extension(request): Extension<RequestId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    let mut store = state.store.lock();
    cancel_subscription(&state, &mut store, &id, &Cause::of(&request, &headers)).map(Json)
}

async fn retrieve_invoice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: RetrieveParams = form::parse(query.unwrap_or_default().as_bytes())?;
    let invoice = one(&state.store.lock().invoices, "invoice", &id)?;
    let expand = params.expand.iter().any(|field| field == "payments");
    Ok(Json(invoice_view(&invoice, expand)))
}

async fn list_invoices(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params = ListParams::parse(query, &["customer", "subscription", "status"])?;
    let expand = params.expand.iter().any(|field| field == "data.payments");
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .invoices
        .newest_first()
        .into_iter()
        .filter(|invoice| matches(&invoice["customer"], params.customer.as_ref()))
        .filter(|invoice| matches(&invoice["status"], params.status.as_ref()))
        .filter(|invoice| {
            matches(
                &invoice["parent"]["subscription_details"]["subscription"],
                params.subscription.as_ref(),
            )
        })
        .collect();
    page_of(&matching, &params.page(), "/v1/invoices", |invoice| {
        invoice_view(invoice, expand)
    })
}

async fn retrieve_payment_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StripeError> {
    one(&state.store.lock().payment_intents, "payment_intent", &id).map(Json)
}

async fn list_payment_intents(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params = ListParams::parse(query, &["customer"])?;
    let store = state.store.lock();
    let matching: Vec<&Value> = store
        .payment_intents
        .newest_first()
        .into_iter()
        .filter(|intent| matches(&intent["customer"], params.customer.as_ref()))
        .collect();
    page_of(
        &matching,
        &params.page(),
        "/v1/payment_intents",
        Value::clone,
    )
}
