//! Wall-clock helpers. Stripe, SQS attributes and Redis records all use Unix time.

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
