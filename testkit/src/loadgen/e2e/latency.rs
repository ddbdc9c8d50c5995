//! POST → record latency, read from the simulator's write histories after the run.
//!
//! Payments are new records: their latency is the first write of the record, and a second
//! write means the payment was applied twice. Pooled customers and subscriptions get several
//! versions: a version's latency is the first write at or after its POST was due that sets
//! the field the version changed (the customer's e-mail, unique per version; the
//! subscription's status, which repeats: a write of a status is not credited to a version
//! when a newer version with the same status had been sent by then). Versions overwritten
//! before being written have no latency. Also here: the API calls the simulator counted per
//! second.

use std::collections::HashMap;

use hdrhistogram::Histogram;
use serde_json::Value;

use super::{
    check::{get, get_if_found},
    plan::{Kind, Plan},
};
use crate::loadgen::chart::{Point, Series};

/// What the write histories tell.
pub(super) struct EndToEnd {
    /// Payments: first write minus the first due time, in microseconds.
    pub payments: Histogram<u64>,
    /// Payments whose record was written more than once.
    pub written_twice: usize,
    /// (seconds since the start of sending, latency in ms) per event, one series per kind.
    pub series: Vec<Series>,
}

impl Kind {
    /// The chart's name for the kind.
    fn label(self) -> &'static str {
        match self {
            Kind::Payment => "payments (payment_intent.succeeded)",
            Kind::Customer => "customers (customer.updated)",
            Kind::Subscription => "subscriptions (customer.subscription.updated)",
        }
    }

    /// Where a pooled kind's versions land: the Salesforce object, its external id field,
    /// the field that tells versions apart and the Stripe field it is mapped from.
    fn versioned_field(self) -> Option<[&'static str; 4]> {
        match self {
            Kind::Payment => None,
            Kind::Customer => Some([
                "Stripe_Customer__c",
                "Stripe_Customer_ID__c",
                "Customer_Email__c",
                "email",
            ]),
            Kind::Subscription => Some([
                "Stripe_Subscription__c",
                "Stripe_Subscription_ID__c",
                "Status__c",
                "status",
            ]),
        }
    }
}

/// Reads the write history of every payment's record and of every pooled object.
/// `first_due` maps each event (index into the plan) to when its first POST was due.
pub(super) async fn end_to_end(
    http: &reqwest::Client,
    sim: &str,
    plan: &Plan,
    first_due: &HashMap<usize, i64>,
    wall_start: i64,
) -> anyhow::Result<EndToEnd> {
    let point = |due: i64, at: i64| ((due - wall_start) as f64 / 1000.0, (at - due) as f64);
    let mut payments = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut written_twice = 0;
    let mut points: HashMap<Kind, Vec<Point>> = HashMap::new();
    let mut pooled: HashMap<(Kind, &str), Vec<usize>> = HashMap::new();
    for (index, event) in plan.events.iter().enumerate() {
        let kind = plan.kinds[index];
        if kind != Kind::Payment {
            pooled
                .entry((kind, event.object_id.as_str()))
                .or_default()
                .push(index);
            continue;
        }
        let history = get(
            http,
            &format!(
                "{sim}/__sim/history/Payment_Transaction__c/{}?by=Stripe_Payment_Intent_ID__c",
                event.object_id
            ),
        )
        .await?;
        let writes = history["writes"].as_array().cloned().unwrap_or_default();
        if writes.len() > 1 {
            written_twice += 1;
        }
        if let (Some(at), Some(&due)) = (
            writes.first().and_then(|w| w["at_ms"].as_i64()),
            first_due.get(&index),
        ) {
            payments.saturating_record(u64::try_from((at - due) * 1000).unwrap_or(1).max(1));
            points.entry(kind).or_default().push(point(due, at));
        }
    }
    for ((kind, object_id), versions) in pooled {
        let Some([object, id_field, field, stripe_field]) = kind.versioned_field() else {
            continue;
        };
        let url = format!("{sim}/__sim/history/{object}/{object_id}?by={id_field}");
        let Some(history) = get_if_found(http, &url).await? else {
            continue; // Never written: counted as lost by the check.
        };
        let writes = history["writes"].as_array().cloned().unwrap_or_default();
        let versions: Vec<Version> = versions
            .into_iter()
            .filter_map(|index| {
                let event = &plan.events[index];
                Some(Version {
                    created: event.created,
                    due_ms: *first_due.get(&index)?,
                    value: &event.json["data"]["object"][stripe_field],
                })
            })
            .collect();
        for version in &versions {
            if let Some(at) = first_write_of(&writes, field, version, &versions) {
                points
                    .entry(kind)
                    .or_default()
                    .push(point(version.due_ms, at));
            }
        }
    }
    let series = [Kind::Payment, Kind::Customer, Kind::Subscription]
        .into_iter()
        .map(|kind| {
            let mut points = points.remove(&kind).unwrap_or_default();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label: kind.label().to_owned(),
                points,
            }
        })
        .collect();
    Ok(EndToEnd {
        payments,
        written_twice,
        series,
    })
}

/// One version of a pooled object: what tells it apart in Salesforce and when it was sent.
struct Version<'a> {
    /// The event's `created` (newer wins).
    created: i64,
    /// When its first POST was due (epoch ms).
    due_ms: i64,
    /// The value it sets (the e-mail or the status).
    value: &'a Value,
}

/// When `version` reached Salesforce: the first write at or after its POST that sets `field`
/// to its value, unless a newer version of the object with the same value had been sent by
/// then (the write is that one's; `version` was overwritten). `versions` are all versions
/// of the object.
fn first_write_of(
    writes: &[Value],
    field: &str,
    version: &Version<'_>,
    versions: &[Version<'_>],
) -> Option<i64> {
    let superseded_by = |at: i64| {
        versions.iter().any(|other| {
            other.value == version.value && other.created > version.created && other.due_ms <= at
        })
    };
    writes
        .iter()
        .filter(|write| write["fields"][field] == *version.value)
        .filter_map(|write| write["at_ms"].as_i64())
        .find(|&at| at >= version.due_ms)
        .filter(|&at| !superseded_by(at))
}

/// Salesforce API calls the simulator counted in each second from `wall_start` (epoch ms)
/// on, as (seconds since `wall_start` at the middle of that second, calls). Empty if the
/// simulator has no timeline.
pub(super) async fn calls_per_second(
    http: &reqwest::Client,
    sim: &str,
    wall_start: i64,
) -> anyhow::Result<Vec<Point>> {
    let Some(timeline) = get_if_found(http, &format!("{sim}/__sim/calls/timeline")).await? else {
        return Ok(Vec::new());
    };
    Ok(seconds_since(&timeline, wall_start))
}

/// The `/__sim/calls/timeline` answer as points from `wall_start` on.
fn seconds_since(timeline: &Value, wall_start: i64) -> Vec<Point> {
    timeline["seconds"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| Some((entry["second"].as_i64()?, entry["calls"].as_f64()?)))
        .filter(|(second, _)| (second + 1) * 1000 > wall_start)
        .map(|(second, calls)| ((second * 1000 + 500 - wall_start) as f64 / 1000.0, calls))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_version_is_its_first_matching_write_after_the_post() {
        let writes = [
            json!({"at_ms": 900, "fields": {"Status__c": "active"}}),
            json!({"at_ms": 1_200, "fields": {"Status__c": "past_due"}}),
            json!({"at_ms": 5_500, "fields": {"Status__c": "active"}}),
        ];
        let (active, past_due, unpaid) = (json!("active"), json!("past_due"), json!("unpaid"));
        let version = |created, due_ms, value| Version {
            created,
            due_ms,
            value,
        };
        let versions = [
            version(1, 800, &active),
            version(2, 1_000, &past_due),
            version(3, 1_100, &unpaid),
            version(4, 5_000, &active),
        ];
        let latest = |v: &Version<'_>| first_write_of(&writes, "Status__c", v, &versions);
        assert_eq!(latest(&versions[0]), Some(900));
        assert_eq!(latest(&versions[1]), Some(1_200));
        assert_eq!(latest(&versions[2]), None, "never written");
        assert_eq!(latest(&versions[3]), Some(5_500));
        // Had the first version not been written at 900, the write at 5,500 would be the
        // fourth version's (sent by then), not a 4.7 s latency of the first.
        let late = [writes[1].clone(), writes[2].clone()];
        assert_eq!(
            first_write_of(&late, "Status__c", &versions[0], &versions),
            None
        );
    }

    #[test]
    fn the_timeline_counts_from_the_start() {
        let timeline = json!({"seconds": [
            {"second": 99, "calls": 4},
            {"second": 100, "calls": 25},
            {"second": 101, "calls": 23},
        ]});
        assert_eq!(
            seconds_since(&timeline, 100_250),
            vec![(0.25, 25.0), (1.25, 23.0)]
        );
    }
}
