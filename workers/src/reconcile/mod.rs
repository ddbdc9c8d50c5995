//! `workers reconcile [--objects customers,subscriptions,prices] [--repair] [--json]`:
//! compares Stripe's objects (list APIs) with the Salesforce records the mapping would
//! produce from them (SOQL, paged), field by field, and reports what is missing in
//! Salesforce, what differs, and what Salesforce has that Stripe does not list.
//!
//! `--repair` sends fixes through the normal pipeline, never around it: for each object
//! missing or different it enqueues a synthetic `*.updated` event carrying the object as
//! listed (`evt_reconcile_<object id>_<listing time>`), through the bridge's routing and
//! idempotent enqueue. The consumers then apply it like any event: the global limiter,
//! claims and newest wins per record, the fence in Salesforce. Its `created` is the second
//! the listing started, so a real event of a later change wins over it, and it wins over
//! every event the listing already reflects. Records unknown to Stripe are reported only
//! (deleting Salesforce data is an operator's decision).

pub mod compare;
mod report;

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Args, ValueEnum};
use common::time::{unix_millis, unix_seconds};
use salesforce_client::SalesforceClient;
use serde_json::{Map, Value};
use stripe_client::{Page, StripeClient};
use tokio_util::sync::CancellationToken;

use crate::{
    bridge::{
        intake::{self, Intake},
        routing::RoutingRules,
    },
    config::{FleetConfig, StripeConfig},
    consumer::ConsumerConfig,
    guard::{CallRate, SlidingWindowLimiter, StripeBudget},
    mapping::Mapping,
    store::{self, EventStore, Priority},
};
use compare::{expected_fields, home, synthetic_event, Finding, RecordHome};
pub use report::{ObjectReport, Report};

/// The Stripe objects reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectKind {
    /// `GET /v1/customers` → the `customer.updated` rule's record.
    Customers,
    /// `GET /v1/subscriptions?status=all` → the `customer.subscription.updated` rule's.
    Subscriptions,
    /// `GET /v1/prices` → the `price.updated` rule's.
    Prices,
}

impl ObjectKind {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Subscriptions => "subscriptions",
            Self::Prices => "prices",
        }
    }

    fn list_path(self) -> &'static str {
        match self {
            Self::Customers => "/v1/customers",
            Self::Subscriptions => "/v1/subscriptions",
            Self::Prices => "/v1/prices",
        }
    }

    /// The event whose rule maps the object's current state.
    fn event_type(self) -> &'static str {
        match self {
            Self::Customers => "customer.updated",
            Self::Subscriptions => "customer.subscription.updated",
            Self::Prices => "price.updated",
        }
    }
}

/// Arguments of `workers reconcile`.
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// The objects to compare, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "customers,subscriptions,prices"
    )]
    pub objects: Vec<ObjectKind>,
    /// Enqueue a synthetic event for each object missing or different in Salesforce.
    #[arg(long)]
    pub repair: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Routing rules for `--repair` (default: the built-in rules); the bridge's.
    #[arg(long = "routing-file", env = "ROUTING_FILE", value_parser = crate::config::routing_file)]
    pub routing_file: Option<RoutingRules>,
}

/// What the reconciliation talks to.
struct Sides {
    stripe: StripeClient,
    salesforce: SalesforceClient,
    mapping: Mapping,
    store: EventStore,
    routing: RoutingRules,
}

/// Runs the comparison (and the repairs) for every kind asked for.
pub async fn run(
    fleet: &FleetConfig,
    stripe: &StripeConfig,
    consumer: &ConsumerConfig,
    args: &ReconcileArgs,
) -> anyhow::Result<Report> {
    let sides = connect(fleet, stripe, consumer, args)?;
    let mut report = Report::default();
    for kind in &args.objects {
        let object = reconcile(&sides, *kind, args.repair)
            .await
            .with_context(|| format!("reconciling {}", kind.name()))?;
        report.objects.push(object);
    }
    Ok(report)
}

fn connect(
    fleet: &FleetConfig,
    stripe: &StripeConfig,
    consumer: &ConsumerConfig,
    args: &ReconcileArgs,
) -> anyhow::Result<Sides> {
    let conn = store::connect(&fleet.redis_url).context("REDIS_URL")?;
    let keys = fleet.keys();
    let shutdown = CancellationToken::new();
    let budget = StripeBudget::new(
        conn.clone(),
        &keys,
        stripe.requests_per_second(),
        &fleet.worker_id,
        shutdown.clone(),
    );
    let stripe_client =
        StripeClient::new(stripe.settings(), budget).context("the Stripe client")?;
    let limiter = SlidingWindowLimiter::new(
        conn.clone(),
        keys.clone(),
        CallRate {
            calls: consumer.calls_per_window,
            window: consumer.window,
        },
        Priority::Low,
        consumer.budget,
        &fleet.worker_id,
        shutdown,
    );
    let salesforce = SalesforceClient::new(
        consumer.salesforce.settings()?,
        store::coordination(conn.clone(), &keys, limiter),
    )?;
    Ok(Sides {
        stripe: stripe_client,
        salesforce,
        mapping: consumer.mapping.load_checked()?,
        store: EventStore::new(conn, keys, fleet.dedupe_window, fleet.lifecycle_retention),
        routing: args
            .routing_file
            .clone()
            .unwrap_or_else(RoutingRules::builtin),
    })
}

/// One kind: list, map, query, compare, repair.
async fn reconcile(sides: &Sides, kind: ObjectKind, repair: bool) -> anyhow::Result<ObjectReport> {
    let home = home(&sides.mapping, kind.event_type()).with_context(|| {
        format!(
            "the mapping has no record written by external id for {}",
            kind.event_type()
        )
    })?;
    let listed_at = unix_seconds();
    let objects = list_all(&sides.stripe, kind).await?;
    let mut expected: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut sources: BTreeMap<String, Value> = BTreeMap::new();
    for object in objects {
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
        let event = synthetic_event(
            &format!("evt_reconcile_{id}_{listed_at}"),
            kind.event_type(),
            listed_at,
            &object,
        );
        if let Some((key, fields)) = expected_fields(&sides.mapping, &home, &event)? {
            sources.insert(key.clone(), event);
            expected.insert(key, fields);
        }
    }
    let records = sides.salesforce.query(&soql(&home, &expected)).await?;
    let findings = compare::compare(&home, &expected, &records);
    let mut repaired = 0;
    if repair {
        for finding in &findings {
            if matches!(finding, Finding::UnknownToStripe { .. }) {
                continue;
            }
            if let Some(event) = sources.get(finding.key()) {
                if enqueue(sides, event).await? {
                    repaired += 1;
                }
            }
        }
    }
    Ok(ObjectReport {
        object: kind.name(),
        sobject: home.sobject,
        in_stripe: expected.len(),
        in_salesforce: records.len(),
        findings,
        repairs_enqueued: repaired,
    })
}

/// Every object of the list, 100 per request (subscriptions with `status=all`: the list
/// leaves canceled ones out by default).
async fn list_all(client: &StripeClient, kind: ObjectKind) -> anyhow::Result<Vec<Value>> {
    #[derive(serde::Serialize)]
    struct Filter {
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<&'static str>,
        #[serde(flatten)]
        page: Page,
    }
    let mut objects = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let filter = Filter {
            status: (kind == ObjectKind::Subscriptions).then_some("all"),
            page: Page {
                limit: Some(100),
                starting_after: after.take(),
                ending_before: None,
            },
        };
        let page = client.list_objects(kind.list_path(), &filter).await?;
        after = page
            .data
            .last()
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        objects.extend(page.data);
        if !page.has_more || after.is_none() {
            return Ok(objects);
        }
    }
}

/// `SELECT Id, <key>, <every compared field> FROM <sObject>`: names come from the mapping,
/// never from data.
fn soql(home: &RecordHome, expected: &BTreeMap<String, Map<String, Value>>) -> String {
    let mut fields: Vec<&str> = vec!["Id", home.key_field.as_str()];
    for record in expected.values() {
        for name in record.keys() {
            if !fields.contains(&name.as_str()) {
                fields.push(name);
            }
        }
    }
    format!("SELECT {} FROM {}", fields.join(", "), home.sobject)
}

/// Enqueues a repair event like the bridge would; true when new.
async fn enqueue(sides: &Sides, event: &Value) -> anyhow::Result<bool> {
    match intake::classify(&event.to_string(), Some(unix_millis()), &sides.routing) {
        Intake::Event { priority, entry } => Ok(matches!(
            sides.store.enqueue(priority, &entry).await?,
            store::EnqueueOutcome::Added(_)
        )),
        Intake::NotAnEvent { reason } => anyhow::bail!("a repair event is refused: {reason}"),
    }
}
