//! Recursive-descent parser of the SOQL subset into a checked [`Query`].

use super::lexer::{tokenize, unescape, Token, TokenKind};
use super::{
    Comparison, Condition, FieldPath, Literal, Query, Selection, SoqlError, MAX_QUERY_CHARS,
};
use crate::clock;
use crate::ids;
use crate::schema::{FieldKind, ObjectDef, Schema};

/// Parses and checks `text` against the schema.
pub fn parse(schema: &Schema, text: &str) -> Result<Query, SoqlError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(SoqlError::malformed(
            1,
            "SOQL statements cannot be longer than 100,000 characters.",
        ));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        end_column: text.chars().count() + 1,
    };
    parser.query(schema)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |token| token.column)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Word(word), .. }) if word.eq_ignore_ascii_case(keyword))
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), SoqlError> {
        if self.at_keyword(keyword) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("expecting '{keyword}'")))
        }
    }

    fn unexpected(&self, expectation: &str) -> SoqlError {
        let found = match self.peek() {
            None => "end of query".to_string(),
            Some(token) => match &token.kind {
                TokenKind::Word(word) | TokenKind::Bare(word) | TokenKind::Operator(word) => {
                    format!("'{word}'")
                }
                TokenKind::Quoted(raw) => format!("'{raw}'"),
                TokenKind::Comma => "','".to_string(),
                TokenKind::Open => "'('".to_string(),
                TokenKind::Close => "')'".to_string(),
            },
        };
        SoqlError::malformed(
            self.column(),
            &format!("unexpected token: {found}, {expectation}"),
        )
    }

    fn word(&mut self) -> Result<(String, usize), SoqlError> {
        match self.next() {
            Some(Token {
                kind: TokenKind::Word(word),
                column,
            }) => Ok((word, column)),
            _ => {
                self.position -= 1;
                Err(self.unexpected("expecting a name"))
            }
        }
    }

    fn query(&mut self, schema: &Schema) -> Result<Query, SoqlError> {
        self.keyword("SELECT")?;
        let mut raw_fields = Vec::new();
        let mut count = false;
        if self.at_keyword("COUNT")
            && self
                .tokens
                .get(self.position + 1)
                .is_some_and(|t| t.kind == TokenKind::Open)
        {
            self.position += 2;
            if self.next().map(|t| t.kind) != Some(TokenKind::Close) {
                return Err(SoqlError::malformed(
                    self.column(),
                    "only COUNT() is supported",
                ));
            }
            count = true;
        } else {
            loop {
                raw_fields.push(self.word()?);
                if self.peek().map(|t| &t.kind) == Some(&TokenKind::Comma) {
                    self.position += 1;
                } else {
                    break;
                }
            }
        }
        self.keyword("FROM")?;
        let (object_name, object_column) = self.word()?;
        let object = schema.object(&object_name).cloned().ok_or_else(|| SoqlError {
            code: "INVALID_TYPE",
            column: object_column,
            message: format!("sObject type '{object_name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
        })?;
        let selection = if count {
            Selection::Count
        } else {
            let paths = raw_fields
                .iter()
                .map(|(name, column)| resolve(schema, &object, name, *column))
                .collect::<Result<_, _>>()?;
            Selection::Fields(paths)
        };
        let mut query = Query {
            selection,
            object,
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: 0,
        };
        if self.at_keyword("WHERE") {
            self.position += 1;
            query.filter = Some(self.or_condition(schema, &query.object)?);
        }
        if self.at_keyword("ORDER") {
            self.position += 1;
            self.keyword("BY")?;
            loop {
                let (name, column) = self.word()?;
                let path = resolve(schema, &query.object, &name, column)?;
                let descending = if self.at_keyword("DESC") {
                    self.position += 1;
                    true
                } else {
                    if self.at_keyword("ASC") {
                        self.position += 1;
                    }
                    false
                };
                query.order.push((path, descending));
                if self.peek().map(|t| &t.kind) == Some(&TokenKind::Comma) {
                    self.position += 1;
                } else {
                    break;
                }
            }
        }
        if self.at_keyword("LIMIT") {
            self.position += 1;
            query.limit = Some(self.count_literal()?);
        }
        if self.at_keyword("OFFSET") {
            self.position += 1;
            query.offset = self.count_literal()?;
        }
        if self.peek().is_some() {
            return Err(self.unexpected("expecting end of query"));
        }
        Ok(query)
    }

    fn count_literal(&mut self) -> Result<usize, SoqlError> {
        match self.next() {
            Some(Token {
                kind: TokenKind::Bare(number),
                column,
            }) => number
                .parse()
                .map_err(|_| SoqlError::malformed(column, "expecting a non-negative integer")),
            _ => {
                self.position -= 1;
                Err(self.unexpected("expecting a number"))
            }
        }
    }

    fn or_condition(
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

/// Resolves `Field` or `Relationship__r.Field` on `object`.
fn resolve(
    schema: &Schema,
    object: &ObjectDef,
    name: &str,
    column: usize,
) -> Result<FieldPath, SoqlError> {
    let no_such = |entity: &str, field: &str| {
        SoqlError {
        code: "INVALID_FIELD",
        column,
        message: format!("No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."),
    }
    };
    match name.split_once('.') {
        None => object
            .field(name)
            .cloned()
            .map(|field| FieldPath {
                parent: None,
                field,
            })
            .ok_or_else(|| no_such(&object.name, name)),
        Some((relationship, field_name)) => {
            let lookup = object.relationship(relationship).ok_or_else(|| SoqlError {
                code: "INVALID_FIELD",
                column,
                message: format!("Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
            })?;
            let parent = lookup
                .reference_to
                .as_deref()
                .and_then(|target| schema.object(target))
                .cloned()
                .ok_or_else(|| no_such(&object.name, name))?;
            let field = parent
                .field(field_name)
                .cloned()
                .ok_or_else(|| no_such(&parent.name, field_name))?;
            let relationship_name = lookup.relationship_name.clone().unwrap_or_default();
            Ok(FieldPath {
                parent: Some((lookup.name.clone(), relationship_name, parent)),
                field,
            })
        }
    }
}
