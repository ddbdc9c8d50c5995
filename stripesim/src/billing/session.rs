//! A Checkout session's creation rules and shape
//! (https://docs.stripe.com/api/checkout/sessions/create): mode `subscription` needs at least
//! one recurring price, mode `payment` only one-time prices; prices must exist and be active,
//! quantities positive, currencies one; `customer` and `customer_email` exclude each other.
//! The session keeps its `line_items` (shown when expanded, or at `/line_items`) and the
//! `subscription_data` to copy onto the subscription once paid.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::objects::{total, Line};
use crate::changes::{initial_metadata, text_or_null};
use crate::error::StripeError;
use crate::state::{new_id, unix_now, Store};

/// How long an open session lasts (Stripe's default, 24 hours).
pub const EXPIRES_AFTER_SECS: i64 = 86_400;

/// `line_items[i]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItemParams {
    price: Option<String>,
    quantity: Option<i64>,
}

/// `subscription_data`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDataParams {
    metadata: Option<BTreeMap<String, String>>,
    description: Option<String>,
}

/// `POST /v1/checkout/sessions` parameters this simulator understands.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionParams {
    mode: Option<String>,
    customer: Option<String>,
    customer_email: Option<String>,
    client_reference_id: Option<String>,
    success_url: Option<String>,
    cancel_url: Option<String>,
    line_items: Option<Vec<LineItemParams>>,
    metadata: Option<BTreeMap<String, String>>,
    subscription_data: Option<SubscriptionDataParams>,
    payment_method_types: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) expand: Vec<String>,
}

fn invalid(message: &str, param: &str) -> StripeError {
    StripeError::invalid(None, message, Some(param))
}

/// The lines of the request, each price looked up and checked.
fn lines(store: &Store, items: Vec<LineItemParams>) -> Result<Vec<Line>, StripeError> {
    if items.is_empty() {
        return Err(StripeError::missing_param("line_items"));
    }
    let mut lines = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let param = format!("line_items[{index}][price]");
        let id = item
            .price
            .ok_or_else(|| StripeError::missing_param(&param))?;
        let price = store.prices.get(&id).ok_or_else(|| StripeError {
            status: axum::http::StatusCode::BAD_REQUEST,
            ..StripeError::no_such("price", &id, &param)
        })?;
        if price["active"] != true {
            return Err(invalid(
                "The price specified is inactive. This field only accepts active prices.",
                &param,
            ));
        }
        let quantity = item
            .quantity
            .ok_or_else(|| StripeError::missing_param(&format!("line_items[{index}][quantity]")))?;
        if quantity < 1 {
            return Err(invalid(
                "This value must be greater than or equal to 1.",
                &format!("line_items[{index}][quantity]"),
            ));
        }
        lines.push(Line {
            price: price.clone(),
            quantity,
        });
    }
    if lines
        .iter()
        .any(|line| line.price["currency"] != lines[0].price["currency"])
    {
        return Err(invalid(
            "All line items must have the same currency.",
            "line_items",
        ));
    }
    Ok(lines)
}

/// Checks the mode against the prices: subscriptions need a recurring price, payments
/// accept only one-time prices.
fn check_mode(mode: &str, lines: &[Line], has_subscription_data: bool) -> Result<(), StripeError> {
    let recurring = lines.iter().any(|line| line.price["type"] == "recurring");
    match mode {
        "subscription" if !recurring => Err(invalid(
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            "line_items",
        )),
        "payment" if recurring => Err(invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
            "line_items",
        )),
        "payment" if has_subscription_data => Err(invalid(
            "You can not pass `subscription_data` in `payment` mode.",
            "subscription_data",
        )),
        "subscription" | "payment" => Ok(()),
        other => Err(invalid(
            &format!("Invalid mode: must be one of payment or subscription (got '{other}'); setup mode is not simulated."),
            "mode",
        )),
    }
}

/// A new open session, validated against the account's prices and customers.
pub fn new_session(store: &Store, params: SessionParams) -> Result<Value, StripeError> {
    let mode = params
        .mode
        .ok_or_else(|| StripeError::missing_param("mode"))?;
    if params.customer.is_some() && params.customer_email.is_some() {
        return Err(invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            "customer_email",
        ));
    }
    if let Some(customer) = params.customer.as_deref() {
        if store.customers.get(customer).is_none() {
            return Err(StripeError {
                status: axum::http::StatusCode::BAD_REQUEST,
                ..StripeError::no_such("customer", customer, "customer")
            });
        }
    }
    let lines = lines(store, params.line_items.unwrap_or_default())?;
    check_mode(&mode, &lines, params.subscription_data.is_some())?;
    let id = format!("cs_test_{}", new_id("x").trim_start_matches("x_"));
    let created = unix_now();
    let amount = total(&lines);
    let currency = lines[0].price["currency"].clone();
    let items: Vec<Value> = lines
        .iter()
        .map(|line| {
            let price = line.shown_price();
            json!({
                "id": new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": line.amount(),
                "amount_tax": 0,
                "amount_total": line.amount(),
                "currency": currency,
                "description": line.price["nickname"],
                "price": price,
                "quantity": line.quantity,
            })
        })
        .collect();
    let subscription_data = params.subscription_data.unwrap_or_default();
    Ok(json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": text_or_null(params.cancel_url),
        "client_reference_id": text_or_null(params.client_reference_id),
        "created": created,
        "currency": currency,
        "customer": params.customer,
        "customer_details": null,
        "customer_email": text_or_null(params.customer_email),
        "expires_at": created + EXPIRES_AFTER_SECS,
        "invoice": null,
        "line_items": {"object": "list", "data": items, "has_more": false, "url": format!("/v1/checkout/sessions/{id}/line_items")},
        "livemode": false,
        "metadata": initial_metadata(params.metadata),
        "mode": mode,
        "payment_intent": null,
        "payment_method_types": params.payment_method_types.unwrap_or_else(|| vec!["card".into()]),
        "payment_status": "unpaid",
        "status": "open",
        "subscription": null,
        "success_url": text_or_null(params.success_url),
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
        "_subscription_data": {
            "metadata": initial_metadata(subscription_data.metadata),
            "description": text_or_null(subscription_data.description),
        },
    }))
}

/// The session as shown: never the simulator's own `_…` fields, `line_items` only when
/// expanded (`expand[]=line_items`).
pub fn view(session: &Value, expand_line_items: bool) -> Value {
    let mut shown = session.clone();
    if let Some(fields) = shown.as_object_mut() {
        fields.retain(|key, _| !key.starts_with('_'));
        if !expand_line_items {
            fields.remove("line_items");
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    fn store() -> Store {
        let mut store = Store::default();
        for (id, recurring) in [
            ("price_m", json!({"interval": "month", "interval_count": 1})),
            ("price_o", Value::Null),
        ] {
            let kind = if recurring.is_null() {
                "one_time"
            } else {
                "recurring"
            };
            store.prices.insert(id.into(), json!({"id": id, "active": true, "currency": "usd", "type": kind,
                "recurring": recurring, "billing_scheme": "per_unit", "unit_amount": 1000, "nickname": null}));
        }
        store
    }

    fn create(form_text: &str) -> Result<Value, StripeError> {
        new_session(
            &store(),
            form::parse(form_text.as_bytes()).expect("valid params"),
        )
    }

    #[test]
    fn a_subscription_session_totals_its_lines_and_hides_them_unless_expanded() {
        let session = create("mode=subscription&line_items[0][price]=price_m&line_items[0][quantity]=3&client_reference_id=a0X1&subscription_data[metadata][sf]=a0X1")
            .expect("valid");
        assert_eq!(session["amount_total"], 3000);
        assert_eq!(session["status"], "open");
        assert!(session["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("cs_test_")));
        assert_eq!(session["_subscription_data"]["metadata"]["sf"], "a0X1");
        let shown = view(&session, false);
        assert!(shown.get("line_items").is_none() && shown.get("_subscription_data").is_none());
        assert_eq!(view(&session, true)["line_items"]["data"][0]["quantity"], 3);
    }

    #[test]
    fn sessions_that_stripe_refuses_are_refused_naming_the_parameter() {
        let cases = [
            ("line_items[0][price]=price_m&line_items[0][quantity]=1", "mode"),
            ("mode=subscription&line_items[0][price]=price_o&line_items[0][quantity]=1", "line_items"),
            ("mode=payment&line_items[0][price]=price_m&line_items[0][quantity]=1", "line_items"),
            ("mode=payment&line_items[0][price]=price_x&line_items[0][quantity]=1", "line_items[0][price]"),
            ("mode=payment&line_items[0][price]=price_o", "line_items[0][quantity]"),
            ("mode=payment&line_items[0][price]=price_o&line_items[0][quantity]=0", "line_items[0][quantity]"),
            ("mode=subscription&customer=cus_none&line_items[0][price]=price_m&line_items[0][quantity]=1", "customer"),
            ("mode=setup&line_items[0][price]=price_o&line_items[0][quantity]=1", "mode"),
            ("mode=payment", "line_items"),
        ];
        for (form_text, param) in cases {
            let error = create(form_text).expect_err(form_text);
            assert_eq!(
                error.param.as_deref(),
                Some(param),
                "{form_text}: {}",
                error.message
            );
        }
    }
}
