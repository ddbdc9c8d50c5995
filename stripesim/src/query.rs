//! A subset of Stripe's search query language (https://docs.stripe.com/search): clauses
//! `field:value` joined by spaces or `AND`, or by `OR` (not both in one query, as Stripe
//! says), each optionally negated with `-`. Strings are quoted with `'` or `"`; `:` is an
//! exact match, `~` a substring match (at least 3 characters); numeric fields (`created`)
//! take `:`, `>`, `<`, `>=`, `<=` with an unquoted number. Fields: `metadata['key']` and the
//! string or numeric fields the resource names. Parsing and matching are pure.

use serde_json::Value;

/// A comparison of one clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `:` with a string: equal.
    Equals(String),
    /// `~`: contains.
    Contains(String),
    /// Numeric comparison: operator and number.
    Number(&'static str, i64),
}

/// One clause: the field's path in the object (`["metadata", "k"]`), its test, negation.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Path of the field in the object's JSON.
    pub path: Vec<String>,
    /// What the value must satisfy.
    pub test: Test,
    /// `-field:value`.
    pub negated: bool,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The clauses.
    pub clauses: Vec<Clause>,
    /// Joined with `OR` (otherwise `AND`).
    pub any: bool,
}

/// The fields a resource can be searched by.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Fields compared as strings.
    pub strings: &'static [&'static str],
    /// Fields compared as numbers.
    pub numbers: &'static [&'static str],
    /// The resource's name in error messages (`customers`).
    pub resource: &'static str,
}

impl Query {
    /// Whether `object` matches.
    pub fn matches(&self, object: &Value) -> bool {
        let mut results = self.clauses.iter().map(|clause| clause.matches(object));
        if self.any {
            results.any(|hit| hit)
        } else {
            results.all(|hit| hit)
        }
    }
}

impl Clause {
    fn matches(&self, object: &Value) -> bool {
        let value = self.path.iter().fold(object, |value, key| &value[key]);
        let hit = match (&self.test, value) {
            (Test::Equals(wanted), Value::String(actual)) => actual == wanted,
            (Test::Contains(part), Value::String(actual)) => {
                actual.to_lowercase().contains(&part.to_lowercase())
            }
            (Test::Number(op, wanted), Value::Number(actual)) => {
                actual.as_i64().is_some_and(|actual| match *op {
                    ">" => actual > *wanted,
                    "<" => actual < *wanted,
                    ">=" => actual >= *wanted,
                    "<=" => actual <= *wanted,
                    _ => actual == *wanted,
                })
            }
            _ => false,
        };
        hit != self.negated
    }
}

/// Parses `text` for a resource with `fields`; the error is the message for a 400.
pub fn parse(text: &str, fields: Fields) -> Result<Query, String> {
    let mut rest = text.trim();
    let mut clauses = Vec::new();
    let mut joiners = Vec::new();
    while !rest.is_empty() {
        if !clauses.is_empty() {
            for word in ["AND", "OR"] {
                let head = rest.get(..word.len() + 1);
                if head.is_some_and(|head| {
                    head[..word.len()].eq_ignore_ascii_case(word) && head.ends_with(' ')
                }) {
                    joiners.push(word);
                    rest = rest[word.len()..].trim_start();
                }
            }
        }
        let (clause, after) = clause(rest, fields)?;
        clauses.push(clause);
        rest = after.trim_start();
    }
    if clauses.is_empty() {
        return Err("The query is empty.".into());
    }
    if joiners.contains(&"AND") && joiners.contains(&"OR") {
        return Err("AND and OR cannot be combined in one query.".into());
    }
    Ok(Query {
        clauses,
        any: joiners.contains(&"OR"),
    })
}

/// One clause at the start of `text`, and what follows it.
fn clause(text: &str, fields: Fields) -> Result<(Clause, &str), String> {
    let (negated, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (path, numeric, text) = field(text, fields)?;
    let op = [">=", "<=", ":", "~", ">", "<"]
        .into_iter()
        .find(|op| text.starts_with(op))
        .ok_or_else(|| format!("Expected an operator after the field in `{text}`."))?;
    let text = &text[op.len()..];
    if numeric {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        let number = text[..end]
            .trim_matches(|c| c == '\'' || c == '"')
            .parse::<i64>()
            .map_err(|_| format!("`{}` is not a number.", &text[..end]))?;
        if op == "~" {
            return Err("`~` applies to string fields only.".into());
        }
        let test = Test::Number(op, number);
        return Ok((
            Clause {
                path,
                test,
                negated,
            },
            &text[end..],
        ));
    }
    let (value, rest) = quoted(text)?;
    let test = match op {
        ":" => Test::Equals(value),
        "~" if value.chars().count() >= 3 => Test::Contains(value),
        "~" => return Err("Substring matches need at least 3 characters.".into()),
        _ => return Err(format!("`{op}` applies to numeric fields only.")),
    };
    Ok((
        Clause {
            path,
            test,
            negated,
        },
        rest,
    ))
}

/// The field at the start of `text`: its path, whether it is numeric, and the rest.
fn field(text: &str, fields: Fields) -> Result<(Vec<String>, bool, &str), String> {
    if let Some(rest) = text.strip_prefix("metadata[") {
        let (key, rest) = quoted(rest)?;
        let rest = rest
            .strip_prefix(']')
            .ok_or("Expected `]` after the metadata key.")?;
        return Ok((vec!["metadata".into(), key], false, rest));
    }
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(text.len());
    let name = &text[..end];
    let numeric = fields.numbers.contains(&name);
    if !numeric && !fields.strings.contains(&name) {
        return Err(format!(
            "Field `{name}` is an unsupported search field for resource `{}`.",
            fields.resource
        ));
    }
    Ok((vec![name.to_string()], numeric, &text[end..]))
}

/// A `'…'` or `"…"` string at the start of `text` (`\` escapes the next character).
fn quoted(text: &str) -> Result<(String, &str), String> {
    let mut chars = text.char_indices();
    let quote = match chars.next() {
        Some((_, quote @ ('\'' | '"'))) => quote,
        _ => return Err(format!("Expected a quoted value at `{text}`.")),
    };
    let mut value = String::new();
    let mut escaped = false;
    for (at, c) in chars {
        match c {
            _ if escaped => {
                value.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            _ if c == quote => return Ok((value, &text[at + c.len_utf8()..])),
            _ => value.push(c),
        }
    }
    Err(format!("Unterminated quoted value at `{text}`."))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CUSTOMERS: Fields = Fields {
        strings: &["email", "name", "phone"],
        numbers: &["created"],
        resource: "customers",
    };

    fn hits(query: &str, object: &Value) -> bool {
        parse(query, CUSTOMERS).expect("parses").matches(object)
    }

    #[test]
    fn clauses_combine_with_and_or_and_negation() {
        let jane = json!({"email": "jane@example.com", "name": "Jane Doe", "created": 100,
                          "metadata": {"sf_id": "001A"}});
        assert!(hits("email:'jane@example.com'", &jane));
        assert!(hits(
            "metadata['sf_id']:'001A' AND name:\"Jane Doe\"",
            &jane
        ));
        assert!(hits("metadata[\"sf_id\"]:'001A' name:'Jane Doe'", &jane));
        assert!(!hits("email:'jane@example.com' AND name:'Other'", &jane));
        assert!(hits("email:'x@y.z' OR name:'Jane Doe'", &jane));
        assert!(hits("-email:'x@y.z'", &jane));
        assert!(hits("name~'doe'", &jane));
        assert!(hits("created>=100 AND created<101", &jane));
        assert!(!hits("metadata['missing']:'001A'", &jane));
        assert!(hits("-metadata['missing']:'x'", &jane));
    }

    #[test]
    fn malformed_queries_are_refused() {
        for query in [
            "",
            "address:'x'",
            "email:x",
            "email:'x",
            "email:'a' AND name:'b' OR phone:'c'",
            "name~'ab'",
            "created:'soon'",
            "email>'a'",
        ] {
            assert!(parse(query, CUSTOMERS).is_err(), "{query}");
        }
        let error = parse("address:'x'", CUSTOMERS).expect_err("unsupported");
        assert!(error.contains("unsupported search field"), "{error}");
    }
}
