//! The CSV dialect of Bulk API 2.0 (docs/salesforce-api.md §5.6): a header row of field API
//! names, relationship columns as `Relationship__r.External_Id__c`, `#N/A` for null, an
//! empty value for "leave unchanged", values quoted when they contain a comma, a quote or a
//! line break (quotes doubled), LF line endings, UTF-8.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The value Bulk API reads as "set this field to null".
pub const NULL: &str = "#N/A";

/// A CSV file Salesforce sent back that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable CSV: {0}")]
pub struct CsvError(String);

/// Turns REST-style records (lookups as nested `{"Rel__r": {"Ext__c": "v"}}`) into Bulk CSV.
/// Columns are the union of all records' fields in first-seen order; a record without a
/// column gets an empty value, which Bulk API treats as "leave unchanged".
pub fn write_records(records: &[Map<String, Value>]) -> Result<String, CsvError> {
    let flat: Vec<Vec<(String, String)>> = records.iter().map(flatten).collect();
    let mut columns: Vec<&str> = Vec::new();
    for (column, _) in flat.iter().flatten() {
        if !columns.contains(&column.as_str()) {
            columns.push(column);
        }
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(&columns).map_err(CsvError::from)?;
    for record in &flat {
        let values: HashMap<&str, &str> = record
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let row = columns.iter().map(|c| values.get(c).copied().unwrap_or(""));
        writer.write_record(row).map_err(CsvError::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| CsvError(e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| CsvError(e.to_string()))
}

fn flatten(record: &Map<String, Value>) -> Vec<(String, String)> {
    let mut columns = Vec::with_capacity(record.len());
    for (field, value) in record {
        match value {
            Value::Object(nested) => {
                for (inner, inner_value) in nested {
                    columns.push((format!("{field}.{inner}"), cell(inner_value)));
                }
            }
            other => columns.push((field.clone(), cell(other))),
        }
    }
    columns
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => NULL.to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Reads a CSV file with a header row into one map per row (column name → value). Rows must
/// have as many values as the header; a file cut inside a quoted value is refused (a
/// well-formed file has an even number of `"`, since quotes inside values are doubled).
pub fn read_rows(text: &str) -> Result<Vec<HashMap<String, String>>, CsvError> {
    if text.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
        return Err(CsvError("a quoted value is not closed".into()));
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(CsvError::from)?
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|row| {
            let row = row.map_err(CsvError::from)?;
            Ok(header
                .iter()
                .cloned()
                .zip(row.iter().map(str::to_owned))
                .collect())
        })
        .collect()
}

impl From<csv::Error> for CsvError {
    fn from(error: csv::Error) -> Self {
        CsvError(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn awkward_values_round_trip() {
        let records = vec![
            json!({"Ext__c": "cus_1", "Name__c": "Rosén, \"VIP\"\nline 2", "Phone__c": null,
                   "Customer__r": {"Ext__c": "cus_9"}})
            .as_object()
            .unwrap()
            .clone(),
            json!({"Ext__c": "cus_2", "Amount__c": 12.5})
                .as_object()
                .unwrap()
                .clone(),
        ];
        let csv = write_records(&records).unwrap();
        assert!(
            csv.starts_with("Customer__r.Ext__c,Ext__c,Name__c,Phone__c,Amount__c\n"),
            "{csv}"
        );
        let rows = read_rows(&csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["Name__c"], "Rosén, \"VIP\"\nline 2");
        assert_eq!(rows[0]["Phone__c"], NULL);
        assert_eq!(rows[0]["Customer__r.Ext__c"], "cus_9");
        assert_eq!(rows[1]["Name__c"], "", "missing means leave unchanged");
        assert_eq!(rows[1]["Amount__c"], "12.5");
    }

    #[test]
    fn reads_salesforce_result_files() {
        let text = "\"sf__Id\",\"sf__Created\",Ext__c\r\n\"a01\",\"true\",\"cus_1\"\r\n";
        let rows = read_rows(text).unwrap();
        assert_eq!(rows[0]["sf__Id"], "a01");
        assert_eq!(rows[0]["sf__Created"], "true");
        assert!(read_rows("\"sf__Id\",\"sf__Error\",Id\n")
            .unwrap()
            .is_empty());
        assert!(read_rows("\"open").is_err());
        assert!(read_rows("a,b\n1\n").is_err(), "a short row is an error");
        assert!(read_rows("a,b\n1,2,3\n").is_err(), "a long row is an error");
        assert!(read_rows("").unwrap().is_empty());
    }

    #[test]
    fn line_breaks_and_quotes_are_quoted_only_where_needed() {
        let record = json!({"A": "plain", "B": "cr\rlf", "C": "say \"hi\"", "D": " x "});
        let csv = write_records(&[record.as_object().unwrap().clone()]).unwrap();
        assert_eq!(csv, "A,B,C,D\nplain,\"cr\rlf\",\"say \"\"hi\"\"\", x \n");
        assert_eq!(read_rows(&csv).unwrap()[0]["B"], "cr\rlf");
    }
}
