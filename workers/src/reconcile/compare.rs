//! The pure half of the reconciliation: what the mapping would write for a Stripe object,
//! and how that differs from the Salesforce record.
//!
//! A Stripe object is mapped as the `*.updated` event of its current state would be (the
//! same rules, the same transforms), so the comparison says exactly what the fleet would
//! write now. Compared: the event's own record (the main write found by external id, not
//! an aspect another object owns), field by field, except the fence (event time and id,
//! which no listed object has) and lookups (relationships the record holds by id).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::mapping::{
    inspect::TargetView, Mapping, MappingError, RecordTarget, RecordWrite, WriteRole,
};

/// Field API names to the values the mapping would write.
pub type Fields = Map<String, Value>;

/// Where an object kind's records live: found from the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHome {
    /// The sObject, e.g. `Stripe_Customer__c`.
    pub sobject: String,
    /// Its external id field, e.g. `Stripe_Customer_ID__c`.
    pub key_field: String,
}

/// The record the mapping writes for events of `event_type`: its first main write with an
/// external id in its target. `None` when the mapping has none.
pub fn home(mapping: &Mapping, event_type: &str) -> Option<RecordHome> {
    mapping.writes().into_iter().find_map(|write| {
        if write.role != WriteRole::Main || !write.events.iter().any(|e| e == event_type) {
            return None;
        }
        // The first external id in the target's chain: a write that prefers a Salesforce id
        // (a subscription bought for a Salesforce record) falls back to it otherwise.
        write.targets.iter().find_map(|target| match target {
            TargetView::ExternalId(field) => Some(RecordHome {
                sobject: write.sobject.to_owned(),
                key_field: (*field).to_owned(),
            }),
            _ => None,
        })
    })
}

/// The event a reconciliation maps (and, with `--repair`, enqueues) for an object's
/// current state.
pub fn synthetic_event(event_id: &str, event_type: &str, created: i64, object: &Value) -> Value {
    json!({
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "data": { "object": object },
    })
}

/// The fields the mapping would write to `home`'s record for `event` (the key among
/// them), without the fence and lookups; `None` when the event writes no such record.
pub fn expected_fields(
    mapping: &Mapping,
    home: &RecordHome,
    event: &Value,
) -> Result<Option<(String, Fields)>, MappingError> {
    let mapped = mapping.map_event(event)?;
    let fence: Vec<&str> = mapping
        .fence()
        .map(|f| vec![f.event_time_field.as_str(), f.event_id_field.as_str()])
        .unwrap_or_default();
    Ok(mapped.writes.into_iter().find_map(|write: RecordWrite| {
        if write.role != WriteRole::Main || write.aspect.is_some() || write.sobject != home.sobject
        {
            return None;
        }
        let key = match &write.target {
            RecordTarget::ExternalId { field, value } if *field == home.key_field => value.clone(),
            // Found another way (its Salesforce id): the key is among the fields it writes.
            _ => write.fields.get(&home.key_field)?.as_str()?.to_owned(),
        };
        let fields = write
            .fields
            .into_iter()
            .filter(|(name, value)| !fence.contains(&name.as_str()) && !value.is_object())
            .collect();
        Some((key, fields))
    }))
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDifference {
    /// The field's API name.
    pub field: String,
    /// What Salesforce holds.
    pub salesforce: Value,
    /// What the mapping would write from Stripe's object.
    pub stripe: Value,
}

/// One finding of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Stripe has the object; Salesforce has no record for it.
    MissingInSalesforce {
        /// The external id.
        key: String,
    },
    /// Both have it; fields differ.
    Different {
        /// The external id.
        key: String,
        /// The fields that differ.
        fields: Vec<FieldDifference>,
    },
    /// Salesforce has a record Stripe does not list (deleted in Stripe, or never from it).
    UnknownToStripe {
        /// The external id.
        key: String,
    },
}

impl Finding {
    /// The external id the finding is about.
    pub fn key(&self) -> &str {
        match self {
            Self::MissingInSalesforce { key }
            | Self::Different { key, .. }
            | Self::UnknownToStripe { key } => key,
        }
    }
}

/// Compares the expected records (by key) with Salesforce's (`records`, as SOQL answers
/// them), in key order.
pub fn compare(
    home: &RecordHome,
    expected: &BTreeMap<String, Map<String, Value>>,
    records: &[Value],
) -> Vec<Finding> {
    let by_key: BTreeMap<&str, &Value> = records
        .iter()
        .filter_map(|r| {
            r.get(&home.key_field)
                .and_then(Value::as_str)
                .map(|k| (k, r))
        })
        .collect();
    let mut findings = Vec::new();
    for (key, fields) in expected {
        let Some(record) = by_key.get(key.as_str()) else {
            findings.push(Finding::MissingInSalesforce { key: key.clone() });
            continue;
        };
        let differences: Vec<FieldDifference> = fields
            .iter()
            .filter_map(|(field, stripe)| {
                let salesforce = record.get(field).unwrap_or(&Value::Null);
                (!same_value(stripe, salesforce)).then(|| FieldDifference {
                    field: field.clone(),
                    salesforce: salesforce.clone(),
                    stripe: stripe.clone(),
                })
            })
            .collect();
        if !differences.is_empty() {
            findings.push(Finding::Different {
                key: key.clone(),
                fields: differences,
            });
        }
    }
    let known: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    for key in by_key.keys() {
        if !known.contains(key) {
            findings.push(Finding::UnknownToStripe {
                key: (*key).to_owned(),
            });
        }
    }
    findings
}

/// Whether a value the mapping would write and the value Salesforce answers mean the same:
/// null and empty text alike (Salesforce stores no empty text), numbers by value (`30` and
/// `30.0`, or a decimal sent as text), instants by the moment (`…Z` and `…+0000`).
pub fn same_value(stripe: &Value, salesforce: &Value) -> bool {
    let blank = |v: &Value| v.is_null() || v.as_str() == Some("");
    if blank(stripe) || blank(salesforce) {
        return blank(stripe) && blank(salesforce);
    }
    if stripe == salesforce {
        return true;
    }
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    if let (Some(a), Some(b)) = (number(stripe), number(salesforce)) {
        return (a - b).abs() < 1e-9;
    }
    let instant = |v: &Value| v.as_str().and_then(parse_instant);
    if let (Some(a), Some(b)) = (instant(stripe), instant(salesforce)) {
        return a == b;
    }
    false
}

/// An ISO-8601 instant with `Z` or a `+0000`-style offset, as Salesforce writes them.
fn parse_instant(text: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
        .ok()
        .and_then(|parsed| parsed.to_timestamp().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customers() -> RecordHome {
        home(&Mapping::builtin(), "customer.updated").expect("customers have a home")
    }

    #[test]
    fn the_mapping_says_where_customers_live() {
        assert_eq!(
            customers(),
            RecordHome {
                sobject: "Stripe_Customer__c".into(),
                key_field: "Stripe_Customer_ID__c".into()
            }
        );
    }

    #[test]
    fn a_customer_is_expected_as_its_update_event_writes_it() {
        let object = json!({"id": "cus_1", "object": "customer", "email": "ada@example.com",
            "name": "Ada", "phone": null, "invoice_settings": {}});
        let event = synthetic_event("evt_r", "customer.updated", 100, &object);
        let (key, fields) = expected_fields(&Mapping::builtin(), &customers(), &event)
            .unwrap()
            .unwrap();
        assert_eq!(key, "cus_1");
        assert_eq!(fields["Customer_Name__c"], "Ada");
        assert_eq!(fields["Stripe_Customer_ID__c"], "cus_1");
        assert!(
            !fields.contains_key("Last_Stripe_Event_At__c"),
            "{fields:?}"
        );
    }

    #[test]
    fn findings_name_missing_different_and_unknown_records() {
        let home = customers();
        let mut expected = BTreeMap::new();
        let fields = |name: &str| {
            let mut map = Map::new();
            map.insert("Stripe_Customer_ID__c".into(), json!("x"));
            map.insert("Customer_Name__c".into(), json!(name));
            map
        };
        expected.insert("cus_a".to_owned(), fields("Ada"));
        expected.insert("cus_b".to_owned(), fields("Grace"));
        expected.insert("cus_c".to_owned(), fields("Edsger"));
        let records = vec![
            json!({"Stripe_Customer_ID__c": "cus_a", "Customer_Name__c": "Ada"}),
            json!({"Stripe_Customer_ID__c": "cus_b", "Customer_Name__c": "Hand edited"}),
            json!({"Stripe_Customer_ID__c": "cus_z", "Customer_Name__c": "Who"}),
        ];
        // The key field itself is compared too; fix it per record.
        for key in ["cus_a", "cus_b", "cus_c"] {
            expected
                .get_mut(key)
                .unwrap()
                .insert("Stripe_Customer_ID__c".into(), json!(key));
        }
        let findings = compare(&home, &expected, &records);
        assert_eq!(
            findings,
            vec![
                Finding::Different {
                    key: "cus_b".into(),
                    fields: vec![FieldDifference {
                        field: "Customer_Name__c".into(),
                        salesforce: json!("Hand edited"),
                        stripe: json!("Grace"),
                    }],
                },
                Finding::MissingInSalesforce {
                    key: "cus_c".into()
                },
                Finding::UnknownToStripe {
                    key: "cus_z".into()
                },
            ]
        );
    }

    #[test]
    fn values_compare_by_meaning() {
        assert!(same_value(&json!(null), &json!("")));
        assert!(same_value(&json!(30), &json!(30.0)));
        assert!(same_value(&json!("30.00"), &json!(30)));
        assert!(same_value(
            &json!("2026-12-04T10:00:00Z"),
            &json!("2026-12-04T10:00:00.000+0000")
        ));
        assert!(!same_value(&json!("Ada"), &json!("ada")));
        assert!(!same_value(&json!(null), &json!("x")));
    }
}
