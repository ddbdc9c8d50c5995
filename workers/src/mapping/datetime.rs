//! Unix seconds (Stripe's timestamps) to Salesforce DateTime and Date text.
//!
//! Salesforce accepts ISO-8601 with a `T` separator and `Z`; we always send UTC with
//! milliseconds, `2026-11-25T11:31:43.000Z`, the form Salesforce itself returns (modulo the
//! offset spelling). Formatting is `jiff`'s, through `common::time`.

use common::time::{iso8601_millis, timestamp_from_millis};

/// Earliest instant Salesforce stores in a DateTime field: 1700-01-01T00:00:00Z.
pub const SALESFORCE_MIN_SECS: i64 = -8_520_336_000;
/// Latest instant Salesforce stores in a DateTime field: 4000-12-31T23:59:59Z.
pub const SALESFORCE_MAX_SECS: i64 = 64_092_211_199;

/// Formats Unix seconds as a Salesforce DateTime in UTC: `0 → 1970-01-01T00:00:00.000Z`.
///
/// Works for any `i64` (saturating at years -9999 and 9999); values outside Salesforce's own range
/// ([`SALESFORCE_MIN_SECS`]..=[`SALESFORCE_MAX_SECS`]) are formatted anyway, and the mapping's
/// `datetime` transform refuses them before calling this.
pub fn unix_to_salesforce_datetime(secs: i64) -> String {
    iso8601_millis(secs.saturating_mul(1000))
}

/// Formats the UTC calendar day of Unix seconds as a Salesforce Date: `2000-02-29`.
pub fn unix_to_salesforce_date(secs: i64) -> String {
    timestamp_from_millis(secs.saturating_mul(1000))
        .strftime("%Y-%m-%d")
        .to_string()
}

/// Whether Salesforce can store this instant in a DateTime field.
pub fn in_salesforce_range(secs: i64) -> bool {
    (SALESFORCE_MIN_SECS..=SALESFORCE_MAX_SECS).contains(&secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(unix_to_salesforce_datetime(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            unix_to_salesforce_datetime(951_782_400),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            unix_to_salesforce_datetime(1_786_370_648),
            "2026-08-10T14:04:08.000Z"
        );
        assert_eq!(
            unix_to_salesforce_datetime(1_795_606_303),
            "2026-11-25T11:31:43.000Z"
        );
        assert_eq!(unix_to_salesforce_datetime(-1), "1969-12-31T23:59:59.000Z");
        assert_eq!(unix_to_salesforce_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn salesforce_range_bounds() {
        assert_eq!(
            unix_to_salesforce_datetime(SALESFORCE_MIN_SECS),
            "1700-01-01T00:00:00.000Z"
        );
        assert_eq!(
            unix_to_salesforce_datetime(SALESFORCE_MAX_SECS),
            "4000-12-31T23:59:59.000Z"
        );
        assert!(in_salesforce_range(0));
        assert!(!in_salesforce_range(SALESFORCE_MAX_SECS + 1));
        assert!(!in_salesforce_range(SALESFORCE_MIN_SECS - 1));
    }
}
