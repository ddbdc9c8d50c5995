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
pub fn write_records(records: &[Map<String, Value>]) -> String {
    let flat: Vec<Vec<(String, String)>> = records.iter().map(flatten).collect();
    let mut columns: Vec<String> = Vec::new();
    for record in &flat {
        for (column, _) in record {
            if !columns.contains(column) {
                columns.push(column.clone());
            }
        }
    }
    let mut out = String::new();
    push_row(&mut out, columns.iter().map(String::as_str));
    for record in &flat {
        let values: HashMap<&str, &str> = record
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        push_row(
            &mut out,
            columns
                .iter()
                .map(|c| values.get(c.as_str()).copied().unwrap_or("")),
        );
    }
    out
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
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => other.to_string(),
    }
}

fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (index, cell) in cells.enumerate() {
        if index > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push('\n');
}

/// Reads a CSV file with a header row into one map per row (column name → value).
pub fn read_rows(text: &str) -> Result<Vec<HashMap<String, String>>, CsvError> {
    let mut rows = parse(text)?.into_iter();
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    rows.filter(|row| !(row.len() == 1 && row[0].is_empty()))
        .map(|row| {
            if row.len() != header.len() {
                return Err(CsvError(format!(
                    "a row has {} values for {} columns",
                    row.len(),
                    header.len()
                )));
            }
            Ok(header.iter().cloned().zip(row).collect())
        })
        .collect()
}

/// RFC 4180 parsing: quoted fields may hold commas, doubled quotes and line breaks.
fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_field_start = true;
            }
            other => {
                field.push(other);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(CsvError("a quoted value is not closed".into()));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
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
        let csv = write_records(&records);
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
    }
}
