//! Formula text → tokens with their columns. Knows every operator of the formula language
//! (so the parser can name an unsupported one), text literals in double or single quotes
//! with backslash escapes, and `/* comments */`.

use super::FormulaError;

/// One token and the column (1-based, in characters) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    pub column: usize,
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    Number(f64),
    Text(String),
    /// A name: a field, a function, `TRUE`, or something dotted such as `Parent__r.Name`.
    Name(String),
    Open,
    Close,
    Comma,
    /// An operator, as written.
    Operator(&'static str),
    /// After the last token.
    End,
}

/// Longest first, so `<=` is not read as `<` `=`.
const OPERATORS: &[&str] = &[
    "==", "!=", "<>", "<=", ">=", "&&", "||", "=", "<", ">", "!", "+", "-", "*", "/", "^", "&",
];

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let column = index + 1;
        let rest: String = chars[index..chars.len().min(index + 2)].iter().collect();
        if c.is_whitespace() {
            index += 1;
        } else if rest == "/*" {
            let end = (index + 2..chars.len().saturating_sub(1))
                .find(|&at| chars[at] == '*' && chars[at + 1] == '/')
                .ok_or_else(|| FormulaError::at(column, "comment without */"))?;
            index = end + 2;
        } else if c == '"' || c == '\'' {
            let (value, next) = text_literal(&chars, index)?;
            tokens.push(Token {
                kind: TokenKind::Text(value),
                column,
            });
            index = next;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(index + 1).is_some_and(char::is_ascii_digit))
        {
            let start = index;
            while index < chars.len() && (chars[index].is_ascii_digit() || chars[index] == '.') {
                index += 1;
            }
            let written: String = chars[start..index].iter().collect();
            let number = written
                .parse()
                .map_err(|_| FormulaError::at(column, format!("{written} is not a number")))?;
            tokens.push(Token {
                kind: TokenKind::Number(number),
                column,
            });
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = index;
            while index < chars.len()
                && (chars[index].is_alphanumeric() || matches!(chars[index], '_' | '.' | '$'))
            {
                index += 1;
            }
            let name = chars[start..index].iter().collect();
            tokens.push(Token {
                kind: TokenKind::Name(name),
                column,
            });
        } else if let Some(kind) = match c {
            '(' => Some(TokenKind::Open),
            ')' => Some(TokenKind::Close),
            ',' => Some(TokenKind::Comma),
            _ => None,
        } {
            tokens.push(Token { kind, column });
            index += 1;
        } else if let Some(operator) = OPERATORS.iter().find(|op| rest.starts_with(**op)) {
            tokens.push(Token {
                kind: TokenKind::Operator(operator),
                column,
            });
            index += operator.chars().count();
        } else {
            return Err(FormulaError::at(
                column,
                format!("unexpected character {c:?}"),
            ));
        }
    }
    tokens.push(Token {
        kind: TokenKind::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// The text literal opening at `start`; returns it and the index after the closing quote.
fn text_literal(chars: &[char], start: usize) -> Result<(String, usize), FormulaError> {
    let quote = chars[start];
    let mut value = String::new();
    let mut index = start + 1;
    while index < chars.len() {
        match chars[index] {
            '\\' => {
                let escaped = chars
                    .get(index + 1)
                    .ok_or_else(|| FormulaError::at(index + 1, "text ends with a backslash"))?;
                value.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => *other,
                });
                index += 2;
            }
            c if c == quote => return Ok((value, index + 1)),
            c => {
                value.push(c);
                index += 1;
            }
        }
    }
    Err(FormulaError::at(
        start + 1,
        "text without its closing quote",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn operators_names_and_literals() {
        assert_eq!(
            kinds("A__c <= 1.5 && b <> 'x\\'y' /* note */ || NOT(c)"),
            vec![
                TokenKind::Name("A__c".into()),
                TokenKind::Operator("<="),
                TokenKind::Number(1.5),
                TokenKind::Operator("&&"),
                TokenKind::Name("b".into()),
                TokenKind::Operator("<>"),
                TokenKind::Text("x'y".into()),
                TokenKind::Operator("||"),
                TokenKind::Name("NOT".into()),
                TokenKind::Open,
                TokenKind::Name("c".into()),
                TokenKind::Close,
                TokenKind::End,
            ]
        );
    }

    #[test]
    fn columns_count_characters() {
        let tokens = tokenize("  x = \"é\"  ").unwrap();
        assert_eq!(
            tokens.iter().map(|t| t.column).collect::<Vec<_>>(),
            vec![3, 5, 7, 12]
        );
    }

    #[test]
    fn broken_text_is_refused_with_its_column() {
        assert_eq!(tokenize("a = \"open").unwrap_err().column, Some(5));
        assert!(tokenize("a /* open").unwrap_err().message.contains("*/"));
        assert!(tokenize("a # b").unwrap_err().message.contains("'#'"));
    }
}
