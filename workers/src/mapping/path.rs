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
//!
//! Inside a write with `for_each`, a path may instead start at the list element being
//! written: `$item.up_to` (the element), `$previous.up_to` (the element before it; absent for
//! the first) and `$number` (its 1-based position). Such paths are resolved in a [`Scope`]
//! that carries the element; the loader refuses them in writes without `for_each`.

use std::fmt;

use serde_json::Value;

/// A parsed path. Displays as the text it was parsed from, which is what errors show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The event envelope (`data.object.id`, `created`).
    Event,
    /// `$item`: the list element a `for_each` write is writing.
    Item,
    /// `$previous`: the element before it (absent for the first element).
    Previous,
    /// `$number`: the element's 1-based position in the list.
    Number,
}

/// One element of a `for_each` list, as its paths see it.
#[derive(Debug, Clone)]
pub struct Element<'a> {
    /// The element itself.
    pub item: &'a Value,
    /// The element before it, if any.
    pub previous: Option<&'a Value>,
    /// Its 1-based position, as a JSON number.
    pub number: Value,
}

/// What paths are resolved against: the event, and the list element when writing one.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The whole event.
    pub event: &'a Value,
    /// The element of a `for_each` write, if this is one.
    pub element: Option<&'a Element<'a>>,
}

#[cfg(test)]
impl<'a> Scope<'a> {
    /// The event alone (outside `for_each` writes).
    pub fn event(event: &'a Value) -> Scope<'a> {
        Scope {
            event,
            element: None,
        }
    }
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
        let mut root = Root::Event;
        for (position, part) in text.split('.').enumerate() {
            let (key, mut indexes) = part.find('[').map_or((part, ""), |at| part.split_at(at));
            if key.is_empty() || key.contains(']') || key.chars().any(char::is_whitespace) {
                return Err(format!("`{part}` in path `{text}` is not a key"));
            }
            if let Some(name) = key.strip_prefix('$') {
                root = match (position, name) {
                    (0, "item") => Root::Item,
                    (0, "previous") => Root::Previous,
                    (0, "number") => Root::Number,
                    (0, _) => {
                        return Err(format!(
                            "`{key}` in path `{text}` is unknown ($item, $previous, $number)"
                        ))
                    }
                    _ => return Err(format!("`{key}` can only start a path (in `{text}`)")),
                };
            } else {
                segments.push(Segment::Key(key.to_owned()));
            }
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
        if root == Root::Number && !segments.is_empty() {
            return Err(format!(
                "`$number` is a number: nothing can follow it (in `{text}`)"
            ));
        }
        Ok(JsonPath {
            text: text.to_owned(),
            root,
            segments,
        })
    }

    /// The path as written in the mapping file.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path starts at a `for_each` element (`$item`, `$previous`, `$number`).
    pub fn is_element_path(&self) -> bool {
        self.root != Root::Event
    }

    /// Follows an event path through `event` (an element path is absent there).
    #[cfg(test)]
    pub fn lookup<'a>(&self, event: &'a Value) -> Lookup<'a> {
        self.lookup_in(Scope::event(event))
    }

    /// Follows the path from its root in `scope`.
    pub fn lookup_in<'a>(&self, scope: Scope<'a>) -> Lookup<'a> {
        let start = match (self.root, scope.element) {
            (Root::Event, _) => scope.event,
            (Root::Item, Some(element)) => element.item,
            (
                Root::Previous,
                Some(Element {
                    previous: Some(previous),
                    ..
                }),
            ) => previous,
            (Root::Number, Some(element)) => &element.number,
            (_, _) => return Lookup::Absent,
        };
        let mut current = start;
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
    scope: Scope<'v>,
) -> (Lookup<'v>, Option<&'p JsonPath>) {
    let mut outcome = (Lookup::Absent, None);
    for path in paths {
        match path.lookup_in(scope) {
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
        let scope = Scope::event(&event);
        let (found, winner) = first_present(&paths, scope);
        assert_eq!(found, Lookup::Found(&json!(2)));
        assert_eq!(winner.map(JsonPath::as_str), Some("b"));
        let (found, _) = first_present(&paths[..2], scope);
        assert_eq!(found, Lookup::Null);
        assert_eq!(first_present(&paths[..1], scope).0, Lookup::Absent);
    }

    #[test]
    fn bad_syntax_is_refused() {
        for bad in [
            "",
            "a..b",
            "a[x]",
            "a[0",
            "[0]",
            "a b",
            "a]",
            "$items.x",
            "a.$item",
            "$number.x",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(path("a[0][1].b").segments.len(), 4);
    }

    #[test]
    fn element_paths_start_at_the_element() {
        let event = json!({"data": {"object": {"tiers": [{"up_to": 5}, {"up_to": null}]}}});
        let tiers = event["data"]["object"]["tiers"].as_array().unwrap();
        let second = Element {
            item: &tiers[1],
            previous: Some(&tiers[0]),
            number: json!(2),
        };
        let scope = Scope {
            event: &event,
            element: Some(&second),
        };
        assert_eq!(path("$item.up_to").lookup_in(scope), Lookup::Null);
        assert_eq!(
            path("$previous.up_to").lookup_in(scope),
            Lookup::Found(&json!(5))
        );
        assert_eq!(path("$number").lookup_in(scope), Lookup::Found(&json!(2)));
        assert_eq!(
            path("data.object.tiers[0].up_to").lookup_in(scope),
            Lookup::Found(&json!(5))
        );
        let first = Element {
            item: &tiers[0],
            previous: None,
            number: json!(1),
        };
        let scope = Scope {
            event: &event,
            element: Some(&first),
        };
        assert_eq!(path("$previous.up_to").lookup_in(scope), Lookup::Absent);
        assert_eq!(path("$item.up_to").lookup(&event), Lookup::Absent);
        assert!(path("$item").is_element_path() && !path("a").is_element_path());
    }
}
