//! A price's shape and Stripe's rules for creating one: per unit or tiered (ascending
//! integer `up_to`, the last `inf`, shown as `null`), one-time or recurring, and [`view`],
//! which shows `tiers` only when expanded.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::changes::{initial_metadata, text_or_null};
use crate::error::StripeError;
use crate::state::{new_id, unix_now};

/// One `tiers[i]` of a create request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierParams {
    up_to: String,
    unit_amount: Option<i64>,
    unit_amount_decimal: Option<String>,
    flat_amount: Option<i64>,
    flat_amount_decimal: Option<String>,
}

/// `recurring[...]` of a create request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringParams {
    interval: String,
    interval_count: Option<i64>,
    usage_type: Option<String>,
}

/// Parameters of create (update takes the subset Stripe allows).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceParams {
    currency: Option<String>,
    product: Option<String>,
    unit_amount: Option<i64>,
    unit_amount_decimal: Option<String>,
    billing_scheme: Option<String>,
    tiers: Option<Vec<TierParams>>,
    tiers_mode: Option<String>,
    recurring: Option<RecurringParams>,
    active: Option<bool>,
    nickname: Option<String>,
    lookup_key: Option<String>,
    tax_behavior: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) expand: Vec<String>,
}

/// An amount and its `_decimal` twin (the decimal string of minor units).
fn amounts(amount: Option<i64>, decimal: Option<String>) -> (Value, Value) {
    match (amount, decimal) {
        (Some(amount), _) => (json!(amount), json!(amount.to_string())),
        (None, Some(decimal)) => (Value::Null, json!(decimal)),
        (None, None) => (Value::Null, Value::Null),
    }
}

/// The tiers in Stripe's shape: `up_to` ascending integers, the last `"inf"` (shown `null`).
pub fn tiers(params: Vec<TierParams>) -> Result<Value, StripeError> {
    let count = params.len();
    let mut previous = 0;
    let mut tiers = Vec::with_capacity(count);
    for (index, tier) in params.into_iter().enumerate() {
        let param = format!("tiers[{index}][up_to]");
        let last = index + 1 == count;
        let up_to = match (tier.up_to.as_str(), last) {
            ("inf", true) => Value::Null,
            ("inf", false) => {
                return Err(StripeError::invalid(
                    None,
                    "Only the last tier may have `up_to` set to `inf`.",
                    Some(&param),
                ))
            }
            (_, true) => {
                return Err(StripeError::invalid(
                    None,
                    "The last tier must have `up_to` set to `inf`.",
                    Some(&param),
                ))
            }
            (number, false) => match number.parse::<i64>() {
                Ok(up_to) if up_to > previous => {
                    previous = up_to;
                    json!(up_to)
                }
                _ => {
                    return Err(StripeError::invalid(
                        None,
                        "Tiers must have ascending integer `up_to` values.",
                        Some(&param),
                    ))
                }
            },
        };
        let (unit_amount, unit_amount_decimal) =
            amounts(tier.unit_amount, tier.unit_amount_decimal);
        let (flat_amount, flat_amount_decimal) =
            amounts(tier.flat_amount, tier.flat_amount_decimal);
        tiers.push(json!({"flat_amount": flat_amount, "flat_amount_decimal": flat_amount_decimal, "unit_amount": unit_amount, "unit_amount_decimal": unit_amount_decimal, "up_to": up_to}));
    }
    Ok(Value::Array(tiers))
}

/// A new price in Stripe's shape (tiers included; see [`view`]), validated as Stripe does.
pub fn new_price(params: PriceParams) -> Result<Value, StripeError> {
    let currency = params
        .currency
        .ok_or_else(|| StripeError::missing_param("currency"))?
        .to_lowercase();
    let product = params
        .product
        .ok_or_else(|| StripeError::missing_param("product"))?;
    let scheme = params.billing_scheme.unwrap_or_else(|| "per_unit".into());
    let (unit_amount, unit_amount_decimal) =
        amounts(params.unit_amount, params.unit_amount_decimal);
    let (tiers, tiers_mode) = match scheme.as_str() {
        "per_unit" if unit_amount_decimal.is_null() => {
            return Err(StripeError::missing_param("unit_amount"))
        }
        "per_unit" => (Value::Null, Value::Null),
        "tiered" => {
            let mode = params
                .tiers_mode
                .ok_or_else(|| StripeError::missing_param("tiers_mode"))?;
            if !matches!(mode.as_str(), "graduated" | "volume") {
                return Err(StripeError::invalid(
                    None,
                    format!(
                        "Invalid tiers_mode: must be one of graduated or volume (got '{mode}')."
                    ),
                    Some("tiers_mode"),
                ));
            }
            if !unit_amount_decimal.is_null() {
                return Err(StripeError::invalid(
                    None,
                    "You may not pass `unit_amount` for a tiered price.",
                    Some("unit_amount"),
                ));
            }
            let given = params
                .tiers
                .filter(|tiers| !tiers.is_empty())
                .ok_or_else(|| StripeError::missing_param("tiers"))?;
            (tiers(given)?, json!(mode))
        }
        other => {
            return Err(StripeError::invalid(
                None,
                format!(
                    "Invalid billing_scheme: must be one of per_unit or tiered (got '{other}')."
                ),
                Some("billing_scheme"),
            ))
        }
    };
    let recurring = match params.recurring {
        None => Value::Null,
        Some(recurring)
            if !matches!(
                recurring.interval.as_str(),
                "day" | "week" | "month" | "year"
            ) =>
        {
            return Err(StripeError::invalid(
                None,
                "Invalid interval: must be one of day, week, month, or year.",
                Some("recurring[interval]"),
            ));
        }
        Some(recurring) => {
            json!({"interval": recurring.interval, "interval_count": recurring.interval_count.unwrap_or(1), "meter": null, "trial_period_days": null, "usage_type": recurring.usage_type.unwrap_or_else(|| "licensed".into())})
        }
    };
    Ok(json!({
        "id": new_id("price"),
        "object": "price",
        "active": params.active.unwrap_or(true),
        "billing_scheme": scheme,
        "created": unix_now(),
        "currency": currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": text_or_null(params.lookup_key),
        "metadata": initial_metadata(params.metadata),
        "nickname": text_or_null(params.nickname),
        "product": product,
        "type": if recurring.is_null() { "one_time" } else { "recurring" },
        "recurring": recurring,
        "tax_behavior": params.tax_behavior.unwrap_or_else(|| "unspecified".into()),
        "tiers": tiers,
        "tiers_mode": tiers_mode,
        "transform_quantity": null,
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }))
}

/// The price as shown: `tiers` only when expanded (and then only for tiered prices).
pub fn view(price: &Value, expand_tiers: bool) -> Value {
    let mut shown = price.clone();
    if let Some(fields) = shown.as_object_mut() {
        if !expand_tiers || fields.get("tiers").is_none_or(Value::is_null) {
            fields.remove("tiers");
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    fn price(form_text: &str) -> Result<Value, StripeError> {
        new_price(form::parse(form_text.as_bytes()).expect("valid params"))
    }

    #[test]
    fn tiered_prices_keep_their_tiers_with_inf_as_null() {
        let tiered = price("currency=EUR&product=prod_1&billing_scheme=tiered&tiers_mode=graduated&tiers[0][up_to]=10&tiers[0][unit_amount]=500&tiers[1][up_to]=inf&tiers[1][unit_amount]=400&tiers[1][flat_amount]=100").expect("valid");
        assert_eq!(tiered["currency"], "eur");
        assert_eq!(tiered["tiers"][0]["up_to"], 10);
        assert_eq!(tiered["tiers"][1]["up_to"], Value::Null);
        assert_eq!(tiered["tiers"][1]["flat_amount_decimal"], "100");
        assert_eq!(tiered["unit_amount"], Value::Null);
        assert!(view(&tiered, false).get("tiers").is_none());
        assert!(view(&tiered, true)["tiers"].is_array());
    }

    #[test]
    fn invalid_prices_are_refused() {
        let cases = [
            ("currency=usd&product=p", "unit_amount"),
            ("product=p&unit_amount=1", "currency"),
            ("currency=usd&product=p&billing_scheme=tiered&tiers_mode=volume", "tiers"),
            ("currency=usd&product=p&billing_scheme=tiered&tiers_mode=volume&tiers[0][up_to]=5&tiers[0][unit_amount]=1", "tiers[0][up_to]"),
            ("currency=usd&product=p&unit_amount=1&recurring[interval]=fortnight", "recurring[interval]"),
        ];
        for (form_text, param) in cases {
            let error = price(form_text).expect_err(form_text);
            assert_eq!(error.param.as_deref(), Some(param), "{form_text}");
        }
    }

    #[test]
    fn recurring_prices_default_to_one_licensed_interval() {
        let monthly = price("currency=usd&product=p&unit_amount=999&recurring[interval]=month")
            .expect("valid");
        assert_eq!(monthly["type"], "recurring");
        assert_eq!(monthly["recurring"]["interval_count"], 1);
        assert_eq!(monthly["recurring"]["usage_type"], "licensed");
        assert_eq!(monthly["unit_amount_decimal"], "999");
    }
}
