//! Currencies and plausible amounts in their minor units, as Stripe defines them (JPY has
//! none, KWD has three decimals whose last digit is 0).

/// Currencies the factory draws from: two-decimal, zero-decimal and three-decimal ones.
pub const CURRENCIES: &[&str] = &["usd", "eur", "gbp", "jpy", "krw", "kwd", "bhd"];

/// Number of decimals of a currency's minor unit, as Stripe defines it (the mapping's table).
pub use common::currency::currency_exponent;

/// A plausible amount in the currency's minor unit: about 49 major units times `scale`,
/// with three-decimal currencies ending in 0 as Stripe requires.
pub fn sample_amount(currency: &str, scale: i64) -> i64 {
    match currency_exponent(currency) {
        0 => 4_900 * scale,
        3 => 15_250 * scale,
        _ => 4_999 * scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_respect_currency_exponents() {
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent("kwd"), 3);
        assert_eq!(sample_amount("kwd", 3) % 10, 0);
        assert_eq!(currency_exponent("usd"), 2);
    }
}
