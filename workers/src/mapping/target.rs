//! Which record a write goes to: the `[rule.write.target]` of the mapping file.
//!
//! A target reads a key value from the event (from its paths, or fills its template) and
//! becomes a [`RecordTarget`]. When the value is missing (or, for `salesforce_id`, is not a
//! Salesforce id) the `otherwise` target is used; for `query` targets, `otherwise` also
//! becomes the fallback for "the query found nothing".

use serde_json::{Map, Value};

use super::path::{first_present, JsonPath, Lookup, Scope};
use super::record::RecordTarget;
use super::template::Template;

/// How the key value is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetKind {
    /// Upsert by this external id field.
    ExternalId(String),
    /// Find by SOQL on this field.
    Query(String),
    /// Update every record whose field has the value.
    QueryAll(String),
    /// The value is a Salesforce record id.
    SalesforceId,
}

/// A compiled target. The key comes from `paths` or, when it is set, from `template`
/// (then `paths` is empty).
#[derive(Debug, Clone)]
pub(crate) struct TargetRule {
    pub kind: TargetKind,
    pub paths: Vec<JsonPath>,
    pub template: Option<Template>,
    pub otherwise: Option<Box<TargetRule>>,
}

/// A key value that is neither text nor an integer (e.g. an expanded object).
#[derive(Debug)]
pub(crate) struct BadKey {
    pub path: String,
    pub field: String,
    pub reason: String,
}

impl TargetRule {
    /// Resolves the target in `scope`: `Ok(None)` when no target in the chain has a value.
    pub(crate) fn resolve(&self, scope: Scope<'_>) -> Result<Option<RecordTarget>, BadKey> {
        let key = self.key(scope)?;
        let otherwise = |scope| match &self.otherwise {
            Some(next) => next.resolve(scope),
            None => Ok(None),
        };
        match (&self.kind, key) {
            (TargetKind::ExternalId(field), Some(value)) => Ok(Some(RecordTarget::ExternalId {
                field: field.clone(),
                value,
            })),
            (TargetKind::SalesforceId, Some(value)) if is_salesforce_id(&value) => {
                Ok(Some(RecordTarget::SalesforceId(value)))
            }
            (TargetKind::Query(field), Some(value)) => Ok(Some(RecordTarget::Query {
                field: field.clone(),
                value,
                fallback: otherwise(scope)?.map(Box::new),
            })),
            (TargetKind::QueryAll(field), Some(value)) => Ok(Some(RecordTarget::QueryAll {
                field: field.clone(),
                value,
            })),
            _ => otherwise(scope),
        }
    }

    /// The field the target keys on, for messages (`Id` for Salesforce ids).
    pub(crate) fn field_name(&self) -> &str {
        match &self.kind {
            TargetKind::ExternalId(field)
            | TargetKind::Query(field)
            | TargetKind::QueryAll(field) => field,
            TargetKind::SalesforceId => "Id",
        }
    }

    /// Every path and template of the chain as written, for messages.
    pub(crate) fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.paths.iter().map(JsonPath::to_string).collect();
        sources.extend(self.template.iter().map(Template::to_string));
        if let Some(next) = &self.otherwise {
            sources.extend(next.sources());
        }
        sources
    }

    fn key(&self, scope: Scope<'_>) -> Result<Option<String>, BadKey> {
        if let Some(template) = &self.template {
            return template.render(scope).map_err(|bad| BadKey {
                path: bad.path,
                field: self.field_name().to_owned(),
                reason: bad.reason,
            });
        }
        let (lookup, winner) = first_present(&self.paths, scope);
        let value = match lookup {
            Lookup::Found(value) => value,
            Lookup::Null | Lookup::Absent => return Ok(None),
        };
        match value {
            Value::String(text) if text.trim().is_empty() => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            Value::Number(number) if number.is_i64() || number.is_u64() => {
                Ok(Some(number.to_string()))
            }
            // A Salesforce id target tolerates anything: it is just "not an id".
            _ if self.kind == TargetKind::SalesforceId => Ok(None),
            other => Err(BadKey {
                path: winner.map(JsonPath::to_string).unwrap_or_default(),
                field: self.field_name().to_owned(),
                reason: format!("expected an id (text), got {other}"),
            }),
        }
    }
}

/// Adds every external id of `target` (and of its query fallbacks) to `fields`, unless the
/// mapping already set that field explicitly: Collections upsert and Bulk CSV need it.
pub(crate) fn add_external_ids(target: &RecordTarget, fields: &mut Map<String, Value>) {
    match target {
        RecordTarget::ExternalId { field, value } => {
            fields
                .entry(field.clone())
                .or_insert_with(|| Value::String(value.clone()));
        }
        RecordTarget::Query {
            fallback: Some(fallback),
            ..
        } => add_external_ids(fallback, fields),
        RecordTarget::Query { fallback: None, .. }
        | RecordTarget::QueryAll { .. }
        | RecordTarget::SalesforceId(_) => {}
    }
}

/// Whether `text` looks like a Salesforce record id: 15 case-sensitive alphanumerics, or 18
/// whose last three characters are the correct case-insensitivity checksum. A Checkout
/// Session's `client_reference_id` can hold anything the merchant chose, so the check is
/// strict to avoid updating by a "record id" that is really some other reference.
pub fn is_salesforce_id(text: &str) -> bool {
    const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let bytes = text.as_bytes();
    if !(bytes.len() == 15 || bytes.len() == 18) || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    if bytes.len() == 15 {
        return true;
    }
    bytes[..15]
        .chunks(5)
        .zip(&bytes[15..])
        .all(|(chunk, check)| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, byte)| byte.is_ascii_uppercase())
                .fold(0_usize, |bits, (position, _)| bits | (1 << position));
            CHECKSUM_ALPHABET[bits].eq_ignore_ascii_case(check)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(kind: TargetKind, path: &str, otherwise: Option<TargetRule>) -> TargetRule {
        TargetRule {
            kind,
            paths: vec![JsonPath::parse(path).unwrap()],
            template: None,
            otherwise: otherwise.map(Box::new),
        }
    }

    fn checkout_target() -> TargetRule {
        let upsert = rule(
            TargetKind::ExternalId("Sub_ID__c".into()),
            "data.object.subscription",
            None,
        );
        let query = rule(
            TargetKind::Query("Session_ID__c".into()),
            "data.object.id",
            Some(upsert),
        );
        rule(
            TargetKind::SalesforceId,
            "data.object.client_reference_id",
            Some(query),
        )
    }

    #[test]
    fn salesforce_ids_are_recognised() {
        assert!(is_salesforce_id("a02xx0000000001"));
        assert!(is_salesforce_id("001D000000Kv3g5IAB"));
        assert!(is_salesforce_id("a02000000000001AAA"));
        assert!(!is_salesforce_id("a02000000000001AAB"));
        assert!(!is_salesforce_id("user_123"));
        assert!(!is_salesforce_id("cs_test_1234567"));
        assert!(!is_salesforce_id(""));
    }

    #[test]
    fn client_reference_id_wins_when_it_is_a_record_id() {
        let event = json!({"data": {"object": {"client_reference_id": "a02000000000001AAA", "id": "cs_1", "subscription": "sub_1"}}});
        assert_eq!(
            checkout_target().resolve(Scope::event(&event)).unwrap(),
            Some(RecordTarget::SalesforceId("a02000000000001AAA".into()))
        );
    }

    #[test]
    fn otherwise_query_with_upsert_fallback() {
        let event = json!({"data": {"object": {"client_reference_id": "order-17", "id": "cs_1", "subscription": "sub_1"}}});
        let expected = RecordTarget::Query {
            field: "Session_ID__c".into(),
            value: "cs_1".into(),
            fallback: Some(Box::new(RecordTarget::ExternalId {
                field: "Sub_ID__c".into(),
                value: "sub_1".into(),
            })),
        };
        assert_eq!(
            checkout_target().resolve(Scope::event(&event)).unwrap(),
            Some(expected)
        );
        let mut fields = Map::new();
        add_external_ids(
            &checkout_target()
                .resolve(Scope::event(&event))
                .unwrap()
                .unwrap(),
            &mut fields,
        );
        assert_eq!(Value::Object(fields), json!({"Sub_ID__c": "sub_1"}));
    }

    #[test]
    fn query_without_fallback_value_has_no_fallback() {
        let event = json!({"data": {"object": {"client_reference_id": null, "id": "cs_1", "subscription": null}}});
        let resolved = checkout_target().resolve(Scope::event(&event)).unwrap();
        assert!(matches!(
            resolved,
            Some(RecordTarget::Query { fallback: None, .. })
        ));
    }

    #[test]
    fn objects_are_not_ids() {
        let target = rule(TargetKind::ExternalId("X__c".into()), "a", None);
        let resolve = |event: Value| target.resolve(Scope::event(&event));
        let error = resolve(json!({"a": {"id": "cus_1"}})).unwrap_err();
        assert_eq!((error.path.as_str(), error.field.as_str()), ("a", "X__c"));
        assert_eq!(resolve(json!({"a": ""})).unwrap(), None);
        assert_eq!(
            resolve(json!({"a": 42})).unwrap(),
            Some(RecordTarget::ExternalId {
                field: "X__c".into(),
                value: "42".into()
            })
        );
    }

    #[test]
    fn templates_build_keys_and_query_all_matches_every_record() {
        let keyed = TargetRule {
            kind: TargetKind::ExternalId("Key__c".into()),
            paths: Vec::new(),
            template: Some(Template::parse("{a}#{b}").unwrap()),
            otherwise: None,
        };
        let event = json!({"a": "price_1", "b": 2});
        assert_eq!(
            keyed.resolve(Scope::event(&event)).unwrap(),
            Some(RecordTarget::ExternalId {
                field: "Key__c".into(),
                value: "price_1#2".into()
            })
        );
        assert_eq!(
            keyed.resolve(Scope::event(&json!({"a": "x"}))).unwrap(),
            None
        );
        let every = rule(TargetKind::QueryAll("Product__c".into()), "a", None);
        let target = every.resolve(Scope::event(&event)).unwrap().unwrap();
        assert_eq!(
            target,
            RecordTarget::QueryAll {
                field: "Product__c".into(),
                value: "price_1".into()
            }
        );
        let mut fields = Map::new();
        add_external_ids(&target, &mut fields);
        assert!(fields.is_empty(), "a query target writes no key field");
    }
}
