//! CSV as Bulk API 2.0 reads and writes it (docs/salesforce-api.md §5.5, §5.6): the job's delimiter
//! and line ending (which must match the data), `"` quoting with doubled quotes, newlines
//! inside quotes, no trimming, and text after a closing quote failing only its row.

/// One parsed data row: its cells, or why the row is unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// The cells as read (quotes removed).
    pub cells: Vec<String>,
    /// Set when the row breaks the CSV rules; the row then fails on its own.
    pub error: Option<String>,
}

/// A job-level CSV problem: the whole job fails with this `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CsvJobError(pub String);

/// The `columnDelimiter` names of §5.1 and their characters.
pub fn delimiter_char(name: &str) -> Option<char> {
    Some(match name {
        "COMMA" => ',',
        "BACKQUOTE" => '`',
        "CARET" => '^',
        "PIPE" => '|',
        "SEMICOLON" => ';',
        "TAB" => '\t',
        _ => return None,
    })
}

/// Splits CSV text into rows (header first).
pub fn parse(text: &str, delimiter: char, crlf: bool) -> Result<Vec<CsvRow>, CsvJobError> {
    let line_ending_error = || {
        CsvJobError(format!(
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {}",
            if crlf { "CRLF" } else { "LF" }
        ))
    };
    let chars: Vec<char> = text.chars().collect();
    let mut rows = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let mut cells = Vec::new();
        let mut error = None;
        let mut cell = String::new();
        let mut at_cell_start = true;
        let mut in_quotes = false;
        let mut after_quote = false;
        loop {
            let Some(&c) = chars.get(index) else {
                if in_quotes {
                    error.get_or_insert_with(|| "unterminated quoted field".to_string());
                }
                cells.push(std::mem::take(&mut cell));
                break;
            };
            if in_quotes {
                index += 1;
                if c == '"' {
                    if chars.get(index) == Some(&'"') {
                        cell.push('"');
                        index += 1;
                    } else {
                        in_quotes = false;
                        after_quote = true;
                    }
                } else {
                    cell.push(c);
                }
                continue;
            }
            let line_end = match (c, chars.get(index + 1)) {
                ('\r', Some('\n')) if crlf => Some(2),
                ('\r', Some('\n')) => return Err(line_ending_error()),
                ('\n', _) if crlf => return Err(line_ending_error()),
                ('\n', _) => Some(1),
                _ => None,
            };
            if let Some(width) = line_end {
                index += width;
                cells.push(std::mem::take(&mut cell));
                break;
            }
            index += 1;
            if c == delimiter {
                cells.push(std::mem::take(&mut cell));
                at_cell_start = true;
                after_quote = false;
                continue;
            }
            if after_quote {
                error.get_or_insert_with(|| {
                    format!("unexpected character '{c}' after a closing quote")
                });
                continue;
            }
            if c == '"' && at_cell_start {
                in_quotes = true;
                at_cell_start = false;
                continue;
            }
            if c == '"' {
                // e.g. `"John", "Smith"`: the space makes the second cell unquoted (§5.6).
                error.get_or_insert_with(|| "a quote inside an unquoted field".to_string());
            }
            at_cell_start = false;
            cell.push(c);
        }
        let blank = cells.len() == 1 && cells[0].is_empty() && error.is_none();
        if !blank {
            rows.push(CsvRow { cells, error });
        }
    }
    Ok(rows)
}

/// A cell of a results file: always double-quoted (§5.5).
pub fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// A header name as echoed in results: unquoted unless it needs quoting.
pub fn header_cell(name: &str, delimiter: char) -> String {
    if name.contains(delimiter) || name.contains('"') || name.contains('\n') || name.contains('\r')
    {
        quoted(name)
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_newlines_and_row_errors() {
        let text = "Name,Note\n\"Smith, John\",\"say \"\"hi\"\"\nbye\"\n\"A\", \"B\"\n";
        let rows = parse(text, ',', false).unwrap();
        assert_eq!(rows[0].cells, vec!["Name", "Note"]);
        assert_eq!(rows[1].cells, vec!["Smith, John", "say \"hi\"\nbye"]);
        assert!(rows[1].error.is_none());
        assert!(
            rows[2].error.is_some(),
            "whitespace after a closing quote fails the row"
        );
    }

    #[test]
    fn line_ending_must_match_the_job() {
        assert!(parse("A,B\r\n1,2\r\n", ',', false).is_err());
        assert!(parse("A,B\n1,2\n", ',', true).is_err());
        assert_eq!(
            parse("A|B\r\n1|2", '|', true).unwrap()[1].cells,
            vec!["1", "2"]
        );
    }
}
