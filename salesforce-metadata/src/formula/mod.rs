//! Validation rule formulas: the subset of Salesforce's formula language the simulator
//! evaluates, parsed into an AST ([`Expr`]) and checked against the object's fields.
//!
//! Supported: field references on the record itself (any case, as Salesforce matches API
//! names); literals (numbers, text in `"..."` or `'...'`, `TRUE`, `FALSE`, `NULL`);
//! comparisons `=` `==` `!=` `<>` `<` `<=` `>` `>=`; `&&`, `||`, `!`, `AND()`, `OR()`, `NOT()`;
//! `ISNEW()`, `ISCHANGED(field)`, `PRIORVALUE(field)`, `ISBLANK(expr)`,
//! `ISPICKVAL(picklist, "value")` (`picklist` being a picklist field or `PRIORVALUE` of
//! one); parentheses and `/* comments */`. Everything else (arithmetic, `&`, other
//! functions, cross-object `Parent__r.Field__c`, `$User`...) is refused with the reason, so
//! a rule is never silently read differently from the real org.
//!
//! The check follows Salesforce's typing: comparisons need operands of one type (NULL goes
//! with any); `<` and friends only order numbers, dates and datetimes; a picklist field is
//! only allowed inside `ISPICKVAL`, `ISBLANK`, `ISCHANGED` and `PRIORVALUE` (Salesforce:
//! "Picklist fields are only supported in certain functions"); the whole formula is a
//! boolean. Operator precedence is Salesforce's: comparisons, then `&&`, then `||`.

mod check;
mod lexer;
mod parser;

/// A parsed and checked formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The root expression: a boolean.
    pub expr: Expr,
}

/// One node of a formula. Field names are canonical (the object's spelling) once checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value.
    Literal(Literal),
    /// The record's current (new) value of a field.
    Field(String),
    /// `PRIORVALUE(field)`: the value before this save (on insert: the new value).
    PriorValue(String),
    /// `ISNEW()`: TRUE on insert.
    IsNew,
    /// `ISCHANGED(field)`: the value differs from the prior one (FALSE on insert).
    IsChanged(String),
    /// `ISBLANK(expr)`: no value (or empty text).
    IsBlank(Box<Expr>),
    /// `ISPICKVAL(picklist, "value")`.
    IsPickVal {
        /// A picklist [`Expr::Field`] or [`Expr::PriorValue`].
        picklist: Box<Expr>,
        /// The value's API name.
        value: String,
    },
    /// `NOT(x)` or `!x`.
    Not(Box<Expr>),
    /// `AND(...)` or `a && b`.
    And(Vec<Expr>),
    /// `OR(...)` or `a || b`.
    Or(Vec<Expr>),
    /// A comparison.
    Compare {
        /// The operator.
        op: CompareOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// `TRUE` or `FALSE`.
    Boolean(bool),
    /// `NULL`.
    Null,
}

/// A comparison operator (`==` is `=`, `<>` is `!=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=` / `==`.
    Eq,
    /// `!=` / `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// The type of a value in a formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// TRUE / FALSE (checkboxes, conditions).
    Boolean,
    /// Number, Currency, Percent.
    Number,
    /// Text of any text type, ids.
    Text,
    /// A picklist: only usable in a few functions.
    Picklist,
    /// Date.
    Date,
    /// DateTime.
    DateTime,
    /// The `NULL` literal: goes with any type.
    Null,
}

/// Why a formula is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", column.map(|c| format!(" (column {c})")).unwrap_or_default())]
pub struct FormulaError {
    /// What is wrong.
    pub message: String,
    /// Where, counting characters from 1, when it is one place.
    pub column: Option<usize>,
}

impl FormulaError {
    pub(crate) fn at(column: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            column: Some(column),
        }
    }

    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            column: None,
        }
    }
}

impl Formula {
    /// Parses `text` and checks it; `field` gives the canonical name and type of a field
    /// the formula reads, or `None` when the object has no such field.
    pub fn parse(
        text: &str,
        field: &dyn Fn(&str) -> Option<(String, ValueKind)>,
    ) -> Result<Self, FormulaError> {
        let tokens = lexer::tokenize(text)?;
        let mut expr = parser::parse(&tokens)?;
        check::check(&mut expr, field)?;
        Ok(Self { expr })
    }

    /// Every field the formula reads (current or prior value), canonical names, once each.
    pub fn fields(&self) -> Vec<&str> {
        let mut names = Vec::new();
        collect_fields(&self.expr, &mut names);
        names
    }
}

fn collect_fields<'a>(expr: &'a Expr, names: &mut Vec<&'a str>) {
    let mut add = |name: &'a str| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    match expr {
        Expr::Field(name) | Expr::PriorValue(name) | Expr::IsChanged(name) => add(name),
        Expr::Literal(_) | Expr::IsNew => {}
        Expr::IsBlank(inner) | Expr::Not(inner) => collect_fields(inner, names),
        Expr::IsPickVal { picklist, .. } => collect_fields(picklist, names),
        Expr::And(items) | Expr::Or(items) => {
            for item in items {
                collect_fields(item, names);
            }
        }
        Expr::Compare { left, right, .. } => {
            collect_fields(left, names);
            collect_fields(right, names);
        }
    }
}

#[cfg(test)]
mod tests;
