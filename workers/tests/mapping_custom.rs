//! Mapping files other than the default: an org with other field names, and files that
//! must be refused with a message that says what to fix.

use serde_json::{json, Value};
use workers::mapping::{
    minor_units_to_decimal, unix_to_salesforce_datetime, Mapping, MappingError, MappingFileError,
    RecordTarget, WriteRole,
};

/// An org that keeps Stripe customers on Account and payments on its own object.
const OTHER_ORG: &str = r#"
version = 1

[currency_exponents]
UGX = 2

[[rule]]
events = ["customer.created", "customer.updated"]

  [[rule.write]]
  sobject = "Account"
  target = { external_id = "Stripe_Id__c", path = "data.object.id" }

  [rule.write.fields]
  Name = { path = "data.object.name", fallback_paths = ["data.object.email"], max_length = 10 }
  PersonEmail = { path = "data.object.email", transform = "lower", optional = true }
  Credit_Balance__c = { path = "data.object.balance", transform = "money", currency_path = "data.object.currency" }
  Is_Delinquent__c = { path = "data.object.delinquent", transform = "bool" }
  Since__c = { path = "data.object.created", transform = "date" }
  Source__c = { constant = "Stripe" }
  Priority__c = { constant = 3 }

[[rule]]
events = ["payment_intent.succeeded"]

  [[rule.write]]
  sobject = "Account"
  role = "parent_stub"
  target = { external_id = "Stripe_Id__c", path = "data.object.customer" }

  [[rule.write]]
  sobject = "Payment__c"
  target = { external_id = "PI__c", path = "data.object.id" }

  [rule.write.fields]
  Account__c = { path = "data.object.customer", lookup = { relationship = "Account__r", external_id_field = "Stripe_Id__c" } }
  Payer__c = { path = "data.object.customer", lookup = { external_id_field = "Stripe_Id__c" } }
  Value__c = { path = "data.object.amount", transform = "money", currency_path = "data.object.currency" }
  Paid_At__c = { path = "data.object.created", transform = "datetime" }
  State__c = { path = "data.object.status", value_map = { succeeded = "Paid", processing = "Pending" } }
"#;

fn event(event_type: &str, object: Value) -> Value {
    json!({ "id": "evt_1", "object": "event", "created": 0, "type": event_type, "data": { "object": object } })
}

#[test]
fn another_orgs_field_names_need_no_rebuild() {
    let mapping = Mapping::from_toml(OTHER_ORG).unwrap();
    assert_eq!(
        mapping.event_types().collect::<Vec<_>>(),
        [
            "customer.created",
            "customer.updated",
            "payment_intent.succeeded"
        ]
    );
    assert!(!mapping.handles("customer.deleted"));

    let customer = json!({
        "id": "cus_1", "name": "Jenny Rosén-Smith", "email": "Jenny@Example.COM", "balance": -1234,
        "currency": "usd", "delinquent": false, "created": 951_782_400
    });
    let writes = mapping
        .map_event(&event("customer.updated", customer))
        .unwrap()
        .writes;
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].sobject, "Account");
    assert_eq!(
        writes[0].target,
        RecordTarget::ExternalId {
            field: "Stripe_Id__c".into(),
            value: "cus_1".into()
        }
    );
    assert_eq!(
        Value::Object(writes[0].fields.clone()),
        json!({
            "Stripe_Id__c": "cus_1",
            "Name": "Jenny Rosé",
            "PersonEmail": "jenny@example.com",
            "Credit_Balance__c": -12.34,
            "Is_Delinquent__c": false,
            "Since__c": "2000-02-29",
            "Source__c": "Stripe",
            "Priority__c": 3
        })
    );

    let payment = json!({ "id": "pi_1", "customer": "cus_1", "amount": 150_000, "currency": "ugx", "created": 1_786_370_648, "status": "succeeded" });
    let writes = mapping
        .map_event(&event("payment_intent.succeeded", payment))
        .unwrap()
        .writes;
    assert_eq!(writes[0].role, WriteRole::ParentStub);
    assert_eq!(writes[0].sobject, "Account");
    assert_eq!(
        Value::Object(writes[1].fields.clone()),
        json!({
            "PI__c": "pi_1",
            "Account__r": { "Stripe_Id__c": "cus_1" },
            "Payer__r": { "Stripe_Id__c": "cus_1" },
            "Value__c": 1500,
            "Paid_At__c": "2026-08-10T14:04:08.000Z",
            "State__c": "Paid"
        })
    );
}

#[test]
fn name_falls_back_and_value_map_refuses_unknown_values() {
    let mapping = Mapping::from_toml(OTHER_ORG).unwrap();
    let customer = json!({ "id": "cus_2", "name": null, "email": "a@b.c", "balance": 0, "currency": "jpy", "delinquent": true, "created": 0 });
    let writes = mapping
        .map_event(&event("customer.created", customer))
        .unwrap()
        .writes;
    assert_eq!(writes[0].fields["Name"], json!("a@b.c"));

    let payment = json!({ "id": "pi_1", "customer": "cus_1", "amount": 1, "currency": "usd", "created": 0, "status": "canceled" });
    let error = mapping
        .map_event(&event("payment_intent.succeeded", payment))
        .unwrap_err();
    let MappingError::BadValue {
        field,
        path,
        reason,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (field.as_str(), path.as_str()),
        ("State__c", "data.object.status")
    );
    assert!(reason.contains("processing, succeeded"), "{reason}");
}

#[test]
fn helpers_give_exact_values() {
    assert_eq!(
        minor_units_to_decimal(1234, "JPY").unwrap().to_string(),
        "1234"
    );
    assert_eq!(
        minor_units_to_decimal(1234, "usd").unwrap().to_string(),
        "12.34"
    );
    assert_eq!(
        minor_units_to_decimal(1230, "KWD").unwrap().to_string(),
        "1.23"
    );
    assert_eq!(
        minor_units_to_decimal(-1234, "usd").unwrap().to_string(),
        "-12.34"
    );
    assert_eq!(
        minor_units_to_decimal(-1230, "kwd").unwrap().to_string(),
        "-1.23"
    );
    assert_eq!(
        minor_units_to_decimal(-4900, "jpy").unwrap().to_string(),
        "-4900"
    );
    assert_eq!(unix_to_salesforce_datetime(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        unix_to_salesforce_datetime(951_782_400),
        "2000-02-29T00:00:00.000Z"
    );
    assert_eq!(
        unix_to_salesforce_datetime(1_786_370_648),
        "2026-08-10T14:04:08.000Z"
    );
}

#[test]
fn from_file_reads_and_names_the_missing_file() {
    let path = std::env::temp_dir().join(format!("mapping_custom_{}.toml", std::process::id()));
    std::fs::write(&path, OTHER_ORG).unwrap();
    let loaded = Mapping::from_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(loaded.unwrap().handles("payment_intent.succeeded"));

    let error = Mapping::from_file(&path).unwrap_err();
    assert!(matches!(error, MappingFileError::Read { .. }));
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

/// Loads `text` expecting a refusal; returns the message.
fn refused(text: &str) -> String {
    match Mapping::from_toml(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

fn one_field(field: &str) -> String {
    format!(
        r#"
[[rule]]
events = ["customer.created"]
  [[rule.write]]
  sobject = "Stripe_Customer__c"
  target = {{ external_id = "Stripe_Customer_ID__c", path = "data.object.id" }}
  [rule.write.fields]
  {field}
"#
    )
}

#[test]
fn bad_fields_are_refused_with_their_place() {
    let cases = [
        (
            r#"Amount__c = { path = "data.object.amount", transform = "mony" }"#,
            "unknown transform \"mony\" (known: raw, string, upper, lower, money",
        ),
        (
            r#"Amount__c = { path = "data.object.amount", transform = "money" }"#,
            "needs `currency_path`",
        ),
        (
            r#"Amount__c = { path = "data.object.amount", currency_path = "data.object.currency" }"#,
            "only goes with transform \"money\"",
        ),
        (
            r#"Amount__c = { path = "data.object..amount" }"#,
            "is not a key",
        ),
        (
            r#"Amount__c = { path = "data.object.items[x]" }"#,
            "not an array index",
        ),
        (r#"Amount__c = { }"#, "give a `path`"),
        (
            r#"Amount__c = { constant = "x", path = "a" }"#,
            "give only one of",
        ),
        (
            r#"Amount__c = { constant = "x", transform = "upper" }"#,
            "written as given",
        ),
        (
            r#"Amount__c = { constant = 1979-05-27 }"#,
            "cannot be written to Salesforce",
        ),
        (
            r#"Amount__c = { path = "a", value_map = {} }"#,
            "`value_map` is empty",
        ),
        (
            r#"Amount__c = { path = "a", max_length = 0 }"#,
            "at least 1",
        ),
        (
            r#"Amount__c = { fallback_paths = ["a"] }"#,
            "needs a `path`",
        ),
        (
            r#"Amount__c = { path = "a", multiply_path = "b" }"#,
            "`multiply_path` only goes",
        ),
        (
            r#"OwnerId = { path = "a", lookup = { external_id_field = "X__c" } }"#,
            "need `lookup.relationship`",
        ),
        (
            r#""Bad Field" = { path = "a" }"#,
            "is not a Salesforce API name",
        ),
    ];
    for (field, expected) in cases {
        let message = refused(&one_field(field));
        assert!(message.contains(expected), "{field}: {message}");
        assert!(
            message.contains("rule for customer.created, write 1 (Stripe_Customer__c), field"),
            "{field}: {message}"
        );
    }
}

#[test]
fn typos_in_keys_are_refused_by_the_parser() {
    let message = refused(&one_field(
        r#"Amount__c = { path = "a", fallback_path = ["b"] }"#,
    ));
    assert!(message.contains("fallback_path"), "{message}");
}

#[test]
fn bad_structure_is_refused() {
    let write = r#"
  [[rule.write]]
  sobject = "Stripe_Customer__c"
  target = { external_id = "Stripe_Customer_ID__c", path = "data.object.id" }
"#;
    let stub = r#"
  [[rule.write]]
  sobject = "Stripe_Customer__c"
  role = "parent_stub"
  target = { external_id = "Stripe_Customer_ID__c", path = "data.object.customer" }
"#;
    let rule = |events: &str, body: &str| format!("[[rule]]\nevents = {events}\n{body}");
    let cases = [
        (String::new(), "no [[rule]] at all"),
        (
            "version = 2\n".to_owned() + &rule(r#"["a.b"]"#, write),
            "version: 2 is not supported",
        ),
        (rule("[]", write), "rule 1: `events` is empty"),
        (rule(r#"["a.b"]"#, ""), "no [[rule.write]]"),
        (rule(r#"["a.b"]"#, stub), "only parent stubs"),
        (
            rule(r#"["a.b"]"#, &format!("{write}{stub}")),
            "write 2 (Stripe_Customer__c): parent stubs must come before",
        ),
        (
            rule(r#"["a.b"]"#, write) + &rule(r#"["c.d", "a.b"]"#, write),
            "rule for c.d, a.b: a.b is already handled",
        ),
        (
            rule(
                r#"["a.b"]"#,
                &write.replace("external_id = ", "query = \"X__c\", external_id = "),
            ),
            "target: give exactly one of",
        ),
        (
            rule(
                r#"["a.b"]"#,
                &write.replace(
                    "external_id = \"Stripe_Customer_ID__c\"",
                    "salesforce_id = true",
                ),
            ),
            "needs an `otherwise`",
        ),
        (
            rule(
                r#"["a.b"]"#,
                &write.replace(", path = \"data.object.id\"", ""),
            ),
            "the target needs a `path`",
        ),
        (
            rule(
                r#"["a.b"]"#,
                &write.replace(
                    "sobject = \"Stripe_Customer__c\"",
                    "sobject = \"Stripe_Customer__c\"\nrole = \"child\"",
                ),
            ),
            "role \"child\" is unknown",
        ),
        (
            "[currency_exponents]\nusd = 9\n".to_owned() + &rule(r#"["a.b"]"#, write),
            "currency_exponents.usd: 9 decimals",
        ),
        (
            "[currency_exponents]\ndollar = 2\n".to_owned() + &rule(r#"["a.b"]"#, write),
            "not a 3-letter ISO currency code",
        ),
    ];
    for (text, expected) in cases {
        let message = refused(&text);
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
    }
}

#[test]
fn optional_write_without_target_is_skipped_but_a_required_one_fails() {
    let text = r#"
[[rule]]
events = ["payment_intent.succeeded"]
  [[rule.write]]
  sobject = "Stripe_Customer__c"
  role = "parent_stub"
  optional = true
  target = { external_id = "Stripe_Customer_ID__c", path = "data.object.customer" }
  [[rule.write]]
  sobject = "Payment_Transaction__c"
  target = { external_id = "Stripe_Payment_Intent_ID__c", path = "data.object.id" }
"#;
    let mapping = Mapping::from_toml(text).unwrap();
    let writes = mapping
        .map_event(&event("payment_intent.succeeded", json!({"id": "pi_1"})))
        .unwrap()
        .writes;
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].sobject, "Payment_Transaction__c");
    let error = mapping
        .map_event(&event(
            "payment_intent.succeeded",
            json!({"customer": "cus_1"}),
        ))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "payment_intent.succeeded: Payment_Transaction__c.Stripe_Payment_Intent_ID__c: no value at data.object.id"
    );
}
