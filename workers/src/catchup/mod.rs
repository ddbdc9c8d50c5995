//! Nothing missed: Stripe's own event list as a second source next to the webhooks.
//!
//! Webhooks can be lost to the fleet: an endpoint disabled or misconfigured, an outage
//! longer than Stripe's three days of retries, a secret rolled on one side only. Stripe
//! keeps every event for 30 days and lists it (`GET /v1/events`), so the fleet reads the
//! list and enqueues what it does not have, through the bridge's own idempotent enqueue
//! ([`enqueue`]): an event the webhooks already brought adds nothing.
//!
//! - [`backfill`]: `workers backfill`, an operator command: every event since an instant,
//!   oldest first, resumable.
//! - [`role`]: `workers catchup`, a role: every `CATCHUP_INTERVAL_SECS` the events since its
//!   watermark; one replica active at a time through a Redis lease.
//! - [`feed`]: the event list walked in the order each needs.

pub mod backfill;
pub mod enqueue;
pub mod feed;
pub mod role;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stripe_client::StripeClient;
use tokio_util::sync::CancellationToken;

use crate::{
    bridge::routing::RoutingRules,
    config::{FleetConfig, StripeConfig},
    guard::StripeBudget,
    keys::KeySpace,
    mapping::Mapping,
    store::{self, EventStore},
};
use enqueue::Enqueuer;
use feed::{EventFeed, TypeFilter};

/// What catch-up lists and how it routes: by default the event types the mapping handles
/// (the ingress's default filter too), routed by the bridge's rules.
#[derive(Debug, Clone, Default, Args)]
pub struct EventSource {
    /// The mapping whose event types are listed unless types are given (default: the
    /// built-in mapping).
    #[arg(long = "mapping-file", env = "MAPPING_FILE")]
    pub mapping_file: Option<PathBuf>,
    /// Routing rules, a TOML file (default: the built-in rules); the same as the bridge's.
    #[arg(long = "routing-file", env = "ROUTING_FILE", value_parser = crate::config::routing_file)]
    pub routing_file: Option<RoutingRules>,
}

impl EventSource {
    /// `chosen`, else the mapping's event types.
    pub fn types(&self, chosen: Option<&TypeFilter>) -> anyhow::Result<TypeFilter> {
        if let Some(chosen) = chosen {
            return Ok(chosen.clone());
        }
        let mapping = match &self.mapping_file {
            Some(path) => Mapping::from_file(path)?,
            None => Mapping::builtin(),
        };
        let mut types: Vec<String> = Vec::new();
        for event_type in mapping.event_types() {
            if !types.iter().any(|t| t == event_type) {
                types.push(event_type.to_owned());
            }
        }
        Ok(TypeFilter::Only(types))
    }

    /// The routing rules: `ROUTING_FILE`'s, else the built-in ones.
    pub fn routing(&self) -> RoutingRules {
        self.routing_file
            .clone()
            .unwrap_or_else(RoutingRules::builtin)
    }
}

/// What a backfill or the catch-up role works with: the feed, the enqueue and the Redis
/// connection, all from the fleet's settings.
pub struct Parts {
    /// Stripe's event list.
    pub feed: EventFeed,
    /// The bridge's enqueue.
    pub enqueuer: Enqueuer,
    /// The key layout.
    pub keys: KeySpace,
}

/// Builds the [`Parts`]: a Stripe client behind the fleet's shared budget (waits end with
/// `shutdown`), the event store with the bridge's dedupe window.
pub fn parts(
    fleet: &FleetConfig,
    stripe: &StripeConfig,
    source: &EventSource,
    types: TypeFilter,
    shutdown: CancellationToken,
) -> anyhow::Result<Parts> {
    let conn = store::connect(&fleet.redis_url).context("REDIS_URL")?;
    let keys = fleet.keys();
    let budget = StripeBudget::new(
        conn.clone(),
        &keys,
        stripe.requests_per_second(),
        &fleet.worker_id,
        shutdown,
    );
    let client = StripeClient::new(stripe.settings(), budget).context("the Stripe client")?;
    let store = EventStore::new(
        conn,
        keys.clone(),
        fleet.dedupe_window,
        fleet.lifecycle_retention,
    );
    Ok(Parts {
        feed: EventFeed::new(client, types),
        enqueuer: Enqueuer::new(store, source.routing()),
        keys,
    })
}
