//! `workers import [--objects customers,prices,subscriptions,payment_intents] [--fresh]
//! [--json]`: the initial import of an account's current state. Pages Stripe's list APIs
//! and writes each object through the bulk path: a synthetic `*.updated` event (its
//! current state, `evt_import_<object id>`, its `created` the listing second) enqueued on the **low**
//! stream whatever the routing says, so the bulk consumer writes it in Bulk API 2.0 jobs
//! of up to `BULK_BATCH_MAX` rows, under the limiter, newest wins and the fence. A later
//! real event of the object wins over it; an earlier one loses.
//!
//! Parents before children: the kinds run in the order customers, prices, subscriptions,
//! payment intents, each to its end before the next, so the stream holds every customer
//! before any subscription (and the mapping's parent stubs cover the rest).
//!
//! Resumable: after each page the kind's cursor and counts are saved in `{prefix}:import`;
//! the same command resumes there, and skips the kinds already done (`--fresh` starts
//! over). Objects created while the import runs are newer than its first page and not
//! listed by it: the webhooks (and the catch-up) bring their events.

use std::{collections::HashMap, time::Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use common::time::{unix_millis, unix_seconds};
use serde::Serialize;
use serde_json::Value;
use stripe_client::{Page, StripeClient};
use tokio_util::sync::CancellationToken;

use crate::{
    bridge::{intake, routing::RoutingRules},
    catchup::backfill::Progress,
    config::{FleetConfig, StripeConfig},
    guard::StripeBudget,
    reconcile::compare::synthetic_event,
    store::{self, CatchupStore, EnqueueOutcome, EventStore, Priority},
};

/// What can be imported, in the order parents come before children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// `GET /v1/customers` as `customer.updated`.
    Customers,
    /// `GET /v1/prices` as `price.updated`.
    Prices,
    /// `GET /v1/subscriptions?status=all` as `customer.subscription.updated`.
    Subscriptions,
    /// `GET /v1/payment_intents` as `payment_intent.succeeded` or `.payment_failed` by
    /// status; other statuses (processing, requires_action, ...) have no record yet.
    #[value(name = "payment_intents")]
    PaymentIntents,
}

impl ImportKind {
    fn name(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Prices => "prices",
            Self::Subscriptions => "subscriptions",
            Self::PaymentIntents => "payment_intents",
        }
    }

    fn list_path(self) -> &'static str {
        match self {
            Self::Customers => "/v1/customers",
            Self::Prices => "/v1/prices",
            Self::Subscriptions => "/v1/subscriptions",
            Self::PaymentIntents => "/v1/payment_intents",
        }
    }

    /// The event type an object's current state is written as; `None`: nothing to write.
    pub fn event_type(self, object: &Value) -> Option<&'static str> {
        match self {
            Self::Customers => Some("customer.updated"),
            Self::Prices => Some("price.updated"),
            Self::Subscriptions => Some("customer.subscription.updated"),
            Self::PaymentIntents => match object.get("status").and_then(Value::as_str) {
                Some("succeeded") => Some("payment_intent.succeeded"),
                Some("requires_payment_method" | "canceled") => {
                    Some("payment_intent.payment_failed")
                }
                _ => None,
            },
        }
    }
}

/// Arguments of `workers import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The objects to import, comma-separated (run parents first whatever the order).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "customers,prices,subscriptions,payment_intents"
    )]
    pub objects: Vec<ImportKind>,
    /// Start afresh even when an interrupted import could be resumed.
    #[arg(long)]
    pub fresh: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One kind's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindSummary {
    /// The kind.
    pub object: &'static str,
    /// Objects listed.
    pub listed: u64,
    /// Events enqueued on the low stream.
    pub enqueued: u64,
    /// Objects with nothing to write (a payment still processing) or already enqueued.
    pub skipped: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// Per kind, in import order.
    pub objects: Vec<KindSummary>,
    /// Whether an interrupted import was resumed.
    pub resumed: bool,
    /// Seconds this run took to list and enqueue (the bulk consumer writes after).
    pub seconds: f64,
}

impl ImportSummary {
    /// As printed: a line per kind, or JSON.
    pub fn render(&self, json: bool) -> String {
        if json {
            let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
            text.push('\n');
            return text;
        }
        let mut out = String::new();
        for kind in &self.objects {
            out.push_str(&format!(
                "{}: listed {}, enqueued {}, skipped {}\n",
                kind.object, kind.listed, kind.enqueued, kind.skipped
            ));
        }
        out.push_str(&format!(
            "import {}in {:.1}s; the bulk consumer writes the low stream to Salesforce\n",
            if self.resumed { "(resumed) " } else { "" },
            self.seconds
        ));
        out
    }
}

/// Runs (or resumes) the import until every kind is listed, or until `shutdown`.
pub async fn run(
    fleet: &FleetConfig,
    stripe: &StripeConfig,
    args: &ImportArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let conn = store::connect(&fleet.redis_url).context("REDIS_URL")?;
    let keys = fleet.keys();
    let budget = StripeBudget::new(
        conn.clone(),
        &keys,
        stripe.requests_per_second(),
        &fleet.worker_id,
        shutdown.clone(),
    );
    let client = StripeClient::new(stripe.settings(), budget).context("the Stripe client")?;
    let events = EventStore::new(
        conn.clone(),
        keys.clone(),
        fleet.dedupe_window,
        fleet.lifecycle_retention,
    );
    let state = CatchupStore::new(conn, keys);
    if args.fresh {
        state.clear_import().await?;
    }
    let saved = state.import_state().await?;
    let mut summary = ImportSummary {
        resumed: !saved.is_empty(),
        ..ImportSummary::default()
    };
    let mut kinds = args.objects.clone();
    kinds.sort();
    kinds.dedup();
    let mut progress = Progress::new();
    for kind in kinds {
        let counts = import_kind(
            &client,
            &events,
            &state,
            &saved,
            kind,
            &shutdown,
            &mut progress,
        )
        .await;
        progress.done();
        summary.objects.push(counts?);
    }
    state.clear_import().await?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn number(saved: &HashMap<String, String>, field: &str) -> u64 {
    saved.get(field).and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn import_kind(
    client: &StripeClient,
    events: &EventStore,
    state: &CatchupStore,
    saved: &HashMap<String, String>,
    kind: ImportKind,
    shutdown: &CancellationToken,
    progress: &mut Progress,
) -> anyhow::Result<KindSummary> {
    let name = kind.name();
    let field = |what: &str| format!("{name}:{what}");
    let mut counts = KindSummary {
        object: name,
        listed: number(saved, &field("listed")),
        enqueued: number(saved, &field("enqueued")),
        skipped: number(saved, &field("skipped")),
    };
    if saved.get(&field("done")).map(String::as_str) == Some("1") {
        return Ok(counts);
    }
    let mut cursor = saved
        .get(&field("cursor"))
        .cloned()
        .filter(|c| !c.is_empty());
    let routing = RoutingRules::builtin();
    loop {
        if shutdown.is_cancelled() {
            anyhow::bail!(
                "interrupted in {name}; the same command resumes there (--fresh starts over)"
            );
        }
        #[derive(Serialize)]
        struct Filter {
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<&'static str>,
            #[serde(flatten)]
            page: Page,
        }
        let filter = Filter {
            status: (kind == ImportKind::Subscriptions).then_some("all"),
            page: Page {
                limit: Some(100),
                starting_after: cursor.clone(),
                ending_before: None,
            },
        };
        let listed_at = unix_seconds();
        let page = client.list_objects(kind.list_path(), &filter).await?;
        let mut entries = Vec::with_capacity(page.data.len());
        for object in &page.data {
            counts.listed += 1;
            let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
            let Some(event_type) = kind.event_type(object) else {
                counts.skipped += 1;
                continue;
            };
            let event = synthetic_event(&format!("evt_import_{id}"), event_type, listed_at, object);
            // The routing rules only parse here; the import writes through the bulk path.
            match intake::classify(&event.to_string(), Some(unix_millis()), &routing) {
                intake::Intake::Event { entry, .. } => entries.push(entry),
                intake::Intake::NotAnEvent { .. } => counts.skipped += 1,
            }
        }
        // One round trip per page: each entry still its own idempotent script call.
        for outcome in events.enqueue_many(Priority::Low, &entries).await? {
            match outcome {
                EnqueueOutcome::Added(_) => counts.enqueued += 1,
                EnqueueOutcome::Duplicate(_) => counts.skipped += 1,
            }
        }
        if let Some(last) = page
            .data
            .last()
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
        {
            cursor = Some(last.to_owned());
        }
        let done = !page.has_more || page.data.is_empty();
        state
            .save_import(&[
                (field("cursor"), cursor.clone().unwrap_or_default()),
                (field("done"), if done { "1" } else { "0" }.to_owned()),
                (field("listed"), counts.listed.to_string()),
                (field("enqueued"), counts.enqueued.to_string()),
                (field("skipped"), counts.skipped.to_string()),
            ])
            .await?;
        progress.line(&format!(
            "{name}: listed {}, enqueued {}",
            counts.listed, counts.enqueued
        ));
        if done {
            return Ok(counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payment_intents_are_written_by_their_status() {
        let kind = ImportKind::PaymentIntents;
        assert_eq!(
            kind.event_type(&json!({"status": "succeeded"})),
            Some("payment_intent.succeeded")
        );
        assert_eq!(
            kind.event_type(&json!({"status": "requires_payment_method"})),
            Some("payment_intent.payment_failed")
        );
        assert_eq!(kind.event_type(&json!({"status": "processing"})), None);
    }

    #[test]
    fn parents_sort_before_children() {
        let mut kinds = vec![
            ImportKind::PaymentIntents,
            ImportKind::Subscriptions,
            ImportKind::Customers,
            ImportKind::Prices,
        ];
        kinds.sort();
        assert_eq!(
            kinds,
            vec![
                ImportKind::Customers,
                ImportKind::Prices,
                ImportKind::Subscriptions,
                ImportKind::PaymentIntents
            ]
        );
    }
}
