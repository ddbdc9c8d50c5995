//! The in-memory event bus: change events in commit order, each with a replay id (an
//! 8-byte big-endian sequence number, opaque to clients), kept for the retention period.
//! Writers append under the store lock; subscribers read after a position and wait on a
//! `watch` channel for the tip to move.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::Rng as _;
use tokio::sync::watch;

use super::event::{ChangeEvent, ChangeType};
use crate::clock;
use crate::store::change::{Change, ChangeKind};

/// One event with its position on the bus.
#[derive(Debug)]
pub struct BusEvent {
    /// Sequence number; its 8 big-endian bytes are the replay id.
    pub seq: u64,
    /// When it was appended (epoch ms), for retention.
    pub at_ms: i64,
    /// The event.
    pub event: ChangeEvent,
}

/// Where a subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// New events only.
    Latest,
    /// The oldest retained event.
    Earliest,
    /// After the event with this replay id.
    After(Vec<u8>),
}

/// A replay id the bus cannot resume from: malformed, unknown or past retention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "The replay ID validation failed: the replay ID is unknown or older than the retention window."
)]
pub struct ReplayIdCorrupted;

#[derive(Debug, Default)]
struct Inner {
    events: VecDeque<Arc<BusEvent>>,
    /// Sequence of the newest event ever appended (0: none).
    tip: u64,
    /// Sequence of the newest event dropped by retention (0: none).
    evicted_upto: u64,
    commit_number: i64,
}

/// The org's change event bus.
#[derive(Debug)]
pub struct EventBus {
    inner: Mutex<Inner>,
    tip_tx: watch::Sender<u64>,
    retention: Duration,
    selected: HashSet<String>,
    commit_user: String,
}

/// The replay id of a sequence number.
pub fn replay_id(seq: u64) -> Vec<u8> {
    seq.to_be_bytes().to_vec()
}

/// The sequence number of a replay id, if it has the bus's shape.
pub fn parse_replay_id(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

impl EventBus {
    /// A bus publishing changes of the `selected` objects, keeping events for `retention`,
    /// stamping `commit_user` as the committing user.
    pub fn new(selected: &[String], retention: Duration, commit_user: &str) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            tip_tx: watch::channel(0).0,
            retention,
            selected: selected.iter().cloned().collect(),
            commit_user: commit_user.to_string(),
        }
    }

    /// Whether changes of `object` become events.
    pub fn publishes(&self, object: &str) -> bool {
        self.selected.contains(object)
    }

    /// Appends one transaction's changes of selected objects as events (one per record),
    /// all with the same transaction key, commit number, timestamp and committing user.
    pub fn publish(&self, changes: Vec<Change>, commit_ms: i64, commit_user: &str) {
        let changes: Vec<Change> = changes
            .into_iter()
            .filter(|change| self.publishes(&change.object))
            .collect();
        if changes.is_empty() {
            return;
        }
        let transaction_key = random_key();
        let mut inner = self.inner.lock();
        inner.commit_number += 1;
        let commit_number = inner.commit_number;
        let events = changes.into_iter().enumerate().map(|(index, change)| {
            let change_type = match change.kind {
                ChangeKind::Create => ChangeType::Create,
                ChangeKind::Update => ChangeType::Update,
                ChangeKind::Delete => ChangeType::Delete,
                ChangeKind::Undelete => ChangeType::Undelete,
            };
            ChangeEvent {
                entity: change.object,
                record_ids: vec![change.id],
                change_type,
                change_origin: String::new(),
                transaction_key: transaction_key.clone(),
                sequence_number: i32::try_from(index + 1).unwrap_or(i32::MAX),
                commit_timestamp: commit_ms,
                commit_number,
                commit_user: commit_user.to_string(),
                values: change.values,
            }
        });
        self.append(&mut inner, events.collect());
    }

    /// Appends a gap or overflow event for `entity` (admin call, for client tests).
    pub fn publish_gap(&self, entity: &str, change_type: ChangeType, record_ids: Vec<String>) {
        let now = clock::now_ms();
        let mut inner = self.inner.lock();
        inner.commit_number += 1;
        let event = ChangeEvent {
            entity: entity.to_string(),
            record_ids,
            change_type,
            change_origin: String::new(),
            transaction_key: random_key(),
            sequence_number: 1,
            commit_timestamp: now,
            commit_number: inner.commit_number,
            commit_user: self.commit_user.clone(),
            values: BTreeMap::new(),
        };
        self.append(&mut inner, vec![event]);
    }

    fn append(&self, inner: &mut Inner, events: Vec<ChangeEvent>) {
        let now = clock::now_ms();
        self.evict(inner, now);
        for event in events {
            inner.tip += 1;
            let seq = inner.tip;
            inner.events.push_back(Arc::new(BusEvent {
                seq,
                at_ms: now,
                event,
            }));
        }
        self.tip_tx.send_replace(inner.tip);
    }

    fn evict(&self, inner: &mut Inner, now_ms: i64) {
        let retention_ms = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let oldest_kept = now_ms.saturating_sub(retention_ms);
        while let Some(front) = inner.events.front() {
            if front.at_ms >= oldest_kept {
                break;
            }
            inner.evicted_upto = front.seq;
            inner.events.pop_front();
        }
    }

    /// The position a subscription starts after, or why it cannot start there.
    pub fn start(&self, at: &StartAt) -> Result<u64, ReplayIdCorrupted> {
        let mut inner = self.inner.lock();
        self.evict(&mut inner, clock::now_ms());
        match at {
            StartAt::Latest => Ok(inner.tip),
            StartAt::Earliest => Ok(inner.evicted_upto),
            StartAt::After(bytes) => {
                let seq = parse_replay_id(bytes).ok_or(ReplayIdCorrupted)?;
                let retained = seq > inner.evicted_upto && seq <= inner.tip;
                let origin = seq == 0 && inner.evicted_upto == 0;
                if retained || origin {
                    Ok(seq)
                } else {
                    Err(ReplayIdCorrupted)
                }
            }
        }
    }

    /// Up to `max` events after `cursor` that `wanted` accepts, and the position scanned
    /// up to: past skipped events, so a client may store it without losing a wanted event.
    pub fn read_after(
        &self,
        cursor: u64,
        max: usize,
        wanted: impl Fn(&ChangeEvent) -> bool,
    ) -> (Vec<Arc<BusEvent>>, u64) {
        let inner = self.inner.lock();
        let start = inner.events.partition_point(|event| event.seq <= cursor);
        let mut found = Vec::new();
        let mut scanned = cursor.max(inner.evicted_upto.min(inner.tip));
        for event in inner.events.iter().skip(start) {
            if found.len() >= max {
                break;
            }
            scanned = event.seq;
            if wanted(&event.event) {
                found.push(event.clone());
            }
        }
        if found.len() < max {
            scanned = scanned.max(inner.tip);
        }
        (found, scanned)
    }

    /// A receiver that changes whenever events are appended.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.tip_tx.subscribe()
    }
}

/// A transaction key: 32 random hex digits, unique per transaction.
fn random_key() -> String {
    let value: u128 = rand::rng().random();
    format!("{value:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(object: &str, id: &str) -> Change {
        Change {
            object: object.into(),
            id: id.into(),
            kind: ChangeKind::Create,
            values: BTreeMap::new(),
        }
    }

    fn bus(retention: Duration) -> EventBus {
        EventBus::new(&["Contact".to_string()], retention, "005x")
    }

    #[test]
    fn only_selected_objects_publish_in_commit_order() {
        let bus = bus(Duration::from_secs(60));
        bus.publish(
            vec![change("Contact", "a"), change("Account", "b")],
            1,
            "005",
        );
        bus.publish(vec![change("Contact", "c")], 2, "005");
        let (events, scanned) = bus.read_after(0, 10, |_| true);
        let ids: Vec<_> = events
            .iter()
            .map(|e| e.event.record_ids[0].clone())
            .collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(scanned, 2);
        assert_ne!(events[0].event.commit_number, events[1].event.commit_number);
    }

    #[test]
    fn start_positions_and_refused_replay_ids() {
        let bus = bus(Duration::from_secs(60));
        assert_eq!(bus.start(&StartAt::After(replay_id(0))), Ok(0));
        bus.publish(
            vec![change("Contact", "a"), change("Contact", "b")],
            1,
            "005",
        );
        assert_eq!(bus.start(&StartAt::Latest), Ok(2));
        assert_eq!(bus.start(&StartAt::Earliest), Ok(0));
        assert_eq!(bus.start(&StartAt::After(replay_id(1))), Ok(1));
        assert_eq!(
            bus.start(&StartAt::After(replay_id(3))),
            Err(ReplayIdCorrupted)
        );
        assert_eq!(
            bus.start(&StartAt::After(vec![1, 2])),
            Err(ReplayIdCorrupted)
        );
    }

    #[test]
    fn expired_events_are_dropped_and_their_ids_refused() {
        let bus = bus(Duration::ZERO);
        bus.publish(vec![change("Contact", "a")], 1, "005");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while bus.start(&StartAt::After(replay_id(1))).is_ok() {
            assert!(std::time::Instant::now() < deadline, "never expired");
            std::thread::yield_now();
        }
        assert_eq!(bus.start(&StartAt::Earliest), Ok(1));
    }

    #[test]
    fn reading_stops_at_max_and_skips_unwanted() {
        let bus = bus(Duration::from_secs(60));
        for id in ["a", "b", "c"] {
            bus.publish(vec![change("Contact", id)], 1, "005");
        }
        let (events, scanned) = bus.read_after(0, 1, |e| e.record_ids[0] != "a");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.record_ids[0], "b");
        assert_eq!(scanned, 2);
        let (events, scanned) = bus.read_after(0, 10, |_| false);
        assert!(events.is_empty());
        assert_eq!(scanned, 3);
    }
}
