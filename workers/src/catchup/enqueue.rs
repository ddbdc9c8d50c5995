//! Events listed from Stripe enter the fleet exactly as the bridge enters webhooks: the
//! same classification and routing rules ([`crate::bridge::intake`]) and the same
//! idempotent enqueue (`lua/enqueue_event.lua`, deduplicated by event id). An event the
//! webhooks already brought is a duplicate and adds nothing; one they missed is enqueued
//! once, whichever of catch-up, backfill or a late webhook comes first.

use common::time::unix_millis;
use serde::Serialize;
use stripe_client::events::Event;

use crate::{
    bridge::{
        intake::{self, Intake},
        routing::RoutingRules,
    },
    store::{EnqueueOutcome, EventStore, Priority},
};

/// What became of one listed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// New to the fleet: added to this stream.
    Added(Priority),
    /// Already enqueued within the dedupe window (by a webhook or an earlier run).
    AlreadySeen,
    /// Not a usable Stripe snapshot event (a thin event, say): left out, with why.
    Skipped(String),
}

/// Enqueues listed events through the bridge's path.
#[derive(Clone)]
pub struct Enqueuer {
    store: EventStore,
    routing: RoutingRules,
}

impl Enqueuer {
    /// Writes with `store`, routing by `routing` (the bridge's rules).
    pub fn new(store: EventStore, routing: RoutingRules) -> Self {
        Self { store, routing }
    }

    /// The store written to.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Enqueues `event` unless the fleet already has it. The payload is the event as the
    /// list returned it, the same JSON Stripe's webhook carries.
    pub async fn enqueue(&self, event: &Event) -> redis::RedisResult<Enqueued> {
        let body = event.json.to_string();
        match intake::classify(&body, Some(unix_millis()), &self.routing) {
            Intake::NotAnEvent { reason } => Ok(Enqueued::Skipped(reason)),
            Intake::Event { priority, entry } => {
                Ok(match self.store.enqueue(priority, &entry).await? {
                    EnqueueOutcome::Added(_) => Enqueued::Added(priority),
                    EnqueueOutcome::Duplicate(_) => Enqueued::AlreadySeen,
                })
            }
        }
    }
}

/// Counts of a backfill run or a catch-up cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Events listed (of the wanted types).
    pub listed: u64,
    /// Enqueued to the high stream.
    pub enqueued_high: u64,
    /// Enqueued to the low stream.
    pub enqueued_low: u64,
    /// Already in the fleet: nothing added.
    pub already_seen: u64,
    /// Not usable Stripe events: left out.
    pub skipped: u64,
}

impl Tally {
    /// Counts one event's fate.
    pub fn count(&mut self, outcome: &Enqueued) {
        self.listed += 1;
        match outcome {
            Enqueued::Added(Priority::High) => self.enqueued_high += 1,
            // The routing of Stripe events never chooses the outbound stream.
            Enqueued::Added(Priority::Low | Priority::Outbound) => self.enqueued_low += 1,
            Enqueued::AlreadySeen => self.already_seen += 1,
            Enqueued::Skipped(_) => self.skipped += 1,
        }
    }

    /// Events enqueued to either stream.
    pub fn enqueued(&self) -> u64 {
        self.enqueued_high + self.enqueued_low
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "listed {}, enqueued {} (high {}, low {}), already seen {}",
            self.listed,
            self.enqueued(),
            self.enqueued_high,
            self.enqueued_low,
            self.already_seen
        )?;
        if self.skipped > 0 {
            write!(f, ", skipped {} (not snapshot events)", self.skipped)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_every_fate_once() {
        let mut tally = Tally::default();
        for outcome in [
            Enqueued::Added(Priority::High),
            Enqueued::Added(Priority::Low),
            Enqueued::Added(Priority::Low),
            Enqueued::AlreadySeen,
            Enqueued::Skipped("thin".into()),
        ] {
            tally.count(&outcome);
        }
        assert_eq!(tally.listed, 5);
        assert_eq!(tally.enqueued(), 3);
        assert_eq!(
            tally.to_string(),
            "listed 5, enqueued 3 (high 1, low 2), already seen 1, skipped 1 (not snapshot events)"
        );
    }
}
