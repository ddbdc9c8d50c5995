//! Recursive-descent parser of the SOQL subset into a checked [`Query`]: the statement's
//! clauses here, the `WHERE` clause in `filter`, field names in `path`.

mod filter;
mod path;

use super::lexer::{tokenize, Token, TokenKind};
use super::{Query, Selection, SoqlError, MAX_QUERY_CHARS};
use crate::schema::Schema;
use path::resolve;

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
}
