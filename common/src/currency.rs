//! Currency facts Stripe defines (docs/stripe-webhooks.md §7): amounts arrive in minor
//! units, and how many decimals a unit has depends on the currency. The mapping converts
//! with it and the test event factory writes realistic amounts with it.
//!
//! Stripe charges only in ISO 4217 currencies (https://docs.stripe.com/currencies: "the
//! three-letter ISO code"), so a code outside ISO 4217, or one of its units without minor
//! units (gold `XAU`, the SDR `XDR`, the testing code `XTS`), cannot be a Stripe amount's
//! currency: [`is_chargeable_currency`] says which are, from the `iso_currency` crate's
//! table. The exponent, though, is Stripe's, not ISO's (ISK has two decimals at Stripe and
//! none in ISO 4217).

use std::str::FromStr;

use iso_currency::Currency;

/// Whether `currency` (any case) is an ISO 4217 currency with minor units, the only kind
/// Stripe charges in. `"xyz"` is not: an amount in it must be refused, not guessed.
pub fn is_chargeable_currency(currency: &str) -> bool {
    Currency::from_str(&currency.to_ascii_uppercase())
        .ok()
        .is_some_and(|known| known.exponent().is_some())
}

/// Number of decimals of `currency`'s minor unit as Stripe defines it (case-insensitive).
///
/// Zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF.
/// Three-decimal: BHD JOD KWD OMR TND. Everything else (ISK included, see the module docs): 2.
pub fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_lowercase().as_str() {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx"
        | "vnd" | "vuv" | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_stripes_lists() {
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent("ugx"), 0);
        assert_eq!(currency_exponent("kwd"), 3);
        assert_eq!(currency_exponent("usd"), 2);
        assert_eq!(currency_exponent("ISK"), 2);
    }

    #[test]
    fn only_iso_currencies_with_minor_units_are_chargeable() {
        for code in ["usd", "EUR", "jpy", "kwd", "isk", "ugx", "chf"] {
            assert!(is_chargeable_currency(code), "{code}");
        }
        for code in ["xyz", "xau", "xdr", "xts", "", "us", "usdd"] {
            assert!(!is_chargeable_currency(code), "{code}");
        }
    }
}
