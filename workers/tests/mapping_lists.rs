//! The mapping format's tools for lists and related records, on a mapping file of its own
//! (not the default): `for_each` with `$item` / `$previous` / `$number`, templates,
//! `delete_missing`, `query_all` targets, `default` and `add`, `money_decimal`, and lookups
//! set only where the parent exists; and the files the loader must refuse.

use serde_json::{json, Value};
use workers::mapping::{Deletion, Mapping, MappingError, PendingLookup, RecordTarget};

/// An org that keeps order lines under orders and links accounts to existing contacts.
const ORDERS: &str = r#"
[[rule]]
events = ["order.updated"]

  [[rule.write]]
  sobject = "Order__c"
  target = { external_id = "Order_Id__c", path = "data.object.id" }

  [rule.write.fields]
  Total__c = { path = "data.object.total_decimal", transform = "money_decimal", currency_path = "data.object.currency" }
  Buyer__c = { path = "data.object.buyer", lookup = { sobject = "Contact", external_id_field = "Buyer_Id__c", only_if_exists = true } }

  [[rule.write]]
  sobject = "Order_Line__c"
  for_each = "data.object.lines"
  target = { external_id = "Line_Key__c", template = "{data.object.id}/{$number}" }
  delete_missing = { field = "Order__r.Order_Id__c", path = "data.object.id" }

  [rule.write.fields]
  Label__c = { template = "Line {$number}: {$item.sku}" }
  Order__c = { path = "data.object.id", lookup = { external_id_field = "Order_Id__c" } }
  Position__c = { path = "$number" }
  Starts_After__c = { path = "$previous.quantity", transform = "number", add = 1, default = 0 }
  Quantity__c = { path = "$item.quantity", transform = "number" }

[[rule]]
events = ["catalog.renamed"]

  [[rule.write]]
  sobject = "Order_Line__c"
  target = { query_all = "Sku__c", path = "data.object.sku" }

  [rule.write.fields]
  Label__c = { path = "data.object.name" }
"#;

fn event(event_type: &str, object: Value) -> Value {
    json!({ "id": "evt_1", "object": "event", "created": 0, "type": event_type, "data": { "object": object } })
}

fn order(lines: Option<Value>) -> Value {
    let mut order = json!({
        "id": "ord_1", "currency": "usd", "total_decimal": "1234.5", "buyer": "b_7"
    });
    if let Some(lines) = lines {
        order["lines"] = lines;
    }
    event("order.updated", order)
}

#[test]
fn each_element_of_a_list_becomes_a_record_and_the_rest_is_deleted() {
    let mapping = Mapping::from_toml(ORDERS).unwrap();
    let lines = json!([{"sku": "A", "quantity": 5}, {"sku": "B", "quantity": 3}]);
    let mapped = mapping.map_event(&order(Some(lines))).unwrap();
    assert_eq!(mapped.writes.len(), 3);
    let order = &mapped.writes[0];
    assert_eq!(
        Value::Object(order.fields.clone()),
        json!({"Order_Id__c": "ord_1", "Total__c": 12.345})
    );
    assert_eq!(
        order.pending_lookups,
        vec![PendingLookup {
            field: "Buyer__c".into(),
            sobject: "Contact".into(),
            external_id_field: "Buyer_Id__c".into(),
            value: "b_7".into(),
        }],
        "an only_if_exists lookup waits for the writer, it is not a field yet"
    );
    let second = &mapped.writes[2];
    assert_eq!(
        second.target,
        RecordTarget::ExternalId {
            field: "Line_Key__c".into(),
            value: "ord_1/2".into()
        }
    );
    assert_eq!(
        Value::Object(second.fields.clone()),
        json!({
            "Line_Key__c": "ord_1/2",
            "Label__c": "Line 2: B",
            "Order__r": {"Order_Id__c": "ord_1"},
            "Position__c": 2,
            "Starts_After__c": 6,
            "Quantity__c": 3
        })
    );
    assert_eq!(mapped.writes[1].fields["Starts_After__c"], 0, "the default");
    assert_eq!(
        mapped.deletions,
        vec![Deletion {
            sobject: "Order_Line__c".into(),
            scope_field: "Order__r.Order_Id__c".into(),
            scope_value: "ord_1".into(),
            key_field: "Line_Key__c".into(),
            keep: vec!["ord_1/1".into(), "ord_1/2".into()],
        }]
    );
}

#[test]
fn an_absent_list_touches_nothing_and_an_empty_one_deletes_everything() {
    let mapping = Mapping::from_toml(ORDERS).unwrap();
    let absent = mapping.map_event(&order(None)).unwrap();
    assert_eq!(absent.writes.len(), 1, "only the order");
    assert!(
        absent.deletions.is_empty(),
        "nothing is known about the lines"
    );
    for empty in [json!([]), Value::Null] {
        let mapped = mapping.map_event(&order(Some(empty))).unwrap();
        assert_eq!(mapped.writes.len(), 1);
        assert_eq!(mapped.deletions.len(), 1);
        assert!(mapped.deletions[0].keep.is_empty());
    }
    let error = mapping
        .map_event(&order(Some(json!({"sku": "A"}))))
        .unwrap_err();
    assert!(
        matches!(&error, MappingError::BadValue { path, .. } if path == "data.object.lines"),
        "{error}"
    );
}

#[test]
fn a_query_all_target_names_every_matching_record() {
    let mapping = Mapping::from_toml(ORDERS).unwrap();
    let renamed = event("catalog.renamed", json!({"sku": "A", "name": "Apples"}));
    let writes = mapping.map_event(&renamed).unwrap().writes;
    assert_eq!(
        writes[0].target,
        RecordTarget::QueryAll {
            field: "Sku__c".into(),
            value: "A".into()
        }
    );
    assert_eq!(
        Value::Object(writes[0].fields.clone()),
        json!({"Label__c": "Apples"}),
        "no key field: the records are found, not upserted"
    );
}

#[test]
fn an_element_value_that_cannot_be_converted_names_its_path() {
    let mapping = Mapping::from_toml(ORDERS).unwrap();
    let lines = json!([{"sku": "A", "quantity": "many"}]);
    let error = mapping.map_event(&order(Some(lines))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "order.updated: Order_Line__c.Quantity__c: bad value at $item.quantity: expected a number, got \"many\""
    );
}

/// Loads `text` expecting a refusal; returns the message.
fn refused(text: &str) -> String {
    match Mapping::from_toml(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

/// A one-write rule with `extra` lines in the write and `fields` in its fields table.
fn write_with(extra: &str, fields: &str) -> String {
    format!(
        r#"
[[rule]]
events = ["order.updated"]
  [[rule.write]]
  sobject = "Order_Line__c"
  {extra}
  [rule.write.fields]
  {fields}
"#
    )
}

#[test]
fn misuses_of_the_list_tools_are_refused_with_their_place() {
    let key = r#"target = { external_id = "Key__c", path = "data.object.id" }"#;
    let cases = [
        (write_with(key, r#"Q__c = { path = "$item.quantity" }"#), "field Q__c", "only a write with `for_each` has one"),
        (
            write_with(r#"target = { external_id = "Key__c", template = "{$number}" }"#, ""),
            "target",
            "only a write with `for_each` has one",
        ),
        (
            write_with(&format!("{key}\n  delete_missing = {{ field = \"P__r.Id__c\", path = \"data.object.id\" }}"), ""),
            "write 1 (Order_Line__c)",
            "`delete_missing` needs `for_each`",
        ),
        (
            write_with(
                "for_each = \"data.object.lines\"\n  target = { query = \"Key__c\", path = \"data.object.id\" }\n  delete_missing = { field = \"P__r.Id__c\", path = \"data.object.id\" }",
                "",
            ),
            "write 1 (Order_Line__c)",
            "needs an external_id target",
        ),
        (
            write_with(&format!("for_each = \"$item.lines\"\n  {key}"), ""),
            "write 1 (Order_Line__c)",
            "must be a path in the event",
        ),
        (
            write_with(&format!("for_each = \"data.object.lines\"\n  {key}\n  delete_missing = {{ field = \"P__r.Id__c\", path = \"$item.id\" }}"), ""),
            "write 1 (Order_Line__c)",
            "must be a path in the event",
        ),
        (
            write_with(&format!("for_each = \"data.object.lines\"\n  {key}\n  delete_missing = {{ field = \"P r.Id\", path = \"data.object.id\" }}"), ""),
            "write 1 (Order_Line__c)",
            "is not a Salesforce API name",
        ),
        (
            write_with(r#"target = { query_all = "Sku__c", path = "a", otherwise = { external_id = "K__c", path = "b" } }"#, ""),
            "target",
            "takes no `otherwise`",
        ),
        (
            write_with(r#"target = { external_id = "K__c", path = "a", template = "{b}" }"#, ""),
            "target",
            "either `path` or `template`",
        ),
        (
            write_with(r#"target = { external_id = "K__c", template = "no placeholder" }"#, ""),
            "target",
            "has no {placeholder}",
        ),
        (write_with(key, r#"A__c = { path = "a", add = 1 }"#), "field A__c", "`add` only goes with transform \"number\""),
        (
            write_with(key, r#"A__c = { path = "a", default = 1, optional = true }"#),
            "field A__c",
            "remove `optional`",
        ),
        (write_with(key, r#"A__c = { constant = 1, default = 2 }"#), "field A__c", "written as given"),
        (
            write_with(key, r#"A__c = { path = "a", transform = "money_decimal" }"#),
            "field A__c",
            "needs `currency_path`",
        ),
        (
            write_with(key, r#"C__c = { path = "a", lookup = { external_id_field = "X__c", only_if_exists = true } }"#),
            "field C__c",
            "needs `sobject`",
        ),
        (
            write_with(key, r#"C__c = { path = "a", lookup = { relationship = "C__r", sobject = "Contact", external_id_field = "X__c", only_if_exists = true } }"#),
            "field C__c",
            "remove `relationship`",
        ),
        (
            write_with(key, r#"C__c = { path = "a", lookup = { sobject = "Contact", external_id_field = "X__c" } }"#),
            "field C__c",
            "goes with `only_if_exists = true`",
        ),
        (write_with(key, r#"A__c = { path = "$nope" }"#), "field A__c", "is unknown ($item, $previous, $number)"),
        (write_with(key, r#"A__c = { template = "{a" }"#), "field A__c", "never closed"),
    ];
    for (text, place, expected) in cases {
        let message = refused(&text);
        assert!(message.contains(expected), "{text}\n→ {message}");
        assert!(
            message.contains(&format!("rule for order.updated, {place}"))
                || message.contains(&format!(
                    "rule for order.updated, write 1 (Order_Line__c), {place}"
                )),
            "{place}: {message}"
        );
    }
}
