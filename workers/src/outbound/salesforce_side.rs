//! The Salesforce calls of the outbound direction: reading the records a batch's changes
//! name (one SOQL query per object and batch), reading records changed since a time (the
//! catch-up). Results go back through [`super::write_back`].

use std::collections::HashMap;

use jiff::Timestamp;
use salesforce_client::{soql::quote, SalesforceClient, SalesforceError};
use serde_json::{Map, Value};

use super::{
    change::{Change, ChangeKind},
    rules::OutboundRules,
};

/// Most ids in one `WHERE Id IN (...)`: well under SOQL's 100,000-character statement.
const IDS_PER_QUERY: usize = 200;

/// How far before the stored commit time a catch-up reads, for commits whose events were
/// still on their way when the position was stored.
pub const CATCH_UP_OVERLAP_MS: i64 = 60_000;

/// The fields a record of `entity` is read with, or `None` when it has no rule.
fn select_list(rules: &OutboundRules, entity: &str) -> Option<String> {
    let fields = if entity.eq_ignore_ascii_case(&rules.contacts.sobject) {
        rules.contact_fields()
    } else if entity.eq_ignore_ascii_case(&rules.subscriptions.sobject) {
        rules.subscription_fields()
    } else {
        return None;
    };
    Some(fields.join(", "))
}

/// Reads the records `ids` of `entity`; answers them by id (a deleted one is absent).
pub async fn read_records(
    client: &SalesforceClient,
    rules: &OutboundRules,
    entity: &str,
    ids: &[String],
) -> Result<Vec<(String, Map<String, Value>)>, SalesforceError> {
    let Some(select) = select_list(rules, entity) else {
        return Ok(Vec::new());
    };
    let mut records = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let list = chunk
            .iter()
            .map(|id| quote(id))
            .collect::<Vec<_>>()
            .join(", ");
        let soql = format!("SELECT {select} FROM {entity} WHERE Id IN ({list})");
        records.extend(client.query(&soql).await?.into_iter().filter_map(by_id));
    }
    Ok(records)
}

/// The Stripe price of each subscription record in `ids` that a plan record points at, by
/// the record's 15-character id (one query).
pub async fn plan_prices(
    client: &SalesforceClient,
    rules: &OutboundRules,
    ids: &[String],
) -> Result<HashMap<String, String>, SalesforceError> {
    let plan = &rules.subscriptions.plan;
    let mut prices = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let list = chunk
            .iter()
            .map(|id| quote(id))
            .collect::<Vec<_>>()
            .join(", ");
        let soql = format!(
            "SELECT {price}, {parent} FROM {object} WHERE {parent} IN ({list}) AND {price} != null",
            price = plan.price_field,
            parent = plan.subscription_field,
            object = plan.sobject,
        );
        for record in client.query(&soql).await? {
            let (Some(parent), Some(price)) = (
                record.get(&plan.subscription_field).and_then(Value::as_str),
                record.get(&plan.price_field).and_then(Value::as_str),
            ) else {
                continue;
            };
            prices
                .entry(parent.get(..15).unwrap_or(parent).to_owned())
                .or_insert_with(|| price.to_owned());
        }
    }
    Ok(prices)
}

/// Changes for every record of `entity` modified since `since_ms` (less the overlap), as
/// complete syncs: what a subscriber missed when its replay id was refused or Salesforce
/// reported a gap.
pub async fn changes_since(
    client: &SalesforceClient,
    rules: &OutboundRules,
    entity: &str,
    since_ms: i64,
) -> Result<Vec<Change>, SalesforceError> {
    let Some(select) = select_list(rules, entity) else {
        return Ok(Vec::new());
    };
    let since = Timestamp::from_millisecond(since_ms.saturating_sub(CATCH_UP_OVERLAP_MS).max(0))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let soql = format!(
        "SELECT {select}, LastModifiedDate FROM {entity} WHERE LastModifiedDate >= {} ORDER BY LastModifiedDate",
        since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    );
    let records = client.query(&soql).await?;
    Ok(records
        .into_iter()
        .filter_map(by_id)
        .map(|(id, fields)| {
            let modified = fields
                .get("LastModifiedDate")
                .and_then(Value::as_str)
                .and_then(parse_datetime)
                .unwrap_or(since_ms);
            Change {
                entity: entity.to_owned(),
                record_id: id,
                kind: ChangeKind::Sync,
                commit_timestamp: modified,
                commit_number: 0,
                sequence_number: 0,
                commit_user: String::new(),
                changed_fields: Vec::new(),
                fields,
                complete: true,
            }
        })
        .collect())
}

/// A Salesforce datetime (`2026-12-04T10:00:00.000+0000`) as Unix ms.
fn parse_datetime(text: &str) -> Option<i64> {
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
        .ok()?
        .to_timestamp()
        .ok()
        .map(|timestamp| timestamp.as_millisecond())
}

fn by_id(record: Value) -> Option<(String, Map<String, Value>)> {
    let Value::Object(mut fields) = record else {
        return None;
    };
    fields.remove("attributes");
    let id = fields.get("Id")?.as_str()?.to_owned();
    Some((id, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_datetimes_parse_to_milliseconds() {
        assert_eq!(
            parse_datetime("2026-12-04T10:00:00.250+0000"),
            Some(1_796_378_400_250)
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
