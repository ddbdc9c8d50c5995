//! JSON paths into a Stripe event: `data.object.items.data[0].current_period_start`.
//!
//! The syntax is deliberately tiny: keys separated by dots, each key optionally followed by
//! `[n]` array indexes. Paths start at the event envelope, so `data.object.id`, `type` and
//! `created` are all reachable.
//!
//! A lookup distinguishes *absent* (a key that is not there, e.g. a field an older Stripe API
//! version did not send) from *null* (Stripe says "no value", e.g. `phone: null`, or a null
//! parent such as `last_payment_error` on a succeeded PaymentIntent). Absent values make the
//! mapping try the next fallback path or fail; null values clear the Salesforce field.

use std::fmt;

use serde_json::Value;

/// A parsed path. Displays as the text it was parsed from, which is what errors show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// What a path found in an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup<'a> {
    /// A non-null value.
    Found(&'a Value),
    /// An explicit JSON `null`, at the end of the path or on the way to it.
    Null,
    /// The path does not exist in this event.
    Absent,
}

impl JsonPath {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        if text.trim().is_empty() {
            return Err("the path is empty".to_owned());
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (key, mut indexes) = part.find('[').map_or((part, ""), |at| part.split_at(at));
            if key.is_empty() || key.contains(']') || key.chars().any(char::is_whitespace) {
                return Err(format!("`{part}` in path `{text}` is not a key"));
            }
            segments.push(Segment::Key(key.to_owned()));
            while !indexes.is_empty() {
                let inner = indexes
                    .strip_prefix('[')
                    .and_then(|rest| rest.split_once(']'))
                    .ok_or_else(|| format!("bad index syntax in `{part}` of path `{text}`"))?;
                let index = inner.0.parse::<usize>().map_err(|_| {
                    format!("`[{}]` in path `{text}` is not an array index", inner.0)
                })?;
                segments.push(Segment::Index(index));
                indexes = inner.1;
            }
        }
        Ok(JsonPath {
            text: text.to_owned(),
            segments,
        })
    }

    /// The path as written in the mapping file.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Follows the path through `root`.
    pub fn lookup<'a>(&self, root: &'a Value) -> Lookup<'a> {
        let mut current = root;
        for segment in &self.segments {
            if current.is_null() {
                return Lookup::Null;
            }
            let next = match segment {
                Segment::Key(key) => current.as_object().and_then(|map| map.get(key)),
                Segment::Index(index) => current.as_array().and_then(|items| items.get(*index)),
            };
            match next {
                Some(value) => current = value,
                None => return Lookup::Absent,
            }
        }
        if current.is_null() {
            Lookup::Null
        } else {
            Lookup::Found(current)
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Tries `paths` in order: the first non-null value wins; else `Null` if any path held an
/// explicit null; else `Absent`. Returns the winning path with the value.
pub fn first_present<'p, 'v>(
    paths: &'p [JsonPath],
    root: &'v Value,
) -> (Lookup<'v>, Option<&'p JsonPath>) {
    let mut outcome = (Lookup::Absent, None);
    for path in paths {
        match path.lookup(root) {
            found @ Lookup::Found(_) => return (found, Some(path)),
            Lookup::Null if outcome.1.is_none() => outcome = (Lookup::Null, Some(path)),
            Lookup::Null | Lookup::Absent => {}
        }
    }
    outcome
}

/// Joins paths for messages: `a.b | c.d`.
pub fn describe(paths: &[JsonPath]) -> String {
    paths
        .iter()
        .map(JsonPath::as_str)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> JsonPath {
        JsonPath::parse(text).unwrap()
    }

    #[test]
    fn follows_keys_and_indexes() {
        let event = json!({"data": {"object": {"items": {"data": [{"p": 5}, {"p": [7, 8]}]}}}});
        assert_eq!(
            path("data.object.items.data[0].p").lookup(&event),
            Lookup::Found(&json!(5))
        );
        assert_eq!(
            path("data.object.items.data[1].p[1]").lookup(&event),
            Lookup::Found(&json!(8))
        );
        assert_eq!(
            path("data.object.items.data[2].p").lookup(&event),
            Lookup::Absent
        );
        assert_eq!(path("data.object.nope").lookup(&event), Lookup::Absent);
        assert_eq!(path("data.object.items.x").lookup(&event), Lookup::Absent);
    }

    #[test]
    fn null_on_the_way_is_null_and_a_string_parent_is_absent() {
        let event = json!({"e": null, "s": "pm_1"});
        assert_eq!(path("e.message").lookup(&event), Lookup::Null);
        assert_eq!(path("e").lookup(&event), Lookup::Null);
        assert_eq!(path("s.id").lookup(&event), Lookup::Absent);
    }

    #[test]
    fn fallbacks_take_the_first_non_null() {
        let event = json!({"a": null, "b": 2, "c": 3});
        let paths = [path("x"), path("a"), path("b"), path("c")];
        let (found, winner) = first_present(&paths, &event);
        assert_eq!(found, Lookup::Found(&json!(2)));
        assert_eq!(winner.map(JsonPath::as_str), Some("b"));
        let (found, _) = first_present(&paths[..2], &event);
        assert_eq!(found, Lookup::Null);
        assert_eq!(first_present(&paths[..1], &event).0, Lookup::Absent);
    }

    #[test]
    fn bad_syntax_is_refused() {
        for bad in ["", "a..b", "a[x]", "a[0", "[0]", "a b", "a]"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(path("a[0][1].b").segments.len(), 4);
    }
}
