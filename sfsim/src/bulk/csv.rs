//! CSV as Bulk API 2.0 reads it (docs/salesforce-api.md §5.6). The `csv` crate splits uploads
//! into records; this module adds the checks Salesforce makes and the crate does not (the
//! crate accepts any input):
//!
//! * the data's line ending must be the job's `lineEnding`, or the whole job fails;
//! * quoting must be well formed: text after a closing quote (`"John", "Smith"`), a quote
//!   inside an unquoted value or a quote never closed fails that row alone.
//!
//! Values are not trimmed, `""` is an escaped quote, and line breaks may appear inside quotes.

use std::borrow::Cow;

use csv::{ReaderBuilder, StringRecord, Terminator};

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

/// A UTF-8 byte order mark.
const BOM: char = '\u{feff}';

/// The byte the `csv` crate needs for a delimiter; every §5.1 delimiter is ASCII.
pub(super) fn delimiter_byte(delimiter: char) -> Option<u8> {
    u8::try_from(delimiter).ok().filter(u8::is_ascii)
}

/// Splits CSV text into rows (header first). Blank lines are skipped.
///
/// Records end at `\n`; a `\r` just before it makes the ending CRLF, a `\r` anywhere else
/// outside quotes is data.
pub fn parse(text: &str, delimiter: char, crlf: bool) -> Result<Vec<CsvRow>, CsvJobError> {
    let line_ending_error = || {
        CsvJobError(format!(
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {}",
            if crlf { "CRLF" } else { "LF" }
        ))
    };
    let byte = delimiter_byte(delimiter)
        .ok_or_else(|| CsvJobError(format!("InvalidJob : unsupported delimiter {delimiter:?}")))?;
    // The crate drops a byte order mark at the start of its input. Salesforce is not
    // documented to, so a mark in the data stays data (part of the first column name, on
    // which the job then fails): the crate is handed a second mark to drop.
    let (input, mark) = if text.starts_with(BOM) {
        (Cow::Owned(format!("{BOM}{text}")), BOM.len_utf8())
    } else {
        (Cow::Borrowed(text), 0)
    };
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(byte)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(input.as_bytes());
    let mut record = StringRecord::new();
    let mut rows = Vec::new();
    let mut start = 0;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|error| CsvJobError(format!("InvalidBatch : unreadable CSV: {error}")))?;
        let end = if more {
            usize::try_from(reader.position().byte())
                .map_or(text.len(), |end| end.saturating_sub(mark).min(text.len()))
        } else {
            text.len()
        };
        let raw = text.get(start..end).unwrap_or_default();
        start = end;
        // The crate skips blank lines before a record (and at the end); in a CRLF job a bare
        // `\n` is the wrong line ending.
        let body = raw.trim_start_matches('\n');
        if crlf && body.len() != raw.len() {
            return Err(line_ending_error());
        }
        if !more {
            break;
        }
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        let (ending, error) = inspect(body, &mut cells, delimiter);
        match ending {
            Ending::Crlf if !crlf => return Err(line_ending_error()),
            Ending::Lf if crlf => return Err(line_ending_error()),
            _ => {}
        }
        // A line holding only `""` reads as blank too.
        let blank = cells.len() == 1 && cells[0].is_empty() && error.is_none();
        if !blank {
            rows.push(CsvRow { cells, error });
        }
    }
    Ok(rows)
}

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// At the end of the data (no line ending, or inside a quote never closed).
    Eof,
    /// `\n`.
    Lf,
    /// `\r\n`.
    Crlf,
}

/// Walks one record's raw text field by field, using the values the crate read to find where
/// each field ends, and returns how the record ended and its first quoting error. The crate
/// leaves the `\r` of a CRLF ending on the last value; this removes it.
///
/// The crate reads a quoted field as the unescaped text between the quotes followed by
/// anything up to the next delimiter, and an unquoted field verbatim, quotes included.
fn inspect(body: &str, cells: &mut [String], delimiter: char) -> (Ending, Option<String>) {
    let mut error: Option<String> = None;
    let mut pos = 0;
    let last = cells.len().saturating_sub(1);
    let mut ending = Ending::Eof;
    for (index, cell) in cells.iter_mut().enumerate() {
        let rest = body.get(pos..).unwrap_or_default();
        // Where in `cell` the text outside quotes starts, if the field was quoted.
        let mut after_quote = None;
        if let Some(inner) = rest.strip_prefix('"') {
            let Some(close) = closing_quote(inner) else {
                // The crate read to the end of the data: line breaks inside were data.
                error.get_or_insert_with(|| "unterminated quoted field".to_string());
                return (Ending::Eof, error);
            };
            let quoted = &inner[..close];
            let unescaped = quoted.len() - quoted.matches("\"\"").count();
            let outside = cell.len().saturating_sub(unescaped);
            pos += 1 + close + 1 + outside;
            after_quote = Some(unescaped);
        } else {
            if cell.contains('"') {
                // e.g. `"John", "Smith"`: the space makes the second cell unquoted (§5.6).
                error.get_or_insert_with(|| "a quote inside an unquoted field".to_string());
            }
            pos += cell.len();
        }
        if index == last {
            let outside_quotes = cell.get(after_quote.unwrap_or(0)..).unwrap_or_default();
            ending = match body.get(pos..) {
                Some("\n") if outside_quotes.ends_with('\r') => {
                    cell.pop();
                    Ending::Crlf
                }
                Some("\n") => Ending::Lf,
                _ => Ending::Eof,
            };
        }
        if let Some(at) = after_quote {
            if let Some(c) = cell.get(at..).and_then(|after| after.chars().next()) {
                error.get_or_insert_with(|| {
                    format!("unexpected character '{c}' after a closing quote")
                });
                // The row fails; its cells are echoed in the results without that text.
                cell.truncate(at);
            }
        }
        pos += delimiter.len_utf8();
    }
    (ending, error)
}

/// The offset in `inner` (the text after an opening quote) of the closing quote: the first
/// `"` that is not half of a doubled `""`.
fn closing_quote(inner: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = inner.get(from..)?.find('"') {
        let quote = from + offset;
        if inner.as_bytes().get(quote + 1) == Some(&b'"') {
            from = quote + 2;
        } else {
            return Some(quote);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str, crlf: bool) -> Vec<Vec<String>> {
        parse(text, ',', crlf)
            .unwrap()
            .into_iter()
            .map(|row| row.cells)
            .collect()
    }

    fn error(line: &str) -> Option<String> {
        parse(&format!("A,B\n{line}\n"), ',', false).unwrap()[1]
            .error
            .clone()
    }

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

    #[test]
    fn line_breaks_inside_quotes_are_data_in_either_job() {
        assert_eq!(
            cells("A,B\r\n\"x\r\ny\",\"z\n\"\r\n", true)[1],
            vec!["x\r\ny", "z\n"]
        );
        assert_eq!(cells("A,B\n\"x\r\ny\",z\n", false)[1], vec!["x\r\ny", "z"]);
        assert_eq!(
            cells("A,B\n\"last\r\"\n", false)[1],
            vec!["last\r"],
            "a quoted CR before the LF is data"
        );
    }

    #[test]
    fn a_lone_cr_is_data() {
        assert_eq!(cells("A,B\na\rb,c\r", false)[1], vec!["a\rb", "c\r"]);
        assert_eq!(cells("A,B\r\na\rb,c\r\r\n", true)[1], vec!["a\rb", "c\r"]);
    }

    #[test]
    fn empty_and_quote_only_values() {
        assert_eq!(cells("A,B,C\n1,,\n", false)[1], vec!["1", "", ""]);
        assert_eq!(cells("A,B\r\n1,\r\n", true)[1], vec!["1", ""]);
        assert_eq!(cells("A,B\n\"\",\"\"\"\"\n", false)[1], vec!["", "\""]);
        assert_eq!(cells("A,B\n\"\"\"\",x\n", false)[1], vec!["\"", "x"]);
    }

    #[test]
    fn blank_lines_are_skipped_but_must_use_the_jobs_ending() {
        assert_eq!(
            cells("\nA\n\n1\n\"\"\n\n", false),
            vec![vec!["A"], vec!["1"]]
        );
        assert_eq!(
            cells("A\r\n\r\n1\r\n\r\n", true),
            vec![vec!["A"], vec!["1"]]
        );
        assert!(parse("A\r\n\n1\r\n", ',', true).is_err());
        assert!(parse("A\r\n1\r\n\n", ',', true).is_err());
        assert!(parse("A\n\r\n1\n", ',', false).is_err());
        assert!(parse("", ',', false).unwrap().is_empty());
    }

    #[test]
    fn each_quoting_error_fails_its_row_with_the_first_problem() {
        assert_eq!(error("\"x\",\"y\""), None);
        assert_eq!(
            error("\"x\"y,z").as_deref(),
            Some("unexpected character 'y' after a closing quote")
        );
        assert_eq!(
            error("\"x\", \"y\"").as_deref(),
            Some("a quote inside an unquoted field")
        );
        assert_eq!(
            error("a\"b,\"c\"d").as_deref(),
            Some("a quote inside an unquoted field")
        );
        let rows = parse("A,B\n1,2\n\"open,3\n4,5\n", ',', false).unwrap();
        assert_eq!(rows.len(), 3, "an open quote runs to the end of the data");
        assert_eq!(rows[2].cells, vec!["open,3\n4,5\n"]);
        assert_eq!(rows[2].error.as_deref(), Some("unterminated quoted field"));
        assert!(
            parse("A\n\"open\r\n", ',', false).is_ok(),
            "line breaks inside an open quote are not line endings"
        );
    }

    #[test]
    fn text_after_a_closing_quote_before_crlf_still_fails_the_row() {
        let rows = parse("A\r\n\"x\" \r\n\"y\"\r\n", ',', true).unwrap();
        assert_eq!(
            rows[1].error.as_deref(),
            Some("unexpected character ' ' after a closing quote")
        );
        assert_eq!(rows[2].cells, vec!["y"]);
        assert!(rows[2].error.is_none());
        assert!(parse("A\n\"x\" \r\n", ',', false).is_err());
    }

    #[test]
    fn rows_keep_their_own_length() {
        // The processor fails these rows alone ("The row has 1 values but the header has 2
        // columns"); the parser only reports what it read.
        let rows = parse("A,B\n1\n1,2,3\n", ',', false).unwrap();
        assert_eq!(rows[1].cells, vec!["1"]);
        assert_eq!(rows[2].cells, vec!["1", "2", "3"]);
        assert!(rows.iter().all(|row| row.error.is_none()));
    }

    #[test]
    fn other_delimiters() {
        assert_eq!(
            parse("A\tB\n\"x\ty\"\t,\n", '\t', false).unwrap()[1].cells,
            vec!["x\ty", ","]
        );
        assert_eq!(
            parse("A`B\n\"`\"`b\n", '`', false).unwrap()[1].cells,
            vec!["`", "b"]
        );
    }

    #[test]
    fn a_byte_order_mark_stays_part_of_the_first_name() {
        // Not stripped, as before the csv crate: the job then fails on an unknown field.
        assert_eq!(cells("\u{feff}Name\nx\n", false)[0], vec!["\u{feff}Name"]);
    }
}
