//! Taking record values out of Salesforce's error messages.
//!
//! Salesforce's messages quote the value they refused: `Customer Email: data value too large:
//! jane@example.com (max length=80)`, `Email: invalid email address: jane@example`,
//! `Status: bad value for restricted picklist field: hibernating`. They follow one shape,
//! `<field label>: <what is wrong>: <value>[ (<limit>)]`, so the text after the last `": "`
//! (up to a trailing parenthesis) is the value. [`redact_values`] replaces it, and, as a second
//! net for messages of other shapes, every word that looks like an e-mail address or a phone
//! number. What is left (code, field label, what is wrong) is what an operator needs to act.

/// What a removed value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// `message` without the record values it quotes (see the module docs).
pub fn redact_values(message: &str) -> String {
    let shaped = match message.rmatch_indices(": ").nth(1).map(|_| ()) {
        // Two or more separators: the text after the last one is the value.
        Some(()) => {
            let (head, tail) = message.rsplit_once(": ").unwrap_or((message, ""));
            let limit = tail
                .rfind(" (")
                .filter(|_| tail.ends_with(')'))
                .map_or("", |at| &tail[at..]);
            format!("{head}: {REDACTED}{limit}")
        }
        None => message.to_owned(),
    };
    shaped
        .split(' ')
        .map(|word| if looks_personal(word) { REDACTED } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An e-mail address (`x@y`), or a phone number (seven or more digits, with `+ - ( ) .`).
fn looks_personal(word: &str) -> bool {
    if word.contains('@') {
        return true;
    }
    let digits = word.chars().filter(char::is_ascii_digit).count();
    digits >= 7
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quoted_value_goes_and_the_field_and_problem_stay() {
        let cases = [
            (
                "Customer Email: data value too large: jane.doe@example.com (max length=80)",
                "Customer Email: data value too large: [redacted] (max length=80)",
            ),
            (
                "Email: invalid email address: jane@example",
                "Email: invalid email address: [redacted]",
            ),
            (
                "Customer Name: data value too large: Jane Rosén: the second (max length=5)",
                "Customer Name: data value too large: Jane Rosén: [redacted] (max length=5)",
            ),
            (
                "Status: bad value for restricted picklist field: hibernating",
                "Status: bad value for restricted picklist field: [redacted]",
            ),
        ];
        for (message, redacted) in cases {
            assert_eq!(redact_values(message), redacted);
        }
    }

    #[test]
    fn emails_and_phone_numbers_go_whatever_the_shape() {
        assert_eq!(
            redact_values("Call +41-44-668-18-00 or mail ann@example.com now"),
            "Call [redacted] or mail [redacted] now"
        );
        assert_eq!(
            redact_values("Required fields are missing: [Name]"),
            "Required fields are missing: [Name]"
        );
        assert_eq!(redact_values("Order 2026 of 12"), "Order 2026 of 12");
    }
}
