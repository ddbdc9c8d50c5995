//! Validation rules from an SFDX project (`tests/fixtures/rules-org`) enforced on every write
//! path: single-record REST (create, update, upsert; `rest`), sObject Collections (per
//! record, and all-or-none; `collections`) and Bulk API 2.0 ingest (`bulk`). Each rule of the
//! fixture applies only to records whose `Case__c` names it, so one table ([`cases`]) drives
//! every construct; an inactive rule that is always TRUE proves inactive rules are not
//! enforced. Formulas the simulator cannot run stop it at startup, naming the rule and its
//! file (`startup`; docs/salesforce-api.md §12).

#[path = "../support/mod.rs"]
mod support;

mod bulk;
mod collections;
mod rest;
mod startup;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sfsim::schema::Schema;
use support::{test_config, Org};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules-org")
}

async fn org() -> Org {
    let mut config = test_config();
    config.schema = Schema::from_sfdx(&fixture()).expect("the fixture project loads");
    Org::start_with(config).await
}

/// A refusal by a rule: its message and `errorDisplayField`.
type Refusal = (&'static str, &'static [&'static str]);

/// One row: the rule's tag, the insert, the update (if any), and which of them the rule
/// refuses.
struct Case {
    tag: &'static str,
    insert: Value,
    update: Option<Value>,
    insert_refused: Option<Refusal>,
    update_refused: Option<Refusal>,
}

fn case(tag: &'static str, insert: Value, update: Option<Value>) -> Case {
    Case {
        tag,
        insert,
        update,
        insert_refused: None,
        update_refused: None,
    }
}

const INACTIVE: Refusal = ("New invoices must be active.", &["Active__c"]);
const LOCKED: Refusal = ("The amount cannot change.", &["Amount__c"]);
const CODE: Refusal = ("A code is required.", &[]);
const PAID: Refusal = ("A paid invoice stays paid.", &["State__c"]);
const RANGE: Refusal = ("The amount is out of range.", &["Amount__c"]);
const DUE: Refusal = ("The due date cannot move earlier.", &["Due__c"]);
const FIVE: Refusal = ("The amount must be 5.", &["Amount__c"]);

fn cases() -> Vec<Case> {
    vec![
        Case {
            insert_refused: Some(INACTIVE),
            ..case("isnew", json!({"Active__c": false}), None)
        },
        case(
            "isnew",
            json!({"Active__c": true}),
            Some(json!({"Active__c": false})),
        ),
        Case {
            update_refused: Some(LOCKED),
            ..case(
                "ischanged",
                json!({"Amount__c": 5}),
                Some(json!({"Amount__c": 6})),
            )
        },
        case(
            "ischanged",
            json!({"Amount__c": 5}),
            Some(json!({"Amount__c": 5, "Code__c": "x"})),
        ),
        Case {
            insert_refused: Some(CODE),
            ..case("blank", json!({}), None)
        },
        Case {
            update_refused: Some(CODE),
            ..case(
                "blank",
                json!({"Code__c": "A1"}),
                Some(json!({"Code__c": null})),
            )
        },
        Case {
            update_refused: Some(PAID),
            ..case(
                "pick",
                json!({"State__c": "Paid"}),
                Some(json!({"State__c": "Open"})),
            )
        },
        case(
            "pick",
            json!({"State__c": "Open"}),
            Some(json!({"State__c": "Paid"})),
        ),
        Case {
            insert_refused: Some(RANGE),
            ..case("compare", json!({"Amount__c": 1000.01}), None)
        },
        Case {
            update_refused: Some(RANGE),
            ..case(
                "compare",
                json!({"Amount__c": 1000}),
                Some(json!({"Amount__c": -1})),
            )
        },
        Case {
            update_refused: Some(DUE),
            ..case(
                "due",
                json!({"Due__c": "2026-03-01"}),
                Some(json!({"Due__c": "2026-02-28"})),
            )
        },
        case(
            "due",
            json!({"Due__c": "2026-03-01"}),
            Some(json!({"Due__c": "2026-03-02"})),
        ),
        Case {
            update_refused: Some(FIVE),
            ..case("null", json!({}), Some(json!({"Amount__c": 6})))
        },
        case(
            "null",
            json!({"Amount__c": 5}),
            Some(json!({"Code__c": "y"})),
        ),
    ]
}

/// What a write came to: `Ok`, or the error's code, message and fields.
type Outcome = Result<(), (String, String, Vec<String>)>;

fn expected(refusal: Option<Refusal>) -> Outcome {
    match refusal {
        None => Ok(()),
        Some((message, fields)) => Err((
            "FIELD_CUSTOM_VALIDATION_EXCEPTION".into(),
            message.into(),
            fields.iter().map(|f| (*f).to_owned()).collect(),
        )),
    }
}

/// Reads one error object (`errorCode` on REST, `statusCode` in Collections).
fn refusal(error: &Value) -> Outcome {
    let code = error.get("errorCode").or_else(|| error.get("statusCode"));
    let fields = error["fields"].as_array().cloned().unwrap_or_default();
    Err((
        code.and_then(Value::as_str).unwrap_or_default().into(),
        error["message"].as_str().unwrap_or_default().into(),
        fields
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect(),
    ))
}

fn with(mut record: Value, extra: &[(&str, Value)]) -> Value {
    if let Value::Object(map) = &mut record {
        for (key, value) in extra {
            map.insert((*key).to_owned(), value.clone());
        }
    }
    record
}

/// Runs every case through `write(org, number, insert?, body)` and compares outcomes.
async fn run_table<F, Fut>(api: &str, write: F)
where
    F: Fn(String, bool, Value) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    for (index, case) in cases().into_iter().enumerate() {
        let number = format!("{api}-{index}");
        let insert = with(case.insert.clone(), &[("Case__c", json!(case.tag))]);
        let inserted = write(number.clone(), true, insert).await;
        assert_eq!(
            inserted,
            expected(case.insert_refused),
            "{api} insert of case {index} ({})",
            case.tag
        );
        if let Some(update) = case.update {
            let updated = write(number, false, update).await;
            assert_eq!(
                updated,
                expected(case.update_refused),
                "{api} update of case {index} ({})",
                case.tag
            );
        }
    }
}
