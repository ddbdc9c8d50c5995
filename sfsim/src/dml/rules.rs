//! Validation rules: after the field checks of a write, every active rule of the object is
//! evaluated on the record as it would be saved (and, on an update, as it was); the first
//! whose formula is TRUE fails the record with `FIELD_CUSTOM_VALIDATION_EXCEPTION`, its
//! `errorMessage` and its `errorDisplayField` (docs/salesforce-api.md §12). Salesforce
//! reports every failing rule; the simulator reports the first, in file name order.
//!
//! Values as formulas see them (§12.2): text fields are never null (blank is `""`),
//! checkboxes are TRUE or FALSE, and numbers, dates and datetimes are blank when unset
//! ("treat blanks as blanks": validation rules have no blanks-as-zeros option). A
//! comparison with a blank operand is blank, and a blank condition is not TRUE, so the rule
//! does not fire; AND, OR and NOT follow three-valued logic. Datetimes compare as instants,
//! dates as days, numbers numerically, text case-sensitively.

use std::cmp::Ordering;

use salesforce_metadata::{CompareOp, Expr, Literal, ValidationRule};
use serde_json::Value;

use crate::clock;
use crate::error::RecordError;
use crate::schema::{FieldKind, ObjectDef};
use crate::store::Record;

/// A value during evaluation; `Blank` is a number, date or datetime without a value, or
/// an unknown (NULL) result.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Blank,
    Bool(bool),
    Number(f64),
    Text(String),
    /// `yyyy-MM-dd`, which orders like the days it names.
    Date(String),
    /// Epoch milliseconds.
    DateTime(i64),
}

/// The record being saved and, on an update, the stored one.
struct Versions<'a> {
    object: &'a ObjectDef,
    prior: Option<&'a Record>,
    current: &'a Record,
}

/// Fails the write when an active rule fires. `prior` is the stored record on an update,
/// `None` on an insert.
pub(super) fn check_rules(
    object: &ObjectDef,
    prior: Option<&Record>,
    current: &Record,
) -> Result<(), RecordError> {
    let versions = Versions {
        object,
        prior,
        current,
    };
    match object
        .validation_rules
        .iter()
        .find(|rule| fires(rule, &versions))
    {
        Some(rule) => Err(RecordError::new(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            rule.error_message.clone(),
            rule.error_display_field.iter().cloned().collect(),
        )),
        None => Ok(()),
    }
}

fn fires(rule: &ValidationRule, versions: &Versions<'_>) -> bool {
    rule.active && eval(&rule.formula.expr, versions) == Val::Bool(true)
}

fn eval(expr: &Expr, versions: &Versions<'_>) -> Val {
    match expr {
        Expr::Literal(Literal::Number(number)) => Val::Number(*number),
        Expr::Literal(Literal::Text(text)) => Val::Text(text.clone()),
        Expr::Literal(Literal::Boolean(flag)) => Val::Bool(*flag),
        Expr::Literal(Literal::Null) => Val::Blank,
        Expr::Field(name) => read(versions.object, versions.current, name),
        Expr::PriorValue(name) => read(
            versions.object,
            versions.prior.unwrap_or(versions.current),
            name,
        ),
        Expr::IsNew => Val::Bool(versions.prior.is_none()),
        Expr::IsChanged(name) => Val::Bool(versions.prior.is_some_and(|prior| {
            read(versions.object, prior, name) != read(versions.object, versions.current, name)
        })),
        Expr::IsBlank(inner) => Val::Bool(match eval(inner, versions) {
            Val::Blank => true,
            Val::Text(text) => text.is_empty(),
            _ => false,
        }),
        Expr::IsPickVal { picklist, value } => match eval(picklist, versions) {
            Val::Text(text) => Val::Bool(text == *value),
            _ => Val::Bool(value.is_empty()),
        },
        Expr::Not(inner) => match eval(inner, versions) {
            Val::Bool(flag) => Val::Bool(!flag),
            _ => Val::Blank,
        },
        Expr::And(items) => logic(items, versions, false),
        Expr::Or(items) => logic(items, versions, true),
        Expr::Compare { op, left, right } => {
            compare(*op, &eval(left, versions), &eval(right, versions))
        }
    }
}

/// AND (`decisive` FALSE) or OR (`decisive` TRUE): any decisive operand decides; else a
/// blank operand makes the result blank.
fn logic(items: &[Expr], versions: &Versions<'_>, decisive: bool) -> Val {
    let mut blank = false;
    for item in items {
        match eval(item, versions) {
            Val::Bool(flag) if flag == decisive => return Val::Bool(decisive),
            Val::Bool(_) => {}
            _ => blank = true,
        }
    }
    if blank {
        Val::Blank
    } else {
        Val::Bool(!decisive)
    }
}

fn compare(op: CompareOp, left: &Val, right: &Val) -> Val {
    let ordering = match (left, right) {
        (Val::Number(a), Val::Number(b)) => a.partial_cmp(b),
        (Val::Text(a), Val::Text(b)) | (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Val::DateTime(b)) => Some(a.cmp(b)),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let Some(ordering) = ordering else {
        return Val::Blank;
    };
    Val::Bool(match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    })
}

/// A field of `record` as a formula sees it.
fn read(object: &ObjectDef, record: &Record, name: &str) -> Val {
    let value = record.fields.get(name).filter(|value| !value.is_null());
    let Some(field) = object.field(name) else {
        return Val::Blank;
    };
    match field.kind {
        FieldKind::Boolean => Val::Bool(value.and_then(Value::as_bool).unwrap_or(false)),
        kind if kind.is_numeric() => value
            .and_then(Value::as_f64)
            .map_or(Val::Blank, Val::Number),
        FieldKind::Date => value
            .and_then(Value::as_str)
            .map_or(Val::Blank, |text| Val::Date(text.to_owned())),
        FieldKind::DateTime => value
            .and_then(Value::as_str)
            .and_then(clock::parse_datetime)
            .map_or(Val::Blank, Val::DateTime),
        _ => Val::Text(value.map(crate::values::as_text).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests;
