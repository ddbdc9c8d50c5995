//! Text built from several values of the event: `template = "{data.object.id}#{$number}"`.
//!
//! A template is literal text with `{path}` placeholders (any path, including the `$item`,
//! `$previous` and `$number` of `for_each` writes); `{{` and `}}` stand for literal braces.
//! It gives a record key made of several parts (a tier's `price_1#2`) or a name
//! (`Tier 2`) without code. A placeholder whose value is absent or null leaves the whole
//! template without a value: a key or name with a hole in it would be wrong, not partial.

use std::fmt;

use serde_json::Value;

use super::path::{JsonPath, Lookup, Scope};

/// A parsed template. Displays as the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Value(JsonPath),
}

/// A placeholder whose value cannot be written as text (an object or an array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPlaceholder {
    /// The placeholder's path.
    pub path: String,
    /// What it found instead.
    pub reason: String,
}

impl Template {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(format!("template `{text}`: a `{{` is never closed"));
                    }
                    if inner.contains('{') {
                        return Err(format!("template `{text}`: `{{` inside a placeholder"));
                    }
                    let path = JsonPath::parse(inner.trim())
                        .map_err(|reason| format!("template `{text}`: {reason}"))?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Value(path));
                }
                '}' => {
                    return Err(format!(
                        "template `{text}`: a lone `}}` (write `}}}}` for a brace)"
                    ))
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        if !parts.iter().any(|part| matches!(part, Part::Value(_))) {
            return Err(format!(
                "template `{text}` has no {{placeholder}}: use a `constant`"
            ));
        }
        Ok(Template {
            text: text.to_owned(),
            parts,
        })
    }

    /// The placeholders' paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &JsonPath> {
        self.parts.iter().filter_map(|part| match part {
            Part::Value(path) => Some(path),
            Part::Literal(_) => None,
        })
    }

    /// The text for `scope`, or `None` when a placeholder has no value (absent or null).
    /// Text is used as is; numbers and booleans as their JSON text.
    pub fn render(&self, scope: Scope<'_>) -> Result<Option<String>, BadPlaceholder> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value(path) => match path.lookup_in(scope) {
                    Lookup::Found(Value::String(text)) => out.push_str(text),
                    Lookup::Found(value @ (Value::Number(_) | Value::Bool(_))) => {
                        out.push_str(&value.to_string())
                    }
                    Lookup::Found(other) => {
                        return Err(BadPlaceholder {
                            path: path.to_string(),
                            reason: format!("expected text or a number, got {other}"),
                        })
                    }
                    Lookup::Null | Lookup::Absent => return Ok(None),
                },
            }
        }
        Ok(Some(out))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::path::Element;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_from_the_event_and_the_element() {
        let event = json!({"data": {"object": {"id": "price_1", "tiers": [{"up_to": 5}]}}});
        let element = Element {
            item: &event["data"]["object"]["tiers"][0],
            previous: None,
            number: json!(1),
        };
        let scope = Scope {
            event: &event,
            element: Some(&element),
        };
        let key = Template::parse("{data.object.id}#{$number}").unwrap();
        assert_eq!(key.render(scope), Ok(Some("price_1#1".into())));
        let braces = Template::parse("{{up to {$item.up_to}}}").unwrap();
        assert_eq!(braces.render(scope), Ok(Some("{up to 5}".into())));
        let hole = Template::parse("{data.object.id}#{$previous.up_to}").unwrap();
        assert_eq!(hole.render(scope), Ok(None));
        let object = Template::parse("{data.object}").unwrap();
        assert_eq!(object.render(scope).unwrap_err().path, "data.object");
        assert_eq!(key.paths().count(), 2);
        assert_eq!(key.to_string(), "{data.object.id}#{$number}");
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["no placeholder", "{a", "a}", "{a{b}}", "{}", "{$nope}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
