//! The evaluator on every construct, with blanks, on inserts and updates.

use std::collections::BTreeMap;
use std::sync::Arc;

use salesforce_metadata::{Metadata, Source};
use serde_json::{json, Value};

use super::check_rules;
use crate::schema::{ObjectDef, Schema};
use crate::store::Record;

const OBJECT: &str = "<CustomObject><label>Invoice</label><nameField><label>Number</label>\
    <type>AutoNumber</type><displayFormat>IN-{0000}</displayFormat></nameField></CustomObject>";

fn field(name: &str, kind: &str, extra: &str) -> (String, String) {
    (
        format!("objects/Invoice__c/fields/{name}.field-meta.xml"),
        format!(
            "<CustomField><fullName>{name}</fullName><label>{name}</label><type>{kind}</type>\
             {extra}</CustomField>"
        ),
    )
}

/// An object with one field of each kind and one active rule with `formula`.
fn object(formula: &str) -> Arc<ObjectDef> {
    let picklist = "<valueSet><restricted>true</restricted><valueSetDefinition>\
        <value><fullName>Open</fullName></value><value><fullName>Paid</fullName></value>\
        </valueSetDefinition></valueSet>";
    let mut files: BTreeMap<String, String> = [
        field("Paid_At__c", "DateTime", ""),
        field(
            "Amount__c",
            "Currency",
            "<precision>18</precision><scale>2</scale>",
        ),
        field("Code__c", "Text", "<length>10</length>"),
        field("Active__c", "Checkbox", ""),
        field("Due__c", "Date", ""),
        field("State__c", "Picklist", picklist),
    ]
    .into_iter()
    .collect();
    files.insert(
        "objects/Invoice__c/Invoice__c.object-meta.xml".into(),
        OBJECT.into(),
    );
    files.insert(
        "objects/Invoice__c/validationRules/Rule.validationRule-meta.xml".into(),
        format!(
            "<ValidationRule><fullName>Rule</fullName><active>true</active>\
             <errorConditionFormula>{}</errorConditionFormula>\
             <errorDisplayField>Amount__c</errorDisplayField>\
             <errorMessage>Refused.</errorMessage></ValidationRule>",
            formula.replace('&', "&amp;").replace('<', "&lt;")
        ),
    );
    let source = Source {
        root: "test".into(),
        files,
    };
    let metadata = Metadata::from_source(&source).expect("the test object reads");
    let schema = Schema::from_metadata(&metadata).expect("the test schema builds");
    schema
        .object("Invoice__c")
        .cloned()
        .expect("the test object")
}

fn record(fields: Value) -> Record {
    let fields = match fields {
        Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Record {
        id: "a0X000000000001AAA".into(),
        seq: 0,
        fields,
    }
}

/// Whether the rule fires on an insert of `current` (`prior` null) or an update.
fn fires(formula: &str, prior: Value, current: Value) -> bool {
    let object = object(formula);
    let prior = (!prior.is_null()).then(|| record(prior));
    check_rules(&object, prior.as_ref(), &record(current)).is_err()
}

const EARLY: &str = "2026-01-01T00:00:00.000+0000";
const LATE: &str = "2026-01-01T00:00:01.000+0000";

#[test]
fn the_fence_rule_on_datetimes() {
    let fence = "Paid_At__c < PRIORVALUE(Paid_At__c)";
    let cases = [
        (
            json!({"Paid_At__c": LATE}),
            json!({"Paid_At__c": EARLY}),
            true,
        ),
        (
            json!({"Paid_At__c": EARLY}),
            json!({"Paid_At__c": LATE}),
            false,
        ),
        (
            json!({"Paid_At__c": EARLY}),
            json!({"Paid_At__c": "2026-01-01T00:00:00Z"}),
            false,
        ),
        // Insert: PRIORVALUE is the new value, x < x is FALSE.
        (Value::Null, json!({"Paid_At__c": EARLY}), false),
        // Blank on either side: the comparison is not TRUE.
        (json!({}), json!({"Paid_At__c": EARLY}), false),
        (
            json!({"Paid_At__c": LATE}),
            json!({"Paid_At__c": null}),
            false,
        ),
    ];
    for (prior, current, wanted) in cases {
        assert_eq!(
            fires(fence, prior.clone(), current.clone()),
            wanted,
            "{prior} → {current}"
        );
    }
}

#[test]
fn each_construct() {
    let none = Value::Null;
    let cases = [
        ("ISNEW()", none.clone(), json!({}), true),
        ("ISNEW()", json!({}), json!({}), false),
        (
            "ISCHANGED(Amount__c)",
            none.clone(),
            json!({"Amount__c": 5}),
            false,
        ),
        (
            "ISCHANGED(Amount__c)",
            json!({"Amount__c": 5}),
            json!({"Amount__c": 5}),
            false,
        ),
        (
            "ISCHANGED(Amount__c)",
            json!({"Amount__c": 5}),
            json!({"Amount__c": 6}),
            true,
        ),
        (
            "ISCHANGED(Amount__c)",
            json!({}),
            json!({"Amount__c": 0}),
            true,
        ),
        (
            "ISCHANGED(Code__c)",
            json!({}),
            json!({"Code__c": null}),
            false,
        ),
        ("ISBLANK(Amount__c)", none.clone(), json!({}), true),
        (
            "ISBLANK(Code__c)",
            none.clone(),
            json!({"Code__c": "x"}),
            false,
        ),
        ("ISBLANK(Code__c)", none.clone(), json!({}), true),
        ("ISBLANK(State__c)", none.clone(), json!({}), true),
        (
            "ISPICKVAL(State__c, 'Paid')",
            none.clone(),
            json!({"State__c": "Paid"}),
            true,
        ),
        (
            "ISPICKVAL(State__c, 'Paid')",
            none.clone(),
            json!({"State__c": "Open"}),
            false,
        ),
        (
            "ISPICKVAL(PRIORVALUE(State__c), 'Paid') && ISPICKVAL(State__c, 'Open')",
            json!({"State__c": "Paid"}),
            json!({"State__c": "Open"}),
            true,
        ),
        (
            "Amount__c > 10",
            none.clone(),
            json!({"Amount__c": 10.5}),
            true,
        ),
        (
            "Amount__c >= 10",
            none.clone(),
            json!({"Amount__c": 10}),
            true,
        ),
        (
            "Amount__c <= 10",
            none.clone(),
            json!({"Amount__c": 10.01}),
            false,
        ),
        ("Amount__c = 0", none.clone(), json!({}), false),
        ("Amount__c <> 0", none.clone(), json!({}), false),
        ("NOT(Amount__c = 0)", none.clone(), json!({}), false),
        ("Amount__c = NULL", none.clone(), json!({}), false),
        (
            "Code__c = 'ab'",
            none.clone(),
            json!({"Code__c": "ab"}),
            true,
        ),
        (
            "Code__c == 'AB'",
            none.clone(),
            json!({"Code__c": "ab"}),
            false,
        ),
        ("Code__c != 'ab'", none.clone(), json!({}), true),
        ("Code__c = \"\"", none.clone(), json!({}), true),
        ("Active__c", none.clone(), json!({"Active__c": true}), true),
        ("Active__c = FALSE", none.clone(), json!({}), true),
        (
            "!Active__c && Amount__c > 1",
            none.clone(),
            json!({"Amount__c": 2}),
            true,
        ),
        (
            "Due__c < PRIORVALUE(Due__c)",
            json!({"Due__c": "2026-02-01"}),
            json!({"Due__c": "2026-01-31"}),
            true,
        ),
        (
            "AND(Active__c, Amount__c > 1)",
            none.clone(),
            json!({"Active__c": true}),
            false,
        ),
        (
            "OR(Active__c, Amount__c > 1)",
            none.clone(),
            json!({"Active__c": true}),
            true,
        ),
        (
            "OR(Amount__c > 1, Code__c = 'x')",
            none.clone(),
            json!({"Code__c": "x"}),
            true,
        ),
        ("Active__c || Amount__c > 1", none.clone(), json!({}), false),
        (
            "(Amount__c > 1 || Active__c) && ISNEW()",
            none.clone(),
            json!({"Amount__c": 2}),
            true,
        ),
    ];
    for (formula, prior, current, wanted) in cases {
        assert_eq!(
            fires(formula, prior.clone(), current.clone()),
            wanted,
            "{formula}: {prior} → {current}"
        );
    }
}

#[test]
fn the_error_carries_the_message_and_display_field() {
    let object = object("ISNEW()");
    let error = check_rules(&object, None, &record(json!({}))).unwrap_err();
    assert_eq!(error.status_code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    assert_eq!(error.message, "Refused.");
    assert_eq!(error.fields, ["Amount__c"]);
    assert_eq!(
        error.bulk_text(),
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:Refused.:Amount__c --"
    );
}
