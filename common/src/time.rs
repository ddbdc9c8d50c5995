//! Wall-clock helpers. Stripe, SQS attributes and Redis records all use Unix time; dates are
//! printed with `jiff` (proleptic Gregorian calendar, UTC).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now in Unix seconds (0 if the clock is before 1970).
pub fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Now in Unix milliseconds (0 if the clock is before 1970).
pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Unix milliseconds as a calendar instant, saturating at the ends of `jiff`'s range
/// (years -9999 and 9999), far outside anything Stripe or Salesforce sends.
pub fn timestamp_from_millis(epoch_ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(epoch_ms).unwrap_or(if epoch_ms < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

/// Unix milliseconds as ISO-8601 UTC with milliseconds: `2026-11-25T11:31:43.120Z`.
pub fn iso8601_millis(epoch_ms: i64) -> String {
    timestamp_from_millis(epoch_ms)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_and_iso_format() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            iso8601_millis(1_795_606_303_000),
            "2026-11-25T11:31:43.000Z"
        );
        assert_eq!(
            iso8601_millis(i64::MAX),
            "9999-12-30T22:00:00.999Z",
            "saturates at jiff's last instant"
        );
    }
}
