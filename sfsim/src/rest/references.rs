//! References between Composite subrequests (docs/salesforce-api.md §4.4): `@{refId.path}`
//! in a later subrequest's `url` or `body` names a value of an earlier subrequest's
//! response body, with a JavaScript-like path (`@{refAccount.id}`,
//! `@{refCollection[0].id}`, `@{refQuery.records[0].Id}`). Pure: no I/O, unit-tested here.

use std::collections::HashMap;

use serde_json::Value;

/// The response bodies of the subrequests run so far, by reference id: `Some(body)` for one
/// that succeeded, `None` for one that failed (its dependents fail too).
pub type Outputs = HashMap<String, Option<Value>>;

/// A reference that names no value: an unknown or failed subrequest, or a path its body
/// does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The reference as written, without `@{` and `}`.
    pub expression: String,
    /// The reference id it names.
    pub reference_id: String,
}

impl Unresolved {
    /// The error message of the failed dependent subrequest (wording unverified, §4.4).
    pub fn message(&self) -> String {
        format!(
            "Invalid reference specified. No value for {} found in {}. Provided referenceId ('{}') doesn't exist or its subrequest failed.",
            self.expression, self.reference_id, self.reference_id
        )
    }
}

/// Replaces every reference in `text` by the text of its value.
pub fn resolve_text(text: &str, outputs: &Outputs) -> Result<String, Unresolved> {
    let mut resolved = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        resolved.push_str(&rest[..start]);
        let expression = &rest[start + 2..start + 2 + length];
        match lookup(expression, outputs)? {
            Value::String(text) => resolved.push_str(&text),
            other => resolved.push_str(&other.to_string()),
        }
        rest = &rest[start + 3 + length..];
    }
    resolved.push_str(rest);
    Ok(resolved)
}

/// Replaces the references in every string of `body`. A string that is exactly one
/// reference takes the referenced value with its JSON type; references inside longer text
/// are replaced by their text.
pub fn resolve_body(body: &Value, outputs: &Outputs) -> Result<Value, Unresolved> {
    Ok(match body {
        Value::String(text) => match whole_reference(text) {
            Some(expression) => lookup(expression, outputs)?,
            None => Value::String(resolve_text(text, outputs)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| resolve_body(item, outputs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| Ok((key.clone(), resolve_body(value, outputs)?)))
                .collect::<Result<_, Unresolved>>()?,
        ),
        other => other.clone(),
    })
}

fn whole_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("@{")?.strip_suffix('}')?;
    (!inner.contains('}')).then_some(inner)
}

/// `refId.a[0].b` → (`refId`, `.a[0].b`).
fn split_expression(expression: &str) -> (&str, &str) {
    let end = expression.find(['.', '[']).unwrap_or(expression.len());
    expression.split_at(end)
}

fn lookup(expression: &str, outputs: &Outputs) -> Result<Value, Unresolved> {
    let unresolved = || Unresolved {
        expression: expression.to_string(),
        reference_id: split_expression(expression).0.to_string(),
    };
    let (reference_id, mut path) = split_expression(expression);
    let mut value = outputs
        .get(reference_id)
        .and_then(Option::as_ref)
        .ok_or_else(unresolved)?;
    while !path.is_empty() {
        if let Some(after) = path.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            value = value.get(&after[..end]).ok_or_else(unresolved)?;
            path = &after[end..];
        } else if let Some(after) = path.strip_prefix('[') {
            let end = after.find(']').ok_or_else(unresolved)?;
            let index: usize = after[..end].trim().parse().map_err(|_| unresolved())?;
            value = value.get(index).ok_or_else(unresolved)?;
            path = &after[end + 1..];
        } else {
            return Err(unresolved());
        }
    }
    if value.is_null() {
        return Err(unresolved());
    }
    Ok(value.clone())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn outputs() -> Outputs {
        let mut outputs = Outputs::new();
        outputs.insert("acct".into(), Some(json!({"id": "001A", "success": true})));
        outputs.insert(
            "coll".into(),
            Some(json!([{"id": "a01X", "created": true}, {"id": "a01Y"}])),
        );
        outputs.insert("query".into(), Some(json!({"records": [{"Id": "003Q"}]})));
        outputs.insert("failed".into(), None);
        outputs
    }

    #[test]
    fn paths_into_objects_and_arrays() {
        let outputs = outputs();
        let url = "/services/data/v62.0/sobjects/Account/@{acct.id}";
        assert_eq!(
            resolve_text(url, &outputs).unwrap(),
            "/services/data/v62.0/sobjects/Account/001A"
        );
        assert_eq!(
            resolve_text("@{coll[1].id}-@{query.records[0].Id}", &outputs).unwrap(),
            "a01Y-003Q"
        );
    }

    #[test]
    fn a_whole_string_reference_keeps_the_json_type() {
        let body = json!({"Parent": "@{acct.id}", "New": "@{coll[0].created}", "Text": "x @{coll[0].created}"});
        assert_eq!(
            resolve_body(&body, &outputs()).unwrap(),
            json!({"Parent": "001A", "New": true, "Text": "x true"})
        );
    }

    #[test]
    fn failed_unknown_and_missing_paths_do_not_resolve() {
        let outputs = outputs();
        for text in [
            "@{failed.id}",
            "@{nobody.id}",
            "@{acct.nothing}",
            "@{coll[5].id}",
        ] {
            let error = resolve_text(text, &outputs).unwrap_err();
            assert!(error.message().contains(&error.reference_id), "{error:?}");
        }
    }
}
