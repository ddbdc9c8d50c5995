//! Resolving a parsed formula against the object: every field must exist (names become the
//! object's spelling), operands must have types Salesforce accepts together, picklists only
//! appear where Salesforce allows them, and the whole formula must be a condition.

use super::{CompareOp, Expr, FormulaError, Literal, ValueKind};

/// Looks a field up: canonical name and type.
type Resolve<'a> = &'a dyn Fn(&str) -> Option<(String, ValueKind)>;

pub(super) fn check(expr: &mut Expr, resolve: Resolve<'_>) -> Result<(), FormulaError> {
    match kind_of(expr, resolve, false)? {
        ValueKind::Boolean => Ok(()),
        other => Err(FormulaError::new(format!(
            "a validation rule's formula must be a condition (TRUE or FALSE), this one is {}",
            name(other)
        ))),
    }
}

/// The type of `expr`, with its field names made canonical. `picklist_allowed`: the
/// expression is the argument of a function that takes picklists.
fn kind_of(
    expr: &mut Expr,
    resolve: Resolve<'_>,
    picklist_allowed: bool,
) -> Result<ValueKind, FormulaError> {
    let kind = match expr {
        Expr::Literal(Literal::Number(_)) => ValueKind::Number,
        Expr::Literal(Literal::Text(_)) => ValueKind::Text,
        Expr::Literal(Literal::Boolean(_)) => ValueKind::Boolean,
        Expr::Literal(Literal::Null) => ValueKind::Null,
        Expr::Field(field) | Expr::PriorValue(field) => {
            let kind = field_kind(field, resolve)?;
            if kind == ValueKind::Picklist && !picklist_allowed {
                return Err(FormulaError::new(format!(
                    "field {field} is a picklist field. Picklist fields are only supported in \
                     certain functions (ISPICKVAL, ISBLANK, ISCHANGED, PRIORVALUE)"
                )));
            }
            kind
        }
        Expr::IsChanged(field) => {
            field_kind(field, resolve)?;
            ValueKind::Boolean
        }
        Expr::IsNew => ValueKind::Boolean,
        Expr::IsBlank(inner) => {
            kind_of(inner, resolve, true)?;
            ValueKind::Boolean
        }
        Expr::IsPickVal { picklist, .. } => {
            let kind = kind_of(picklist, resolve, true)?;
            if kind != ValueKind::Picklist {
                return Err(FormulaError::new(format!(
                    "ISPICKVAL() takes a picklist field, not {}",
                    name(kind)
                )));
            }
            ValueKind::Boolean
        }
        Expr::Not(inner) => {
            condition(inner, resolve, "NOT")?;
            ValueKind::Boolean
        }
        Expr::And(items) | Expr::Or(items) => {
            for item in items {
                condition(item, resolve, "AND/OR")?;
            }
            ValueKind::Boolean
        }
        Expr::Compare { op, left, right } => {
            let left = kind_of(left, resolve, false)?;
            let right = kind_of(right, resolve, false)?;
            compare(*op, left, right)?;
            ValueKind::Boolean
        }
    };
    Ok(kind)
}

fn condition(expr: &mut Expr, resolve: Resolve<'_>, what: &str) -> Result<(), FormulaError> {
    match kind_of(expr, resolve, false)? {
        ValueKind::Boolean => Ok(()),
        other => Err(FormulaError::new(format!(
            "{what} takes conditions (TRUE or FALSE), not {}",
            name(other)
        ))),
    }
}

/// Canonicalises `field` in place and returns its type.
fn field_kind(field: &mut String, resolve: Resolve<'_>) -> Result<ValueKind, FormulaError> {
    let (canonical, kind) =
        resolve(field).ok_or_else(|| FormulaError::new(format!("unknown field {field}")))?;
    *field = canonical;
    Ok(kind)
}

fn compare(op: CompareOp, left: ValueKind, right: ValueKind) -> Result<(), FormulaError> {
    let kind = match (left, right) {
        (ValueKind::Null, other) | (other, ValueKind::Null) => other,
        (a, b) if a == b => a,
        (a, b) => {
            return Err(FormulaError::new(format!(
                "cannot compare {} with {}",
                name(a),
                name(b)
            )))
        }
    };
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    let orderable = matches!(
        kind,
        ValueKind::Number | ValueKind::Date | ValueKind::DateTime | ValueKind::Null
    );
    if ordering && !orderable {
        return Err(FormulaError::new(format!(
            "<, <=, > and >= compare numbers, dates and datetimes, not {}",
            name(kind)
        )));
    }
    Ok(())
}

fn name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Boolean => "a condition (TRUE/FALSE)",
        ValueKind::Number => "a number",
        ValueKind::Text => "text",
        ValueKind::Picklist => "a picklist",
        ValueKind::Date => "a date",
        ValueKind::DateTime => "a datetime",
        ValueKind::Null => "NULL",
    }
}
