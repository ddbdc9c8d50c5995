//! Currency facts Stripe defines (docs/stripe-webhooks.md §7): amounts arrive in minor
//! units, and how many decimals a unit has depends on the currency. The mapping converts
//! with it and the test event factory writes realistic amounts with it.

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
}
