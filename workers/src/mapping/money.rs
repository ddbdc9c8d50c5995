//! Amounts: from Stripe's integer minor units to the decimal Salesforce stores.
//!
//! Stripe sends every `amount*` as an integer in the currency's minor unit *as Stripe defines
//! it*: 1234 USD cents are 12.34 USD, 1234 JPY are 1234 JPY (no minor unit), 1230 KWD fils are
//! 1.23 KWD. Dividing by 100 everywhere would be wrong by a factor of 100 for JPY and by 10 for
//! KWD, so the exponent comes from Stripe's own lists below (docs/stripe-webhooks.md §7).
//!
//! ## Why a JSON number built from an `f64` is exact here
//!
//! `serde_json`'s `arbitrary_precision` feature is off in this workspace, so a JSON number is
//! an `i64`, `u64` or `f64`. The conversion therefore works like this:
//!
//! * whole results (every zero-decimal currency, and `1200` USD) become JSON *integers*;
//! * other results are `amount as f64 / 10^exponent`. Both operands are exact in an `f64`
//!   (|amount| < 2^53, 10^e ≤ 10^4), and IEEE-754 division is correctly rounded, so the result
//!   is the double *nearest* to the true decimal. A decimal with at most 15 significant digits
//!   is the unique shortest decimal that rounds to that double, and `serde_json` writes doubles
//!   in their shortest round-trip form, so the REST body carries exactly `12.34`.
//!
//! That argument needs at most 15 significant digits, i.e. |amount| ≤ [`MAX_EXACT_MINOR_UNITS`]
//! (10^15 − 1). Stripe caps amounts at 8 digits (12 for a few currencies), so larger values
//! are refused with [`MoneyError::OutOfRange`] rather than silently rounded.
//! [`minor_units_to_decimal_string`] gives the exact text for any `i64` (Bulk CSV, logs).
//!
//! ## Decimal minor units (`*_decimal` fields)
//!
//! Prices may cost a fraction of the minor unit: `unit_amount_decimal` is a decimal *string*
//! of minor units with up to 12 decimals (`"0.5"` USD cents), and `unit_amount` is then null.
//! [`decimal_minor_units_to_decimal`] shifts the decimal point by the exponent in text, so it
//! is exact, and builds the JSON number from that text under the same 15-digit rule.
//!
//! ## ISK and UGX
//!
//! Stripe documents two special cases. ISK is *not* in the zero-decimal list: the API sends it
//! with two decimals that are always `00` (5 ISK → `500`), so exponent 2 yields the right
//! value. UGX *is* in the zero-decimal list (charges are whole shillings); the "divisible by
//! 100" rule concerns payouts. We follow the lists. An org that sees otherwise can override
//! any exponent in the mapping file (`[currency_exponents]`, see `docs/mapping.md`).

pub use common::currency::currency_exponent;
use serde_json::Number;

/// Largest |amount| converted exactly to a JSON number (15 significant digits).
pub const MAX_EXACT_MINOR_UNITS: i64 = 999_999_999_999_999;

/// Why an amount cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// More than 15 significant digits: an `f64` could not carry it exactly.
    #[error("amount {amount} is too large to be carried exactly (more than 15 digits)")]
    OutOfRange {
        /// The amount in minor units.
        amount: i64,
    },
    /// A decimal string of minor units that is not a plain decimal number.
    #[error("{text:?} is not a decimal amount (digits, at most one point, an optional minus)")]
    NotADecimal {
        /// The text.
        text: String,
    },
    /// A decimal string with more than 15 significant digits.
    #[error("decimal amount {text:?} has more than 15 significant digits")]
    TooPrecise {
        /// The text.
        text: String,
    },
}

/// Converts `amount` minor units of `currency` into the exact decimal JSON number for a
/// Salesforce Currency or Number field: `1234 JPY → 1234`, `1234 USD → 12.34`,
/// `1230 KWD → 1.23`, `-1234 USD → -12.34`. See the module docs for why this is exact.
pub fn minor_units_to_decimal(amount: i64, currency: &str) -> Result<Number, MoneyError> {
    decimal_with_exponent(amount, currency_exponent(currency))
}

/// Exact decimal text of `amount` minor units of `currency`, for any `i64`: `-5 USD → "-0.05"`,
/// `1230 KWD → "1.230"` (keeps the currency's scale), `1234 JPY → "1234"`.
pub fn minor_units_to_decimal_string(amount: i64, currency: &str) -> String {
    decimal_string_with_exponent(amount, currency_exponent(currency))
}

/// [`minor_units_to_decimal`] with an explicit exponent (used for mapping-file overrides).
pub(crate) fn decimal_with_exponent(amount: i64, exponent: u32) -> Result<Number, MoneyError> {
    if amount.unsigned_abs() > MAX_EXACT_MINOR_UNITS.unsigned_abs() {
        return Err(MoneyError::OutOfRange { amount });
    }
    let scale = 10_i64.pow(exponent);
    if amount % scale == 0 {
        return Ok(Number::from(amount / scale));
    }
    // Both operands are exact doubles (see the module docs); the quotient is correctly rounded.
    let value = amount as f64 / scale as f64;
    Number::from_f64(value).ok_or(MoneyError::OutOfRange { amount })
}

/// Converts a decimal string of minor units (`"1234.5"`, Stripe's `*_decimal` fields) into the
/// JSON number of major units for a currency with `exponent` decimals: `"1234.5"` with 2 →
/// `12.345`, `"0.5"` with 2 → `0.005`, `"1200"` with 0 → `1200`. Exact up to 15 significant
/// digits; longer numbers are refused rather than rounded (see the module docs).
pub fn decimal_minor_units_to_decimal(text: &str, exponent: u32) -> Result<Number, MoneyError> {
    let not_decimal = || MoneyError::NotADecimal {
        text: text.to_owned(),
    };
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(not_decimal());
    }
    // All digits, and where the point goes once the exponent moved it left.
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i64 - i64::from(exponent);
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.len() > 15 {
        return Err(MoneyError::TooPrecise {
            text: text.to_owned(),
        });
    }
    if significant.is_empty() {
        return Ok(Number::from(0));
    }
    let shifted = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let (int_part, frac_part) = digits.split_at(point as usize);
        format!("{int_part}.{frac_part}")
    };
    let trimmed = shifted.trim_end_matches('0').trim_end_matches('.');
    let signed = if negative {
        format!("-{trimmed}")
    } else {
        trimmed.to_owned()
    };
    if let Ok(integer) = signed.parse::<i64>() {
        return Ok(Number::from(integer));
    }
    signed
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(not_decimal)
}

/// [`minor_units_to_decimal_string`] with an explicit exponent.
pub(crate) fn decimal_string_with_exponent(amount: i64, exponent: u32) -> String {
    let digits = amount.unsigned_abs().to_string();
    let sign = if amount < 0 { "-" } else { "" };
    let exponent = exponent as usize;
    if exponent == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = exponent + 1);
    let (whole, fraction) = padded.split_at(padded.len() - exponent);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(amount: i64, currency: &str) -> String {
        serde_json::to_string(&minor_units_to_decimal(amount, currency).unwrap()).unwrap()
    }

    #[test]
    fn rest_bodies_carry_the_exact_decimal() {
        assert_eq!(body(1234, "jpy"), "1234");
        assert_eq!(body(1234, "usd"), "12.34");
        assert_eq!(body(1230, "kwd"), "1.23");
        assert_eq!(body(1235, "kwd"), "1.235");
        assert_eq!(body(-1234, "usd"), "-12.34");
        assert_eq!(body(-5, "usd"), "-0.05");
        assert_eq!(body(1200, "usd"), "12");
        assert_eq!(body(500, "isk"), "5");
        assert_eq!(body(0, "eur"), "0");
        assert_eq!(body(999_999_999_999_999, "usd"), "9999999999999.99");
        assert_eq!(body(10, "usd"), "0.1");
        assert_eq!(body(30, "usd"), "0.3");
    }

    #[test]
    fn every_cent_up_to_a_million_round_trips() {
        for cents in (0..100_000_000_i64).step_by(9_973) {
            let text = body(cents, "usd");
            let expected = minor_units_to_decimal_string(cents, "usd");
            let expected = expected.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(text, expected, "{cents}");
        }
    }

    #[test]
    fn too_large_amounts_are_refused_not_rounded() {
        assert_eq!(
            minor_units_to_decimal(1_000_000_000_000_001, "usd"),
            Err(MoneyError::OutOfRange {
                amount: 1_000_000_000_000_001
            })
        );
        assert_eq!(
            minor_units_to_decimal(i64::MIN, "jpy"),
            Err(MoneyError::OutOfRange { amount: i64::MIN })
        );
    }

    #[test]
    fn decimal_minor_units_shift_exactly() {
        let body = |text: &str, exponent: u32| {
            serde_json::to_string(&decimal_minor_units_to_decimal(text, exponent).unwrap()).unwrap()
        };
        assert_eq!(body("1234.5", 2), "12.345");
        assert_eq!(body("0.5", 2), "0.005");
        assert_eq!(body("1200", 2), "12");
        assert_eq!(body("1200", 0), "1200");
        assert_eq!(body("1230", 3), "1.23");
        assert_eq!(body("-5", 2), "-0.05");
        assert_eq!(body("0.000000000001", 2), "1e-14");
        assert_eq!(body("000", 2), "0");
        assert_eq!(body("2000.000000000000", 2), "20");
        for bad in ["", "1.2.3", "a", "-", ".5", "1e3", "+1"] {
            assert!(
                matches!(
                    decimal_minor_units_to_decimal(bad, 2),
                    Err(MoneyError::NotADecimal { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            decimal_minor_units_to_decimal("1234567890.1234567", 2),
            Err(MoneyError::TooPrecise { .. })
        ));
    }

    #[test]
    fn decimal_strings_are_exact_for_any_i64() {
        assert_eq!(minor_units_to_decimal_string(1234, "JPY"), "1234");
        assert_eq!(minor_units_to_decimal_string(1230, "kwd"), "1.230");
        assert_eq!(minor_units_to_decimal_string(-5, "usd"), "-0.05");
        assert_eq!(
            minor_units_to_decimal_string(i64::MIN, "usd"),
            "-92233720368547758.08"
        );
        assert_eq!(
            json!(minor_units_to_decimal(7, "bhd").unwrap()),
            json!(0.007)
        );
    }
}
