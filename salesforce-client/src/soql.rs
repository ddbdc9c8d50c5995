//! Safe SOQL string literals (docs/salesforce-api.md §6.2). Object and field names cannot be
//! bound; callers take them from configuration, never from event data.

/// Escapes `value` for use inside a single-quoted SOQL literal: backslash first, then
/// quotes and the control characters Salesforce accepts as escapes.
pub fn escape_literal(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\'' => escaped.push_str("\\'"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '\u{8}' => escaped.push_str("\\b"),
            '\u{c}' => escaped.push_str("\\f"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `'value'` with the content escaped.
pub fn quote(value: &str) -> String {
    format!("'{}'", escape_literal(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_attempts_stay_inside_the_literal() {
        assert_eq!(quote("O'Brien"), r"'O\'Brien'");
        assert_eq!(quote(r"a\' OR Name != '"), r"'a\\\' OR Name != \''");
        assert_eq!(quote("line\nbreak\t\"q\""), r#"'line\nbreak\t\"q\"'"#);
        assert_eq!(quote("cs_test_a1"), "'cs_test_a1'");
    }
}
