//! `workers catchup`: the automatic catch-up. Every `CATCHUP_INTERVAL_SECS` it lists the
//! Stripe events created since its watermark (less `CATCHUP_OVERLAP_SECS`), delivered to
//! the webhooks or not (`delivery_success` is not filtered: an event Stripe counts as
//! delivered may still be one the fleet lost), enqueues those the fleet does not have, and
//! moves the watermark to the newest event listed.
//!
//! The overlap is free (the dedupe turns what was listed before into lookups) and catches
//! events that appear in the list after a newer one was listed. Run any number of
//! replicas: one holds the lease `{prefix}:catchup:lease` (`SET NX PX`, renewed while it
//! works, released on shutdown) and lists; the others wait to take over.

use std::time::Duration;

use clap::Args;
use common::{
    config::{positive_millis, positive_secs},
    time::unix_seconds,
};
use stripe_client::events::Event;
use tokio_util::sync::CancellationToken;

use super::{
    enqueue::{Enqueued, Tally},
    feed::TypeFilter,
    parts, EventSource, Parts,
};
use crate::{
    backoff::{outage_backoff, pause},
    config::{FleetConfig, StripeConfig},
    store::{self, CatchupStore, Watermark},
};

/// Events listed by the catch-up (of the wanted types).
pub const LISTED: &str = "catchup_events_listed_total";
/// Events the catch-up enqueued because the fleet did not have them: missed webhooks.
pub const RECOVERED: &str = "catchup_events_recovered_total";
/// Catch-up cycles by outcome (`ok`, `error`).
pub const CYCLES: &str = "catchup_cycles_total";
/// 1 while this replica holds the catch-up lease.
pub const LEASE_HELD: &str = "catchup_lease_held";

/// Settings of `workers catchup`.
#[derive(Debug, Clone, Args)]
pub struct CatchupConfig {
    /// Seconds between two listings of Stripe's events.
    #[arg(
        long = "catchup-interval-secs",
        env = "CATCHUP_INTERVAL_SECS",
        default_value = "60",
        value_parser = positive_secs
    )]
    pub interval: Duration,
    /// Seconds each listing reaches back before the watermark (and, on the first run,
    /// before now).
    #[arg(
        long = "catchup-overlap-secs",
        env = "CATCHUP_OVERLAP_SECS",
        default_value = "300",
        value_parser = positive_secs
    )]
    pub overlap: Duration,
    /// Milliseconds the lease lasts unless renewed (renewed every third of it while
    /// listing): how soon another replica takes over from a stopped one.
    #[arg(
        long = "catchup-lease-ms",
        env = "CATCHUP_LEASE_MS",
        default_value = "30000",
        value_parser = positive_millis
    )]
    pub lease: Duration,
    /// Event types to list, comma-separated, or `*` (default: the types the mapping
    /// handles).
    #[arg(
        long = "catchup-event-types",
        env = "CATCHUP_EVENT_TYPES",
        value_parser = TypeFilter::parse
    )]
    pub types: Option<TypeFilter>,
    /// The mapping (for the default types) and the routing rules.
    #[command(flatten)]
    pub source: EventSource,
}

/// Where a cycle starts listing: the watermark less the overlap; the first time, now less
/// the overlap.
pub fn window_start(watermark: Option<&Watermark>, now: i64, overlap: Duration) -> i64 {
    let overlap = i64::try_from(overlap.as_secs()).unwrap_or(i64::MAX);
    watermark.map_or(now, |w| w.created).saturating_sub(overlap)
}

/// The watermark after handling `events` (oldest first): their newest, unless the old one
/// is newer (the overlap re-lists older events).
pub fn advance(old: Option<Watermark>, events: &[Event]) -> Option<Watermark> {
    let newest = events.iter().max_by_key(|e| e.created).map(|e| Watermark {
        created: e.created,
        event_id: e.id.clone(),
    });
    match (old, newest) {
        (Some(old), Some(new)) if new.created < old.created => Some(old),
        (old, None) => old,
        (_, new) => new,
    }
}

/// Runs the catch-up until `shutdown`.
pub async fn run(
    fleet: FleetConfig,
    stripe: StripeConfig,
    config: CatchupConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let types = config.source.types(config.types.as_ref())?;
    let parts = parts(&fleet, &stripe, &config.source, types, shutdown.clone())?;
    let state = CatchupStore::new(parts.enqueuer.store().connection(), parts.keys.clone());
    if !prepare(&parts, &shutdown).await {
        return Ok(());
    }
    register();
    tracing::info!(
        interval_secs = config.interval.as_secs(),
        overlap_secs = config.overlap.as_secs(),
        types = %parts.feed.types(),
        "Catch-up started."
    );
    let holder = fleet.worker_id.clone();
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut holding = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        match state.hold_lease(&holder, config.lease).await {
            Ok(held) => {
                if held != holding {
                    tracing::info!(
                        held,
                        "Catch-up lease {}.",
                        if held {
                            "taken"
                        } else {
                            "held by another replica"
                        }
                    );
                }
                holding = held;
            }
            Err(error) => {
                tracing::warn!(%error, "Catch-up lease unreadable; trying again next interval.");
                holding = false;
            }
        }
        metrics::gauge!(LEASE_HELD).set(if holding { 1.0 } else { 0.0 });
        if !holding {
            continue;
        }
        let cycle_token = shutdown.child_token();
        let renewal = tokio::spawn(keep_lease(
            state.clone(),
            holder.clone(),
            config.lease,
            cycle_token.clone(),
        ));
        let result = cycle(&parts, &state, &config, &cycle_token).await;
        cycle_token.cancel();
        let lost = matches!(renewal.await, Ok(false));
        match result {
            Ok(tally) => {
                metrics::counter!(CYCLES, "outcome" => "ok").increment(1);
                if tally.enqueued() > 0 {
                    tracing::warn!(%tally, "Catch-up recovered events the webhooks did not bring.");
                } else {
                    tracing::debug!(%tally, "Catch-up cycle done.");
                }
            }
            Err(error) => {
                metrics::counter!(CYCLES, "outcome" => "error").increment(1);
                tracing::warn!(error = %format!("{error:#}"), "Catch-up cycle failed; the next one starts from the same watermark.");
            }
        }
        if lost {
            holding = false;
        }
    }
    if holding {
        if let Err(error) = state.release_lease(&holder).await {
            tracing::warn!(%error, "Could not release the catch-up lease; it expires by itself.");
        }
    }
    tracing::info!("Catch-up stopped.");
    Ok(())
}

/// Creates the streams and groups and loads the enqueue script, retrying until Redis
/// answers; false if shut down first.
async fn prepare(parts: &Parts, shutdown: &CancellationToken) -> bool {
    let mut delays = outage_backoff();
    loop {
        let store = parts.enqueuer.store();
        let mut conn = store.connection();
        let result = async {
            store::ensure_consumer_groups(&mut conn, store.keys()).await?;
            store.load_scripts().await
        }
        .await;
        match result {
            Ok(()) => return true,
            Err(error) => tracing::warn!(%error, "Redis not ready; retrying."),
        }
        if !pause(delays.next(), shutdown).await {
            return false;
        }
    }
}

/// Renews the lease every third of its life until `cycle` ends; if the lease is lost
/// (another replica took it after a stall), cancels `cycle` and answers false.
async fn keep_lease(
    state: CatchupStore,
    holder: String,
    lease: Duration,
    cycle: CancellationToken,
) -> bool {
    loop {
        tokio::select! {
            _ = cycle.cancelled() => return true,
            _ = tokio::time::sleep(lease / 3) => {}
        }
        match state.hold_lease(&holder, lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("Catch-up lease lost to another replica; stopping this cycle.");
                cycle.cancel();
                return false;
            }
            Err(error) => tracing::warn!(%error, "Catch-up lease renewal failed; retrying."),
        }
    }
}

/// One listing: the events since the watermark (less the overlap), each enqueued unless
/// the fleet has it, then the watermark moved (not when the lease was lost: the new
/// holder owns it).
async fn cycle(
    parts: &Parts,
    state: &CatchupStore,
    config: &CatchupConfig,
    token: &CancellationToken,
) -> anyhow::Result<Tally> {
    let watermark = state.watermark().await?;
    let since = window_start(watermark.as_ref(), unix_seconds(), config.overlap);
    let events = parts.feed.since(since).await?;
    let mut tally = Tally::default();
    for event in &events {
        if token.is_cancelled() {
            return Ok(tally);
        }
        let outcome = parts.enqueuer.enqueue(event).await?;
        metrics::counter!(LISTED).increment(1);
        if let Enqueued::Added(stream) = &outcome {
            metrics::counter!(RECOVERED).increment(1);
            tracing::info!(event_id = %event.id, event_type = %event.event_type, %stream, "Missed event recovered from Stripe's event list.");
        }
        tally.count(&outcome);
    }
    if let Some(new) = advance(watermark.clone(), &events) {
        if Some(&new) != watermark.as_ref() && !token.is_cancelled() {
            state.save_watermark(&new).await?;
        }
    }
    Ok(tally)
}

/// Exports the catch-up's series before anything happened, so `increase` sees them start.
fn register() {
    metrics::describe_counter!(LISTED, "Stripe events listed by the catch-up.");
    metrics::describe_counter!(
        RECOVERED,
        "Events the catch-up enqueued because no webhook had brought them."
    );
    metrics::describe_counter!(CYCLES, "Catch-up cycles by outcome.");
    metrics::describe_gauge!(LEASE_HELD, "1 while this replica holds the catch-up lease.");
    metrics::counter!(LISTED).increment(0);
    metrics::counter!(RECOVERED).increment(0);
    for outcome in ["ok", "error"] {
        metrics::counter!(CYCLES, "outcome" => outcome).increment(0);
    }
    metrics::gauge!(LEASE_HELD).set(0.0);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(id: &str, created: i64) -> Event {
        serde_json::from_value(json!({"id": id, "type": "customer.created", "created": created}))
            .unwrap()
    }

    fn mark(id: &str, created: i64) -> Watermark {
        Watermark {
            created,
            event_id: id.into(),
        }
    }

    #[test]
    fn the_window_reaches_back_by_the_overlap() {
        let overlap = Duration::from_secs(300);
        assert_eq!(window_start(None, 10_000, overlap), 9_700);
        assert_eq!(
            window_start(Some(&mark("evt_1", 5_000)), 10_000, overlap),
            4_700
        );
    }

    #[test]
    fn the_watermark_only_moves_forward() {
        assert_eq!(advance(None, &[]), None);
        let events = [event("evt_a", 10), event("evt_b", 30), event("evt_c", 20)];
        assert_eq!(advance(None, &events), Some(mark("evt_b", 30)));
        assert_eq!(
            advance(Some(mark("evt_z", 50)), &events),
            Some(mark("evt_z", 50))
        );
        assert_eq!(
            advance(Some(mark("evt_z", 5)), &events),
            Some(mark("evt_b", 30))
        );
        assert_eq!(advance(Some(mark("evt_z", 5)), &[]), Some(mark("evt_z", 5)));
    }
}
