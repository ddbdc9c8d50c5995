//! The decisions of `fit` one by one, and `check` on small projects and mappings.

use salesforce_metadata::{Metadata, Source};
use serde_json::json;

use super::fit::{is_match_key, lookup_fits, max_length_fits, value_fits};
use super::*;
use crate::mapping::inspect::ValueView;

const OBJECT: &str = "<CustomObject><label>Invoice</label><nameField><label>Number</label>\
    <type>AutoNumber</type><displayFormat>IN-{0000}</displayFormat></nameField></CustomObject>";
const PARENT: &str = "<CustomObject><label>Payer</label><nameField><label>Name</label>\
    <type>Text</type></nameField></CustomObject>";

fn field_file(object: &str, name: &str, kind: &str, extra: &str) -> (String, String) {
    (
        format!("objects/{object}/fields/{name}.field-meta.xml"),
        format!(
            "<CustomField><fullName>{name}</fullName><label>{name}</label><type>{kind}</type>\
             {extra}</CustomField>"
        ),
    )
}

/// A project with an invoice (one field of each kind) and its payer.
fn metadata() -> Metadata {
    let picklist = "<valueSet><restricted>true</restricted><valueSetDefinition>\
        <value><fullName>Open</fullName></value><value><fullName>Paid</fullName></value>\
        </valueSetDefinition></valueSet>";
    let mut files: Vec<(String, String)> = vec![
        (
            "objects/Invoice__c/Invoice__c.object-meta.xml".into(),
            OBJECT.into(),
        ),
        (
            "objects/Payer__c/Payer__c.object-meta.xml".into(),
            PARENT.into(),
        ),
        field_file(
            "Payer__c",
            "Key__c",
            "Text",
            "<length>20</length><externalId>true</externalId>",
        ),
        field_file("Payer__c", "Note__c", "Text", "<length>20</length>"),
    ];
    for (name, kind, extra) in [
        (
            "Key__c",
            "Text",
            "<length>20</length><externalId>true</externalId>",
        ),
        ("Code__c", "Text", "<length>3</length>"),
        (
            "Amount__c",
            "Currency",
            "<precision>18</precision><scale>2</scale>",
        ),
        (
            "Whole__c",
            "Number",
            "<precision>18</precision><scale>0</scale>",
        ),
        ("Paid_At__c", "DateTime", ""),
        ("Due__c", "Date", ""),
        ("Flag__c", "Checkbox", ""),
        ("State__c", "Picklist", picklist),
        ("Payer__c", "Lookup", "<referenceTo>Payer__c</referenceTo>"),
        ("Total__c", "Number", "<formula>Amount__c * 2</formula>"),
        ("Seq__c", "AutoNumber", ""),
    ] {
        files.push(field_file("Invoice__c", name, kind, extra));
    }
    let source = Source {
        root: "org".into(),
        files: files.into_iter().collect(),
    };
    Metadata::from_source(&source).unwrap()
}

fn invoice_field(name: &str) -> FieldMeta {
    metadata()
        .object("Invoice__c")
        .unwrap()
        .field(name)
        .unwrap()
        .clone()
}

#[test]
fn value_kinds_against_field_types() {
    let cases = [
        ("Amount__c", ValueView::Money, true),
        ("Amount__c", ValueView::Number, true),
        ("Amount__c", ValueView::Text, false),
        ("Amount__c", ValueView::DateTime, false),
        ("Paid_At__c", ValueView::DateTime, true),
        ("Paid_At__c", ValueView::Date, false),
        ("Paid_At__c", ValueView::Raw, false),
        ("Due__c", ValueView::Date, true),
        ("Due__c", ValueView::Raw, false),
        ("Flag__c", ValueView::Boolean, true),
        ("Flag__c", ValueView::Text, false),
        ("Code__c", ValueView::Text, true),
        ("Code__c", ValueView::Raw, true),
        ("Code__c", ValueView::Money, false),
        ("State__c", ValueView::Text, true),
        ("Payer__c", ValueView::Raw, true),
        ("Whole__c", ValueView::Money, false),
        ("Key__c", ValueView::Boolean, false),
    ];
    for (name, value, fits) in cases {
        let result = value_fits(&invoice_field(name), &value, 3);
        assert_eq!(result.is_ok(), fits, "{name} ← {value:?}: {result:?}");
    }
}

#[test]
fn fixed_values() {
    let fits =
        |name: &str, value| value_fits(&invoice_field(name), &ValueView::Fixed(vec![value]), 3);
    assert!(fits("State__c", json!("Paid")).is_ok());
    let error = fits("State__c", json!("Cancelled")).unwrap_err();
    assert!(
        error.contains(
            "\"Cancelled\" is not a value of the restricted picklist State__c (Open, Paid)"
        ),
        "{error}"
    );
    assert!(fits("Code__c", json!("USD")).is_ok());
    assert!(fits("Code__c", json!("EURO"))
        .unwrap_err()
        .contains("longer than Code__c's 3"));
    assert!(fits("Amount__c", json!(3)).is_ok());
    assert!(fits("Amount__c", json!("3")).is_err());
    assert!(fits("Flag__c", json!(true)).is_ok());
    assert!(fits("Paid_At__c", json!("2026-01-01")).is_err());
    assert!(fits("Code__c", json!(null)).is_ok());
}

#[test]
fn money_needs_decimals_and_warns_below_the_largest_exponent() {
    let amount = invoice_field("Amount__c");
    let notes = value_fits(&amount, &ValueView::Money, 3).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("3 decimals"), "{notes:?}");
    assert!(value_fits(&amount, &ValueView::Money, 2)
        .unwrap()
        .is_empty());
    let error = value_fits(&invoice_field("Whole__c"), &ValueView::Money, 2).unwrap_err();
    assert!(error.contains("scale 0"), "{error}");
}

#[test]
fn lengths_lookups_and_keys() {
    assert!(max_length_fits(&invoice_field("Code__c"), Some(3)).is_ok());
    assert!(max_length_fits(&invoice_field("Code__c"), Some(4)).is_err());
    assert!(max_length_fits(&invoice_field("Code__c"), None).is_ok());
    assert!(lookup_fits(&invoice_field("Payer__c"), "payer__r").is_ok());
    assert!(lookup_fits(&invoice_field("Payer__c"), "Owner__r")
        .unwrap_err()
        .contains("Payer__r"));
    assert!(lookup_fits(&invoice_field("Code__c"), "Code__r").is_err());
    assert!(is_match_key(&invoice_field("Key__c")).is_ok());
    assert!(is_match_key(&invoice_field("Code__c"))
        .unwrap_err()
        .contains("not an External ID"));
}

fn report(fields: &str, target: &str) -> Report {
    let text = format!(
        "version = 1\n[[rule]]\nevents = [\"invoice.paid\"]\n  [[rule.write]]\n  sobject = \"Invoice__c\"\n  \
         target = {target}\n  [rule.write.fields]\n{fields}\n"
    );
    check(&Mapping::from_toml(&text).unwrap(), &metadata())
}

const BY_KEY: &str = "{ external_id = \"Key__c\", path = \"data.object.id\" }";

#[test]
fn check_names_the_rule_field_and_file() {
    let report = report("  Cdoe__c = { path = \"data.object.currency\" }", BY_KEY);
    assert_eq!(report.errors.len(), 1, "{report}");
    assert_eq!(
        report.errors[0].to_string(),
        "rule for invoice.paid, write 1 (Invoice__c), field Cdoe__c: Invoice__c has no field \
         Cdoe__c (org/objects/Invoice__c/Invoice__c.object-meta.xml)"
    );
}

#[test]
fn check_refuses_what_salesforce_computes() {
    for (field, wanted) in [
        ("Total__c", "computed by Salesforce"),
        ("Seq__c", "computed by Salesforce"),
        ("Name", "Name is set by Salesforce"),
        ("CreatedDate", "CreatedDate is set by Salesforce"),
    ] {
        let report = report(
            &format!("  {field} = {{ path = \"data.object.x\" }}"),
            BY_KEY,
        );
        assert!(report.errors[0].message.contains(wanted), "{report}");
    }
}

#[test]
fn check_targets_and_lookups() {
    let fine = report(
        "  Payer__c = { path = \"data.object.customer\", lookup = { external_id_field = \"Key__c\" } }\n  \
         Amount__c = { path = \"data.object.amount\", transform = \"money\", currency_path = \"data.object.currency\" }",
        BY_KEY,
    );
    assert!(fine.errors.is_empty(), "{fine}");
    assert_eq!(fine.warnings.len(), 1, "{fine}");
    let not_a_key = report(
        "  Code__c = { path = \"a\" }",
        "{ external_id = \"Code__c\", path = \"data.object.id\" }",
    );
    assert!(
        not_a_key.errors[0]
            .message
            .contains("Code__c is not an External ID"),
        "{not_a_key}"
    );
    assert!(not_a_key.errors[0].place.ends_with("target"), "{not_a_key}");
    let parent_key = report(
        "  Payer__c = { path = \"data.object.customer\", lookup = { external_id_field = \"Note__c\" } }",
        BY_KEY,
    );
    assert_eq!(
        parent_key.errors[0].message, "Payer__c.Note__c is not an External ID",
        "{parent_key}"
    );
    assert!(parent_key.errors[0]
        .file
        .ends_with("Payer__c/fields/Note__c.field-meta.xml"));
    let query = report(
        "  Code__c = { path = \"a\" }",
        "{ query = \"Nope__c\", path = \"data.object.id\" }",
    );
    assert!(
        query.errors[0].message.contains("no field Nope__c"),
        "{query}"
    );
}

#[test]
fn check_knows_unknown_objects() {
    let text =
        "version = 1\n[[rule]]\nevents = [\"x.y\"]\n  [[rule.write]]\n  sobject = \"Ghost__c\"\n  \
                target = { external_id = \"K__c\", path = \"id\" }\n";
    let report = check(&Mapping::from_toml(text).unwrap(), &metadata());
    assert_eq!(report.errors[0].message, "the org has no object Ghost__c");
    assert_eq!(report.errors[0].file, "org/objects");
}

#[test]
fn the_builtin_mapping_fits_the_embedded_project() {
    let report = check(&Mapping::builtin(), &Metadata::embedded().unwrap());
    assert!(report.errors.is_empty(), "{report}");
    assert!(report.writes > 10 && report.fields > 30, "{report:?}");
}

fn fenced_report(time_field: &str, id_field: &str) -> Report {
    let text = format!(
        "version = 1\n[fence]\nevent_time_field = \"{time_field}\"\nevent_id_field = \"{id_field}\"\n\
         [[rule]]\nevents = [\"invoice.paid\"]\n  [[rule.write]]\n  sobject = \"Invoice__c\"\n  \
         target = {BY_KEY}\n"
    );
    check(&Mapping::from_toml(&text).unwrap(), &metadata())
}

#[test]
fn the_fence_fields_must_exist_with_their_types_and_a_rule_should_use_them() {
    let fine = fenced_report("Paid_At__c", "Code__c");
    assert!(fine.errors.is_empty(), "{fine}");
    assert_eq!(fine.warnings.len(), 1, "{fine}");
    assert!(
        fine.warnings[0]
            .message
            .contains("no active validation rule"),
        "{fine}"
    );
    assert_eq!(fine.warnings[0].place, "fence, Invoice__c");
    let wrong = fenced_report("Due__c", "Amount__c");
    let messages: Vec<&str> = wrong.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "Due__c must be a DateTime field the integration can write",
            "Amount__c must be a text field the integration can write",
        ],
        "{wrong}"
    );
    let missing = fenced_report("Last_Event_At__c", "Code__c");
    assert_eq!(
        missing.errors[0].message,
        "Invoice__c has no field Last_Event_At__c"
    );
}

#[test]
fn every_object_of_the_builtin_mapping_is_fenced() {
    let report = check(&Mapping::builtin(), &Metadata::embedded().unwrap());
    let fence_warnings: Vec<_> = report
        .warnings
        .iter()
        .filter(|warning| warning.place.starts_with("fence"))
        .collect();
    assert!(fence_warnings.is_empty(), "{report}");
}
