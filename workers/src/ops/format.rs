//! How operator output spells times and durations: ISO-8601 UTC for the instant (so it can
//! be pasted into other tools) plus a short age (so a human sees at once how long ago).

use std::time::Duration;

/// An instant stored in Redis as Unix milliseconds. Serializes as ISO-8601 UTC with
/// milliseconds, which is exact and sorts as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses the decimal milliseconds the Lua scripts store; `None` for empty or `0`
    /// (how the scripts spell "unknown").
    pub fn parse(text: &str) -> Option<Self> {
        text.parse::<i64>().ok().filter(|ms| *ms > 0).map(Self)
    }

    /// `2026-11-25T11:31:43.120Z`.
    pub fn iso8601(self) -> String {
        common::time::iso8601_millis(self.0)
    }

    /// `2026-11-25T11:31:43.120Z (3m12s ago)`, or `(in 5s)` for a future instant.
    pub fn with_age(self, now_ms: i64) -> String {
        format!("{} ({})", self.iso8601(), age(self.0, now_ms))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.iso8601())
    }
}

/// `3m12s ago` for a past instant, `in 5s` for a future one, `now` within a second.
pub fn age(at_ms: i64, now_ms: i64) -> String {
    let delta = now_ms - at_ms;
    let span = duration(Duration::from_millis(delta.unsigned_abs()));
    match delta {
        d if d.abs() < 1000 => "now".to_owned(),
        d if d > 0 => format!("{span} ago"),
        _ => format!("in {span}"),
    }
}

/// A duration in its two largest units: `2d3h`, `3m12s`, `45s`, `120ms`.
pub fn duration(span: Duration) -> String {
    let secs = span.as_secs();
    if secs == 0 {
        return format!("{}ms", span.as_millis());
    }
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, unit) in units {
        if rest >= size && parts.len() < 2 {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    parts.concat()
}

/// Parses `90s`, `30m`, `12h`, `7d` or `2w` (a number and one unit), as `--older-than`
/// takes it.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(unit_secs).map(Duration::from_secs)
}

/// At most `max` characters of `text` on one line, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_iso_8601_utc_with_milliseconds() {
        assert_eq!(Timestamp(0).iso8601(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_709_164_800_123).iso8601(),
            "2024-02-29T00:00:00.123Z"
        );
        assert_eq!(Timestamp::parse("0"), None);
        assert_eq!(Timestamp::parse(""), None);
    }

    #[test]
    fn ages_read_like_a_human_says_them() {
        assert_eq!(age(0, 192_000), "3m12s ago");
        assert_eq!(age(10_000, 5_000), "in 5s");
        assert_eq!(age(1_000, 1_500), "now");
        assert_eq!(
            duration(Duration::from_secs(2 * 86_400 + 3 * 3_600 + 9)),
            "2d3h"
        );
        assert_eq!(duration(Duration::from_secs(3_600 + 5)), "1h");
        assert_eq!(duration(Duration::from_millis(120)), "120ms");
    }

    #[test]
    fn durations_parse_with_one_unit() {
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("7"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("3x"), None);
    }

    #[test]
    fn truncation_keeps_one_line() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a\nb", 10), "a b");
        assert_eq!(truncate("abcdefghijkl", 5), "abcd…");
    }
}
