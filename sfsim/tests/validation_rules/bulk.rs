//! Bulk API 2.0 ingest: refused rows land in `failedResults` with Salesforce's `sf__Error`
//! text, the other rows are written.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::support::{close, create_job, csv, upload, wait_for_state, Org};
use crate::{cases, expected, org, with, Outcome, Refusal};

const COLUMNS: [&str; 7] = [
    "Number__c",
    "Case__c",
    "Amount__c",
    "Code__c",
    "Active__c",
    "Due__c",
    "State__c",
];

/// A CSV of `rows` (column → value); absent columns are empty cells (unchanged), a JSON
/// null is `#N/A` (cleared).
fn csv_of(rows: &[Map<String, Value>]) -> String {
    let mut text = COLUMNS.join(",") + "\n";
    for row in rows {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|column| match row.get(*column) {
                None => String::new(),
                Some(Value::Null) => "#N/A".into(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}

/// Runs one Bulk job over `rows`; returns each row's `Number__c` → outcome.
async fn bulk_job(org: &Org, job: Value, rows: &[Map<String, Value>]) -> BTreeMap<String, Outcome> {
    let job = create_job(org, job).await;
    assert_eq!(upload(org, &job, &csv_of(rows)).await.status, 201);
    close(org, &job).await;
    let info = wait_for_state(org, &job, &["JobComplete", "Failed"]).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    let mut outcomes = BTreeMap::new();
    for (resource, failed) in [("successfulResults", false), ("failedResults", true)] {
        let text = csv(org, &job, resource).await.text;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().expect("a header row").clone();
        let column = |name: &str| headers.iter().position(|h| h == name).expect("the column");
        for record in reader.records() {
            let record = record.expect("a CSV row");
            let outcome = if failed {
                Err((
                    "sf__Error".into(),
                    record[column("sf__Error")].to_owned(),
                    Vec::new(),
                ))
            } else {
                Ok(())
            };
            outcomes.insert(record[column("Number__c")].to_owned(), outcome);
        }
    }
    outcomes
}

/// The `sf__Error` of a refusal: `CODE:message:fields --`.
fn bulk_expected(refusal: Option<Refusal>) -> Outcome {
    expected(refusal).map_err(|(code, message, fields)| {
        (
            "sf__Error".into(),
            format!("{code}:{message}:{} --", fields.join(",")).replace(": --", ":--"),
            Vec::new(),
        )
    })
}

#[tokio::test]
async fn bulk_ingest_fails_only_the_refused_rows() {
    let org = org().await;
    let object = |value: &Value| value.as_object().cloned().unwrap_or_default();
    let cases = cases();
    let inserts: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(index, case)| {
            object(&with(
                case.insert.clone(),
                &[
                    ("Number__c", json!(format!("bulk-{index}"))),
                    ("Case__c", json!(case.tag)),
                ],
            ))
        })
        .collect();
    let insert_job = json!({"object": "Invoice__c", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"});
    let inserted = bulk_job(&org, insert_job, &inserts).await;
    let mut updates = Vec::new();
    let mut updated_numbers = BTreeSet::new();
    for (index, case) in cases.iter().enumerate() {
        let number = format!("bulk-{index}");
        assert_eq!(
            inserted[&number],
            bulk_expected(case.insert_refused),
            "bulk insert of case {index} ({})",
            case.tag
        );
        if let Some(update) = &case.update {
            updates.push(object(&with(
                update.clone(),
                &[("Number__c", json!(number.clone()))],
            )));
            updated_numbers.insert(number);
        }
    }
    let upsert_job = json!({"object": "Invoice__c", "externalIdFieldName": "Number__c", "operation": "upsert", "contentType": "CSV", "lineEnding": "LF"});
    let updated = bulk_job(&org, upsert_job, &updates).await;
    assert_eq!(updated.len(), updated_numbers.len());
    for (index, case) in cases.iter().enumerate() {
        let number = format!("bulk-{index}");
        if updated_numbers.contains(&number) {
            assert_eq!(
                updated[&number],
                bulk_expected(case.update_refused),
                "bulk update of case {index} ({})",
                case.tag
            );
        }
    }
}
