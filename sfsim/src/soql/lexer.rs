//! Tokens of the SOQL subset. String literals keep their raw text; the parser decodes the
//! escapes, because which escapes are legal depends on context (`\%` and `\_` only in
//! LIKE patterns; docs/salesforce-api.md §6.2).

use super::SoqlError;

/// One token and the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// 1-based column, for `ERROR at Row:1:Column:N`.
    pub column: usize,
}

/// What a SOQL token is; the parser decides what words mean from where they appear.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A name or keyword (may contain dots: `Parent__r.Field__c`).
    Word(String),
    /// `'...'` with escapes still in place.
    Quoted(String),
    /// An unquoted number, date or datetime literal.
    Bare(String),
    /// `,`
    Comma,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`
    Operator(String),
}

/// Splits SOQL text into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Token>, SoqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let column = index + 1;
        let push = |tokens: &mut Vec<Token>, kind| tokens.push(Token { kind, column });
        if c.is_whitespace() {
            index += 1;
        } else if c == ',' {
            push(&mut tokens, TokenKind::Comma);
            index += 1;
        } else if c == '(' {
            push(&mut tokens, TokenKind::Open);
            index += 1;
        } else if c == ')' {
            push(&mut tokens, TokenKind::Close);
            index += 1;
        } else if c == '\'' {
            let mut raw = String::new();
            index += 1;
            loop {
                match chars.get(index) {
                    None => {
                        return Err(SoqlError::malformed(
                            column,
                            "unexpected end of query: unterminated string literal",
                        ))
                    }
                    Some('\\') => {
                        raw.push('\\');
                        if let Some(next) = chars.get(index + 1) {
                            raw.push(*next);
                        }
                        index += 2;
                    }
                    Some('\'') => {
                        index += 1;
                        break;
                    }
                    Some(other) => {
                        raw.push(*other);
                        index += 1;
                    }
                }
            }
            push(&mut tokens, TokenKind::Quoted(raw));
        } else if "=!<>".contains(c) {
            let two: String = chars[index..(index + 2).min(chars.len())].iter().collect();
            let operator = if ["!=", "<>", "<=", ">="].contains(&two.as_str()) {
                two
            } else {
                c.to_string()
            };
            if operator == "!" {
                return Err(SoqlError::malformed(column, "unexpected token: '!'"));
            }
            index += operator.len();
            push(&mut tokens, TokenKind::Operator(operator));
        } else if c.is_ascii_digit()
            || ((c == '-' || c == '+') && chars.get(index + 1).is_some_and(char::is_ascii_digit))
        {
            let start = index;
            index += 1;
            while index < chars.len()
                && (chars[index].is_ascii_alphanumeric() || ":.+-".contains(chars[index]))
            {
                index += 1;
            }
            push(
                &mut tokens,
                TokenKind::Bare(chars[start..index].iter().collect()),
            );
        } else if c.is_alphabetic() || c == '_' {
            let start = index;
            while index < chars.len()
                && (chars[index].is_alphanumeric() || chars[index] == '_' || chars[index] == '.')
            {
                index += 1;
            }
            push(
                &mut tokens,
                TokenKind::Word(chars[start..index].iter().collect()),
            );
        } else {
            return Err(SoqlError::malformed(
                column,
                &format!("unexpected token: '{c}'"),
            ));
        }
    }
    Ok(tokens)
}

/// Decodes a quoted literal's escapes (§6.2). In LIKE patterns `\%` and `\_` stay escaped
/// (returned as `\%`, `\_`) so the matcher can tell them from wildcards.
pub fn unescape(raw: &str, like: bool, column: usize) -> Result<String, SoqlError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = chars.next().unwrap_or('\\');
        match escaped {
            'n' | 'N' => out.push('\n'),
            'r' | 'R' => out.push('\r'),
            't' | 'T' => out.push('\t'),
            'b' | 'B' => out.push('\u{8}'),
            'f' | 'F' => out.push('\u{c}'),
            '"' | '\'' => out.push(escaped),
            '\\' if like => out.push_str("\\\\"),
            '\\' => out.push('\\'),
            '%' | '_' if like => {
                out.push('\\');
                out.push(escaped);
            }
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                match decoded {
                    Some(decoded) if hex.len() == 4 => out.push(decoded),
                    _ => return Err(SoqlError::malformed(column, "Invalid string literal: illegal unicode escape")),
                }
            }
            other => {
                return Err(SoqlError::malformed(
                    column,
                    &format!("Invalid string literal '{raw}'. Illegal character sequence '\\{other}' in string literal."),
                ))
            }
        }
    }
    Ok(out)
}
