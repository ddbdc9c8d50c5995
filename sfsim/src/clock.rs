//! Salesforce's wire formats for dates and times: printed with `jiff`, parsed by hand
//! because Salesforce's acceptance rules (at most 3 fraction digits, `+0000` offsets) are
//! narrower than ISO 8601's. jiff's RFC 3339 / Temporal parser also takes `t` or a space
//! for `T`, no seconds, 9 fraction digits, `,` fractions, `±HH` offsets, `[zone]` suffixes
//! and second 60; its `strptime` needs a format per offset form, rejects `Z` and still
//! allows 9 fraction digits. Checking all that around jiff is longer than this parser; jiff
//! does the calendar checks.
//!
//! Output follows docs/salesforce-api.md §7: UTC with milliseconds and an offset without a colon
//! (`2012-07-12T17:49:01.000+0000`). Input accepts ISO-8601 with a `T` separator, optional
//! fractional seconds (at most 3 digits, longer fractions fail as in the real org) and `Z`,
//! `±HH:mm` or `±HHmm` (the `+0000` output form is accepted back, §7 marks it unverified).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats epoch milliseconds the way Salesforce prints a DateTime.
pub fn format_datetime(epoch_ms: i64) -> String {
    common::time::timestamp_from_millis(epoch_ms)
        .strftime("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

/// Parses an ISO-8601 DateTime as Salesforce accepts it; `None` when it would be rejected.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let (date_part, rest) = text.split_once('T')?;
    let days = parse_date_days(date_part)?;
    let bytes = rest.as_bytes();
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let hour = two_digits(&rest[0..2])?;
    let minute = two_digits(&rest[3..5])?;
    let second = two_digits(&rest[6..8])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut tail = &rest[8..];
    let mut millis = 0i64;
    if let Some(fraction) = tail.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits]);
        millis = padded.parse().ok()?;
        tail = &fraction[digits..];
    }
    let offset_minutes = parse_offset(tail)?;
    let local_ms = days * 86_400_000 + (hour * 3600 + minute * 60 + second) * 1000 + millis;
    Some(local_ms - offset_minutes * 60_000)
}

/// Checks a Salesforce Date (`yyyy-MM-dd`, no offset) and returns it unchanged.
pub fn parse_date(text: &str) -> Option<String> {
    parse_date_days(text).map(|_| text.to_string())
}

fn parse_offset(tail: &str) -> Option<i64> {
    if tail.is_empty() || tail == "Z" {
        return Some(0);
    }
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &tail[1..];
    let (hours, minutes) = match body.len() {
        5 if body.as_bytes()[2] == b':' => (two_digits(&body[0..2])?, two_digits(&body[3..5])?),
        4 => (two_digits(&body[0..2])?, two_digits(&body[2..4])?),
        _ => return None,
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date; `None` for any other shape or an invalid
/// day (the calendar checks are `jiff`'s).
fn parse_date_days(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i16 = text[0..4].parse().ok()?;
    let month = i8::try_from(two_digits(&text[5..7])?).ok()?;
    let day = i8::try_from(two_digits(&text[8..10])?).ok()?;
    let midnight = jiff::civil::Date::new(year, month, day)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?;
    Some(midnight.timestamp().as_second().div_euclid(86_400))
}

fn two_digits(text: &str) -> Option<i64> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises_offsets() {
        let ms = parse_datetime("2024-01-15T10:30:00Z").unwrap();
        assert_eq!(format_datetime(ms), "2024-01-15T10:30:00.000+0000");
        let shifted = parse_datetime("2024-01-15T12:30:00.5+02:00").unwrap();
        assert_eq!(format_datetime(shifted), "2024-01-15T10:30:00.500+0000");
        assert_eq!(parse_datetime("2024-01-15T10:30:00.000+0000"), Some(ms));
    }

    #[test]
    fn rejects_what_salesforce_rejects() {
        assert!(parse_datetime("2024-07-30 20:54:16 UTC").is_none());
        assert!(parse_datetime("2015-07-23T09:38:33.6366008+02:00").is_none());
        assert!(parse_date("2024-02-30").is_none());
        assert!(parse_date("2024-02-29").is_some());
    }

    #[test]
    fn rejects_what_jiffs_parsers_would_accept() {
        for text in [
            "2024-01-15t10:30:00Z",
            "2024-01-15 10:30:00Z",
            "2024-01-15T10:30Z",
            "2024-01-15T10:30:00,5Z",
            "2024-01-15T10:30:00+02",
            "2024-01-15T10:30:00z",
            "2024-01-15T10:30:60Z",
            "2024-01-15T10:30:00+02:00[Europe/Paris]",
            "2024-01-15T10:30:00+19:00",
            "2024-01-15T1:30:00Z",
            "+002024-01-15T10:30:00Z",
        ] {
            assert_eq!(parse_datetime(text), None, "{text}");
        }
        assert!(
            parse_datetime("2024-01-15T10:30:00").is_some(),
            "no offset is UTC"
        );
        assert!(parse_datetime("2024-01-15T10:30:00-0330").is_some());
    }
}
