//! Result files of an ingest job as Bulk API 2.0 writes them (docs/salesforce-api.md §5.5),
//! written with the `csv` crate. Kept apart from reading uploads ([`super::csv`]) because the
//! rules differ: results quote every value, whatever it holds.

use std::io;

use csv::{QuoteStyle, Terminator, WriterBuilder};

use super::csv::delimiter_byte;

/// Writes a results file (§5.5) in the job's delimiter and line ending: the `leading` column
/// names (`sf__Id`, …) and every value double-quoted, the uploaded column names in `header`
/// echoed unquoted unless they need quotes. Each row is the leading values then the cells.
pub fn write_results<'a, R>(
    leading: &[&str],
    header: &[String],
    rows: impl IntoIterator<Item = R>,
    delimiter: char,
    crlf: bool,
) -> Result<String, csv::Error>
where
    R: IntoIterator<Item = &'a str>,
{
    let byte = delimiter_byte(delimiter).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unsupported delimiter {delimiter:?}"),
        )
    })?;
    let writer = |style: QuoteStyle, out: Vec<u8>| {
        WriterBuilder::new()
            .delimiter(byte)
            .terminator(if crlf {
                Terminator::CRLF
            } else {
                Terminator::Any(b'\n')
            })
            .quote_style(style)
            .flexible(true)
            .from_writer(out)
    };
    let into_inner = |writer: csv::Writer<Vec<u8>>| {
        writer
            .into_inner()
            .map_err(|error| csv::Error::from(error.into_error()))
    };
    // The header row mixes two quoting styles, which one writer cannot: the `sf__` names are
    // written as a record of their own and continued on the same line.
    let ending: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    if !leading.is_empty() {
        let mut names = writer(QuoteStyle::Always, out);
        names.write_record(leading)?;
        out = into_inner(names)?;
        out.truncate(out.len().saturating_sub(ending.len()));
        if !header.is_empty() {
            out.push(byte);
        }
    }
    if header.is_empty() {
        out.extend_from_slice(ending);
    } else {
        let mut names = writer(QuoteStyle::Necessary, out);
        names.write_record(header)?;
        out = into_inner(names)?;
    }
    let mut values = writer(QuoteStyle::Always, out);
    for row in rows {
        values.write_record(row)?;
    }
    let out = into_inner(values)?;
    String::from_utf8(out).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::csv::parse;

    #[test]
    fn results_quote_every_value_and_only_awkward_names() {
        let header = vec!["Name".to_string(), "Odd,\"Name\"".to_string()];
        let rows = vec![vec!["001", "true", "Rosén, \"J\"", "line\nbreak"]];
        assert_eq!(
            write_results(&["sf__Id", "sf__Created"], &header, rows, ',', false).unwrap(),
            "\"sf__Id\",\"sf__Created\",Name,\"Odd,\"\"Name\"\"\"\n\
             \"001\",\"true\",\"Rosén, \"\"J\"\"\",\"line\nbreak\"\n"
        );
        let header = vec!["Id".to_string()];
        assert_eq!(
            write_results(&[], &header, [vec![""]], '|', true).unwrap(),
            "Id\r\n\"\"\r\n"
        );
        assert_eq!(
            write_results(&["sf__Id"], &[], Vec::<Vec<&str>>::new(), ',', false).unwrap(),
            "\"sf__Id\"\n"
        );
        assert_eq!(
            write_results(&[], &[], Vec::<Vec<&str>>::new(), ',', false).unwrap(),
            "\n",
            "no upload yet: an empty header line"
        );
    }

    #[test]
    fn results_read_back_with_the_same_values() {
        let values = ["a", "", "\"", "x\r\ny", " padded "];
        let header: Vec<String> = (0..values.len()).map(|n| format!("C{n}")).collect();
        let text = write_results(&[], &header, [values], ';', true).unwrap();
        let rows = parse(&text, ';', true).unwrap();
        assert_eq!(rows[1].cells, values);
        assert!(rows[1].error.is_none());
    }
}
