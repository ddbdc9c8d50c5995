//! Running a parsed query against the store. String comparisons ignore case, as SOQL's do.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::{Comparison, Condition, FieldPath, Literal, Query, Selection};
use crate::rest::body::record_url;
use crate::schema::FieldKind;
use crate::store::{Db, Record};

/// The query's result: the total count and, unless it is `COUNT()`, the rows.
pub fn run(query: &Query, db: &Db, version: u32) -> (usize, Vec<Value>) {
    let mut matching: Vec<&Record> = db
        .records(&query.object.name)
        .into_iter()
        .filter(|record| {
            query
                .filter
                .as_ref()
                .is_none_or(|filter| holds(filter, record, db))
        })
        .collect();
    if !query.order.is_empty() {
        matching.sort_by(|a, b| {
            query
                .order
                .iter()
                .map(|(path, descending)| {
                    let ordering = compare_values(&read(path, a, db), &read(path, b, db));
                    if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|ordering| *ordering != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
    }
    let limited: Vec<&Record> = matching
        .into_iter()
        .skip(query.offset)
        .take(query.limit.unwrap_or(usize::MAX))
        .collect();
    match &query.selection {
        Selection::Count => (limited.len(), Vec::new()),
        Selection::Fields(paths) => {
            let rows: Vec<Value> = limited
                .iter()
                .map(|record| row(query, paths, record, db, version))
                .collect();
            (rows.len(), rows)
        }
    }
}

fn row(query: &Query, paths: &[FieldPath], record: &Record, db: &Db, version: u32) -> Value {
    let mut map = Map::new();
    map.insert("attributes".into(), json!({"type": query.object.name, "url": record_url(version, &query.object.name, &record.id)}));
    for path in paths {
        match &path.parent {
            None => {
                map.insert(path.field.name.clone(), read(path, record, db));
            }
            Some((lookup, relationship, parent_object)) => {
                let parent = record
                    .fields
                    .get(lookup)
                    .and_then(Value::as_str)
                    .and_then(|id| db.get(&parent_object.name, id));
                let Some(parent) = parent else {
                    map.insert(relationship.clone(), Value::Null);
                    continue;
                };
                let entry = map.entry(relationship.clone()).or_insert_with(|| {
                    json!({"attributes": {"type": parent_object.name, "url": record_url(version, &parent_object.name, &parent.id)}})
                });
                if let Value::Object(nested) = entry {
                    nested.insert(
                        path.field.name.clone(),
                        parent
                            .fields
                            .get(&path.field.name)
                            .cloned()
                            .unwrap_or(Value::Null),
                    );
                }
            }
        }
    }
    Value::Object(map)
}

fn read(path: &FieldPath, record: &Record, db: &Db) -> Value {
    let source = match &path.parent {
        None => Some(record),
        Some((lookup, _, parent_object)) => record
            .fields
            .get(lookup)
            .and_then(Value::as_str)
            .and_then(|id| db.get(&parent_object.name, id)),
    };
    source
        .and_then(|record| record.fields.get(&path.field.name))
        .cloned()
        .unwrap_or(Value::Null)
}

fn holds(condition: &Condition, record: &Record, db: &Db) -> bool {
    match condition {
        Condition::And(parts) => parts.iter().all(|part| holds(part, record, db)),
        Condition::Or(parts) => parts.iter().any(|part| holds(part, record, db)),
        Condition::Not(inner) => !holds(inner, record, db),
        Condition::Compare(path, comparison, literal) => compare(
            &read(path, record, db),
            *comparison,
            literal,
            path.field.kind,
        ),
        Condition::In(path, literals, negated) => {
            let value = read(path, record, db);
            let found = literals
                .iter()
                .any(|literal| compare(&value, Comparison::Eq, literal, path.field.kind));
            found != *negated
        }
        Condition::Like(path, pattern) => match read(path, record, db) {
            Value::String(text) => like(&text.to_lowercase(), &pattern.to_lowercase()),
            _ => false,
        },
    }
}

fn literal_value(literal: &Literal) -> Value {
    match literal {
        Literal::Null => Value::Null,
        Literal::Bool(flag) => Value::Bool(*flag),
        Literal::Number(number) => json!(number),
        Literal::Text(text) => Value::String(text.clone()),
    }
}

fn compare(value: &Value, comparison: Comparison, literal: &Literal, kind: FieldKind) -> bool {
    let wanted = literal_value(literal);
    let ordering = if kind == FieldKind::Boolean && value.is_null() {
        compare_values(&Value::Bool(false), &wanted)
    } else if value.is_null() || wanted.is_null() {
        return match comparison {
            Comparison::Eq => value.is_null() && wanted.is_null(),
            Comparison::Ne => value.is_null() != wanted.is_null(),
            _ => false,
        };
    } else {
        compare_values(value, &wanted)
    };
    match comparison {
        Comparison::Eq => ordering == Ordering::Equal,
        Comparison::Ne => ordering != Ordering::Equal,
        Comparison::Lt => ordering == Ordering::Less,
        Comparison::Le => ordering != Ordering::Greater,
        Comparison::Gt => ordering == Ordering::Greater,
        Comparison::Ge => ordering != Ordering::Less,
    }
}

/// Orders two stored values; nulls first, text case-insensitively.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// SOQL LIKE: `%` any run, `_` one character, `\%` / `\_` literal.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => Some(chars.next().unwrap_or('\\')),
            '%' => None,
            '_' => Some('\u{0}'),
            other => Some(other),
        });
    }
    matches(&text, &tokens)
}

fn matches(text: &[char], pattern: &[Option<char>]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((None, rest)) => (0..=text.len()).any(|skip| matches(&text[skip..], rest)),
        Some((Some('\u{0}'), rest)) => !text.is_empty() && matches(&text[1..], rest),
        Some((Some(c), rest)) => text.first() == Some(c) && matches(&text[1..], rest),
    }
}
