//! Money and time of billing, as Stripe computes them: what a quantity of a price costs
//! (per unit, or tiered in `graduated` or `volume` mode,
//! https://docs.stripe.com/products-prices/pricing-models#tiered-pricing) and where a billing
//! period ends (calendar intervals from the start, a month after Jan 31 being the end of
//! February, https://docs.stripe.com/billing/subscriptions/billing-cycle).

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde_json::Value;

/// What `quantity` units of `price` cost, in minor units. Amounts given only as decimal
/// strings (`unit_amount_decimal`) are rounded to the nearest minor unit at the end, as Stripe
/// rounds invoice lines.
pub fn line_amount(price: &Value, quantity: i64) -> i64 {
    let cost = match (
        price["billing_scheme"].as_str(),
        price["tiers_mode"].as_str(),
    ) {
        (Some("tiered"), Some("volume")) => volume(&price["tiers"], quantity),
        (Some("tiered"), _) => graduated(&price["tiers"], quantity),
        _ => quantity as f64 * minor_units(price, "unit_amount"),
    };
    cost.round() as i64
}

/// `field` (`unit_amount`, `flat_amount`) of a price or tier, falling back to its
/// `_decimal` twin; absent is zero.
fn minor_units(object: &Value, field: &str) -> f64 {
    object[field].as_i64().map_or_else(
        || {
            object[format!("{field}_decimal")]
                .as_str()
                .and_then(|text| text.parse::<f64>().ok())
                .unwrap_or(0.0)
        },
        |amount| amount as f64,
    )
}

/// Each tier prices the units that fall in it; a tier's flat amount applies once some do.
fn graduated(tiers: &Value, quantity: i64) -> f64 {
    let mut below = 0;
    let mut cost = 0.0;
    for tier in tiers.as_array().into_iter().flatten() {
        let up_to = tier["up_to"].as_i64().unwrap_or(i64::MAX);
        let units = quantity.min(up_to) - below;
        if units <= 0 {
            break;
        }
        cost += units as f64 * minor_units(tier, "unit_amount") + minor_units(tier, "flat_amount");
        below = up_to;
    }
    cost
}

/// The tier the whole quantity falls in prices every unit.
fn volume(tiers: &Value, quantity: i64) -> f64 {
    tiers
        .as_array()
        .into_iter()
        .flatten()
        .find(|tier| tier["up_to"].as_i64().is_none_or(|up_to| quantity <= up_to))
        .map_or(0.0, |tier| {
            quantity as f64 * minor_units(tier, "unit_amount") + minor_units(tier, "flat_amount")
        })
}

/// The end of the billing period that starts at `start` (epoch seconds) for a recurring
/// price's `interval` (`day`, `week`, `month`, `year`) and `interval_count`, in UTC.
pub fn period_end(start: i64, interval: &str, count: i64) -> i64 {
    let span = match interval {
        "day" => Span::new().days(count),
        "week" => Span::new().weeks(count),
        "year" => Span::new().years(count),
        _ => Span::new().months(count),
    };
    Timestamp::from_second(start)
        .ok()
        .and_then(|at| at.to_zoned(TimeZone::UTC).checked_add(span).ok())
        .map_or(start + count * 30 * 86_400, |end| {
            end.timestamp().as_second()
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tiered(mode: &str) -> Value {
        json!({"billing_scheme": "tiered", "tiers_mode": mode, "tiers": [
            {"up_to": 10, "unit_amount": 500, "flat_amount": null},
            {"up_to": null, "unit_amount": 400, "flat_amount": 100},
        ]})
    }

    #[test]
    fn per_unit_and_decimal_prices() {
        let price = json!({"billing_scheme": "per_unit", "unit_amount": 999});
        assert_eq!(line_amount(&price, 3), 2997);
        let fractional = json!({"billing_scheme": "per_unit", "unit_amount": null, "unit_amount_decimal": "0.5"});
        assert_eq!(line_amount(&fractional, 5), 3);
    }

    #[test]
    fn graduated_prices_each_tier_and_volume_prices_all_units_at_one_tier() {
        assert_eq!(
            line_amount(&tiered("graduated"), 12),
            10 * 500 + 2 * 400 + 100
        );
        assert_eq!(line_amount(&tiered("graduated"), 4), 4 * 500);
        assert_eq!(line_amount(&tiered("volume"), 12), 12 * 400 + 100);
        assert_eq!(line_amount(&tiered("volume"), 10), 10 * 500);
    }

    #[test]
    fn periods_follow_the_calendar() {
        let jan_31 = 1_769_817_600; // 2026-01-31T00:00:00Z
        let feb_28 = 1_772_236_800; // 2026-02-28T00:00:00Z
        assert_eq!(period_end(jan_31, "month", 1), feb_28);
        assert_eq!(period_end(jan_31, "week", 2), jan_31 + 14 * 86_400);
        assert_eq!(period_end(jan_31, "year", 1), 1_801_353_600); // 2027-01-31
    }
}
