//! The `WHERE` clause: conditions joined by `OR` and `AND` (in that precedence), `NOT`,
//! parentheses, comparisons, `LIKE` and `[NOT] IN`, and literals type-checked against the
//! field they are compared with, with Salesforce's error texts for a quoted number or an
//! unquoted string (docs/salesforce-api.md §6.1).

use super::path::resolve;
use super::Parser;
use crate::clock;
use crate::ids;
use crate::schema::{FieldKind, ObjectDef, Schema};
use crate::soql::lexer::{unescape, Token, TokenKind};
use crate::soql::{Comparison, Condition, FieldPath, Literal, SoqlError};

impl Parser {
    /// `cond OR cond ...`: the lowest precedence.
    pub(super) fn or_condition(
        &mut self,
        schema: &Schema,
        object: &ObjectDef,
    ) -> Result<Condition, SoqlError> {
        let mut parts = vec![self.and_condition(schema, object)?];
        while self.at_keyword("OR") {
            self.position += 1;
            parts.push(self.and_condition(schema, object)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::Or(parts)
        })
    }

    /// `cond AND cond ...`.
    fn and_condition(
        &mut self,
        schema: &Schema,
        object: &ObjectDef,
    ) -> Result<Condition, SoqlError> {
        let mut parts = vec![self.atom(schema, object)?];
        while self.at_keyword("AND") {
            self.position += 1;
            parts.push(self.atom(schema, object)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::And(parts)
        })
    }

    /// `NOT atom`, `( cond )`, or one comparison of a field with a literal.
    fn atom(&mut self, schema: &Schema, object: &ObjectDef) -> Result<Condition, SoqlError> {
        if self.at_keyword("NOT") {
            self.position += 1;
            return Ok(Condition::Not(Box::new(self.atom(schema, object)?)));
        }
        if self.peek().map(|t| &t.kind) == Some(&TokenKind::Open) {
            self.position += 1;
            let inner = self.or_condition(schema, object)?;
            if self.next().map(|t| t.kind) != Some(TokenKind::Close) {
                self.position -= 1;
                return Err(self.unexpected("expecting ')'"));
            }
            return Ok(inner);
        }
        let (name, column) = self.word()?;
        let path = resolve(schema, object, &name, column)?;
        if self.at_keyword("LIKE") {
            self.position += 1;
            return match self.next() {
                Some(Token {
                    kind: TokenKind::Quoted(raw),
                    column,
                }) => Ok(Condition::Like(path, unescape(&raw, true, column)?)),
                _ => {
                    self.position -= 1;
                    Err(self.unexpected("expecting a string"))
                }
            };
        }
        let negated = self.at_keyword("NOT");
        if negated {
            self.position += 1;
        }
        if self.at_keyword("IN") {
            self.position += 1;
            if self.next().map(|t| t.kind) != Some(TokenKind::Open) {
                self.position -= 1;
                return Err(self.unexpected("expecting '('"));
            }
            let mut values = Vec::new();
            loop {
                values.push(self.literal(&path)?);
                match self.next().map(|t| t.kind) {
                    Some(TokenKind::Comma) => continue,
                    Some(TokenKind::Close) => break,
                    _ => {
                        self.position -= 1;
                        return Err(self.unexpected("expecting ',' or ')'"));
                    }
                }
            }
            return Ok(Condition::In(path, values, negated));
        }
        if negated {
            return Err(self.unexpected("expecting IN"));
        }
        let operator = match self.next() {
            Some(Token {
                kind: TokenKind::Operator(op),
                ..
            }) => op,
            _ => {
                self.position -= 1;
                return Err(self.unexpected("expecting an operator"));
            }
        };
        let comparison = match operator.as_str() {
            "=" => Comparison::Eq,
            "!=" | "<>" => Comparison::Ne,
            "<" => Comparison::Lt,
            "<=" => Comparison::Le,
            ">" => Comparison::Gt,
            _ => Comparison::Ge,
        };
        let value = self.literal(&path)?;
        Ok(Condition::Compare(path, comparison, value))
    }

    /// A literal, type-checked against the field it is compared with.
    fn literal(&mut self, path: &FieldPath) -> Result<Literal, SoqlError> {
        let Some(token) = self.next() else {
            return Err(self.unexpected("expecting a value"));
        };
        let field = &path.field;
        let type_error = |wanted: &str, quoted: bool| {
            SoqlError {
            code: "INVALID_FIELD",
            column: token.column,
            message: format!(
                "value of filter criterion for field '{}' must be of type {wanted} and should {}be enclosed in quotes",
                field.name,
                if quoted { "not " } else { "" }
            ),
        }
        };
        match &token.kind {
            TokenKind::Word(word) if word.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            TokenKind::Word(word)
                if field.kind == FieldKind::Boolean
                    && (word.eq_ignore_ascii_case("true")
                        || word.eq_ignore_ascii_case("false")) =>
            {
                Ok(Literal::Bool(word.eq_ignore_ascii_case("true")))
            }
            TokenKind::Quoted(raw) => match field.kind {
                kind if kind.is_numeric() => Err(type_error("double", true)),
                FieldKind::Boolean => Err(type_error("boolean", true)),
                FieldKind::Date | FieldKind::DateTime => Err(type_error(
                    if field.kind == FieldKind::Date {
                        "date"
                    } else {
                        "dateTime"
                    },
                    true,
                )),
                FieldKind::Id | FieldKind::Lookup => {
                    let text = unescape(raw, false, token.column)?;
                    Ok(Literal::Text(ids::normalize(&text).unwrap_or(text)))
                }
                _ => Ok(Literal::Text(unescape(raw, false, token.column)?)),
            },
            TokenKind::Bare(bare) => match field.kind {
                kind if kind.is_numeric() => bare
                    .parse()
                    .map(Literal::Number)
                    .map_err(|_| type_error("double", false)),
                FieldKind::Date => clock::parse_date(bare)
                    .map(Literal::Text)
                    .ok_or_else(|| type_error("date", false)),
                FieldKind::DateTime => clock::parse_datetime(bare)
                    .map(|ms| Literal::Text(clock::format_datetime(ms)))
                    .ok_or_else(|| type_error("dateTime", false)),
                _ => Err(type_error("string", false)),
            },
            _ => {
                self.position -= 1;
                Err(self.unexpected("expecting a value"))
            }
        }
    }
}
