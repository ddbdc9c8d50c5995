//! The SOQL subset the fleet needs (docs/salesforce-api.md §6):
//!
//! ```text
//! SELECT COUNT() | field[, field...] FROM Object
//!   [WHERE cond]            cond: comparisons joined by AND / OR, NOT, parentheses;
//!                           =, !=, <>, <, <=, >, >=, IN (...), NOT IN (...), LIKE
//!   [ORDER BY field [ASC|DESC][, ...]] [LIMIT n] [OFFSET n]
//! ```
//! Fields may be one-level parent paths (`Stripe_Customer__r.Stripe_Customer_ID__c`).
//! String literals use SOQL's backslash escapes; numbers, booleans, `null`, dates and
//! datetimes are unquoted, and quoting a numeric comparison is an error (§6.1).

pub mod exec;
pub mod lexer;
pub mod parser;

use std::sync::Arc;

use crate::error::ApiError;
use crate::schema::{FieldDef, ObjectDef};

/// Longest SOQL text accepted (§6.1).
pub const MAX_QUERY_CHARS: usize = 100_000;

/// A query error before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} at column {column}: {message}")]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`.
    pub code: &'static str,
    /// 1-based column.
    pub column: usize,
    /// Explanation.
    pub message: String,
}

impl SoqlError {
    /// `MALFORMED_QUERY` at `column`.
    pub fn malformed(column: usize, message: &str) -> Self {
        Self {
            code: "MALFORMED_QUERY",
            column,
            message: message.to_string(),
        }
    }

    /// The REST error, in Salesforce's multi-line form: query, caret, position, text.
    pub fn into_api_error(self, soql: &str) -> ApiError {
        let caret = format!("{}^", " ".repeat(self.column.saturating_sub(1)));
        ApiError::bad_request(
            self.code,
            format!(
                "{soql}\n{caret}\nERROR at Row:1:Column:{}\n{}",
                self.column, self.message
            ),
        )
    }
}

/// A field reference: own field, or one field of a parent through a lookup.
#[derive(Debug, Clone)]
pub struct FieldPath {
    /// `(lookup field, relationship name, parent object)` for parent paths.
    pub parent: Option<(String, String, Arc<ObjectDef>)>,
    /// The field read.
    pub field: FieldDef,
}

/// A literal, already normalised to the compared field's stored form.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Numbers.
    Number(f64),
    /// Text, ids (canonical 18 characters), dates and datetimes (Salesforce format).
    Text(String),
}

/// The comparison operators of a `WHERE` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A WHERE clause.
#[derive(Debug, Clone)]
pub enum Condition {
    /// All must hold.
    And(Vec<Condition>),
    /// Any must hold.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// `field op literal`.
    Compare(FieldPath, Comparison, Literal),
    /// `field [NOT] IN (literals)`.
    In(FieldPath, Vec<Literal>, bool),
    /// `field LIKE 'pattern'` (escapes `\%`, `\_` kept).
    Like(FieldPath, String),
}

/// What the query returns.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `COUNT()`: only `totalSize`.
    Count,
    /// Field values.
    Fields(Vec<FieldPath>),
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Selected fields.
    pub selection: Selection,
    /// The object queried.
    pub object: Arc<ObjectDef>,
    /// WHERE.
    pub filter: Option<Condition>,
    /// ORDER BY: field and descending flag.
    pub order: Vec<(FieldPath, bool)>,
    /// LIMIT.
    pub limit: Option<usize>,
    /// OFFSET.
    pub offset: usize,
}
