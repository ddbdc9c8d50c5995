//! Tokens → [`Expr`], by recursive descent with Salesforce's precedence (`||` below `&&`
//! below comparisons below `!`). Refuses what the subset leaves out with the reason and
//! the column: other functions, arithmetic and `&`, cross-object and `$` references.

use super::lexer::{Token, TokenKind};
use super::{CompareOp, Expr, FormulaError, Literal};

/// The functions of the subset, for messages.
const FUNCTIONS: &str = "AND, OR, NOT, ISNEW, ISCHANGED, PRIORVALUE, ISBLANK, ISPICKVAL";

pub(super) fn parse(tokens: &[Token]) -> Result<Expr, FormulaError> {
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    let next = parser.peek();
    match &next.kind {
        TokenKind::End => Ok(expr),
        other => Err(FormulaError::at(
            next.column,
            format!("expected the end of the formula, found {}", describe(other)),
        )),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End`, and `next` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.at += 1;
        }
        token
    }

    fn eat_operator(&mut self, operator: &'static str) -> bool {
        if self.peek().kind == TokenKind::Operator(operator) {
            self.at += 1;
            return true;
        }
        false
    }

    fn or(&mut self) -> Result<Expr, FormulaError> {
        let mut items = vec![self.and()?];
        while self.eat_operator("||") {
            items.push(self.and()?);
        }
        Ok(single_or(items, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, FormulaError> {
        let mut items = vec![self.comparison()?];
        while self.eat_operator("&&") {
            items.push(self.comparison()?);
        }
        Ok(single_or(items, Expr::And))
    }

    fn comparison(&mut self) -> Result<Expr, FormulaError> {
        let left = self.unary()?;
        let Some(op) = self.compare_op()? else {
            return Ok(left);
        };
        let right = self.unary()?;
        if self.compare_op()?.is_some() {
            let column = self.tokens[self.at - 1].column;
            return Err(FormulaError::at(
                column,
                "comparisons cannot be chained: join them with && or AND()",
            ));
        }
        Ok(Expr::Compare {
            op,
            left: Box::new(left),
            right: Box::new(right),
        })
    }

    /// Takes a comparison operator if one is next; refuses arithmetic and `&`.
    fn compare_op(&mut self) -> Result<Option<CompareOp>, FormulaError> {
        let token = self.peek().clone();
        let TokenKind::Operator(operator) = token.kind else {
            return Ok(None);
        };
        let op = match operator {
            "=" | "==" => CompareOp::Eq,
            "!=" | "<>" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            "&&" | "||" => return Ok(None),
            other => return Err(unsupported_operator(token.column, other)),
        };
        self.at += 1;
        Ok(Some(op))
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.peek().clone();
        match token.kind {
            TokenKind::Operator("!") => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            TokenKind::Operator("-") => {
                self.at += 1;
                match self.next().kind {
                    TokenKind::Number(number) => Ok(Expr::Literal(Literal::Number(-number))),
                    _ => Err(unsupported_operator(token.column, "-")),
                }
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.next();
        match token.kind {
            TokenKind::Number(number) => Ok(Expr::Literal(Literal::Number(number))),
            TokenKind::Text(text) => Ok(Expr::Literal(Literal::Text(text))),
            TokenKind::Open => {
                let inner = self.or()?;
                self.expect_close()?;
                Ok(inner)
            }
            TokenKind::Name(name) if self.peek().kind == TokenKind::Open => {
                self.at += 1;
                self.call(&name, token.column)
            }
            TokenKind::Name(name) => name_reference(name, token.column),
            TokenKind::Operator(operator) => Err(unsupported_operator(token.column, operator)),
            other => Err(FormulaError::at(
                token.column,
                format!("expected a value, found {}", describe(&other)),
            )),
        }
    }

    fn expect_close(&mut self) -> Result<(), FormulaError> {
        let token = self.next();
        match token.kind {
            TokenKind::Close => Ok(()),
            other => Err(FormulaError::at(
                token.column,
                format!("expected ), found {}", describe(&other)),
            )),
        }
    }

    /// A function call; the opening parenthesis is taken.
    fn call(&mut self, name: &str, column: usize) -> Result<Expr, FormulaError> {
        let mut args = Vec::new();
        if self.peek().kind == TokenKind::Close {
            self.at += 1;
        } else {
            loop {
                args.push(self.or()?);
                match self.next().kind {
                    TokenKind::Comma => continue,
                    TokenKind::Close => break,
                    other => {
                        return Err(FormulaError::at(
                            self.tokens[self.at - 1].column,
                            format!("expected , or ) in {name}(), found {}", describe(&other)),
                        ))
                    }
                }
            }
        }
        let function = name.to_ascii_uppercase();
        let arity = |wanted: usize| {
            if args.len() == wanted {
                Ok(())
            } else {
                Err(FormulaError::at(
                    column,
                    format!(
                        "{function}() takes {wanted} argument(s), not {}",
                        args.len()
                    ),
                ))
            }
        };
        let field_argument = |arg: &Expr| match arg {
            Expr::Field(field) => Ok(field.clone()),
            _ => Err(FormulaError::at(
                column,
                format!("{function}() takes a field"),
            )),
        };
        match function.as_str() {
            "AND" | "OR" if args.is_empty() => Err(FormulaError::at(
                column,
                format!("{function}() needs at least one argument"),
            )),
            "AND" => Ok(Expr::And(args)),
            "OR" => Ok(Expr::Or(args)),
            "NOT" => arity(1).map(|()| Expr::Not(Box::new(args.remove(0)))),
            "ISNEW" => arity(0).map(|()| Expr::IsNew),
            "ISBLANK" => arity(1).map(|()| Expr::IsBlank(Box::new(args.remove(0)))),
            "ISCHANGED" => {
                arity(1)?;
                field_argument(&args[0]).map(Expr::IsChanged)
            }
            "PRIORVALUE" => {
                arity(1)?;
                field_argument(&args[0]).map(Expr::PriorValue)
            }
            "ISPICKVAL" => {
                arity(2)?;
                let Expr::Literal(Literal::Text(value)) = args.remove(1) else {
                    return Err(FormulaError::at(
                        column,
                        "ISPICKVAL() takes a text literal as its second argument",
                    ));
                };
                let picklist = args.remove(0);
                if !matches!(picklist, Expr::Field(_) | Expr::PriorValue(_)) {
                    return Err(FormulaError::at(
                        column,
                        "ISPICKVAL() takes a picklist field or PRIORVALUE(field) first",
                    ));
                }
                Ok(Expr::IsPickVal {
                    picklist: Box::new(picklist),
                    value,
                })
            }
            _ => Err(FormulaError::at(
                column,
                format!("function {name} is not supported (supported: {FUNCTIONS})"),
            )),
        }
    }
}

/// `TRUE`, `FALSE`, `NULL` or a field of the record itself.
fn name_reference(name: String, column: usize) -> Result<Expr, FormulaError> {
    match name.to_ascii_uppercase().as_str() {
        "TRUE" => return Ok(Expr::Literal(Literal::Boolean(true))),
        "FALSE" => return Ok(Expr::Literal(Literal::Boolean(false))),
        "NULL" => return Ok(Expr::Literal(Literal::Null)),
        _ => {}
    }
    if name.starts_with('$') {
        return Err(FormulaError::at(
            column,
            format!("{name}: global variables are not supported"),
        ));
    }
    if name.contains('.') {
        return Err(FormulaError::at(
            column,
            format!("{name}: cross-object references are not supported, only fields of the record"),
        ));
    }
    Ok(Expr::Field(name))
}

fn unsupported_operator(column: usize, operator: &str) -> FormulaError {
    FormulaError::at(
        column,
        format!("operator {operator} is not supported (supported: = == != <> < <= > >= && || !)"),
    )
}

/// `items` joined by `join`, or the only item itself.
fn single_or(mut items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        join(items)
    }
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Number(number) => format!("the number {number}"),
        TokenKind::Text(text) => format!("the text {text:?}"),
        TokenKind::Name(name) => name.clone(),
        TokenKind::Open => "(".into(),
        TokenKind::Close => ")".into(),
        TokenKind::Comma => ",".into(),
        TokenKind::Operator(operator) => (*operator).into(),
        TokenKind::End => "the end of the formula".into(),
    }
}
