//! Newest wins within a batch: of the claimed events of one Stripe object, only the newest
//! is written; the others are superseded by it. Pure, so the rule is tested on its own.

use std::collections::HashMap;

use crate::store::{HeldEntry, StreamEntry};

/// The events to write and the events they supersede.
#[derive(Debug, Default)]
pub struct Coalesced {
    /// The newest event per object, oldest first (an earlier event's writes go first).
    pub winners: Vec<HeldEntry>,
    /// (older event, id of the event that supersedes it).
    pub superseded: Vec<(HeldEntry, String)>,
}

/// Keeps the newest event per Stripe object (by `created`, ties broken by event id).
pub fn coalesce(claimed: impl IntoIterator<Item = HeldEntry>) -> Coalesced {
    let mut newest: HashMap<String, HeldEntry> = HashMap::new();
    let mut losers = Vec::new();
    for held in claimed {
        let key = held.entry.object_id.clone();
        match newest.remove(&key) {
            None => {
                newest.insert(key, held);
            }
            Some(current) => {
                let (winner, loser) = if is_newer(&held.entry, &current.entry) {
                    (held, current)
                } else {
                    (current, held)
                };
                losers.push(loser);
                newest.insert(key, winner);
            }
        }
    }
    // Every older event of an object is superseded by the object's final winner (not by an
    // intermediate one that lost too, which would never be applied).
    let superseded = losers
        .into_iter()
        .map(|loser| {
            let winner = newest
                .get(&loser.entry.object_id)
                .map(|w| w.entry.event_id.clone())
                .unwrap_or_default();
            (loser, winner)
        })
        .collect();
    let mut winners: Vec<HeldEntry> = newest.into_values().collect();
    winners.sort_by(|a, b| {
        (a.entry.created, &a.entry.event_id).cmp(&(b.entry.created, &b.entry.event_id))
    });
    Coalesced {
        winners,
        superseded,
    }
}

/// Newest wins: by `created`, ties broken by event id.
fn is_newer(a: &StreamEntry, b: &StreamEntry) -> bool {
    (a.created, &a.event_id) > (b.created, &b.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(event_id: &str, object_id: &str, created: i64) -> HeldEntry {
        HeldEntry {
            entry_id: format!("1-{event_id}"),
            entry: StreamEntry {
                event_id: event_id.into(),
                event_type: "customer.updated".into(),
                object_id: object_id.into(),
                created,
                attempts: 0,
                received_at: 0,
                payload: "{}".into(),
            },
        }
    }

    fn ids(entries: &[HeldEntry]) -> Vec<&str> {
        entries.iter().map(|h| h.entry.event_id.as_str()).collect()
    }

    #[test]
    fn the_newest_event_per_object_wins_whatever_the_arrival_order() {
        let result = coalesce([
            held("evt_b", "cus_1", 20),
            held("evt_a", "cus_1", 10),
            held("evt_c", "cus_1", 30),
            held("evt_x", "cus_2", 5),
        ]);
        assert_eq!(ids(&result.winners), vec!["evt_x", "evt_c"], "oldest first");
        let mut superseded: Vec<(&str, &str)> = result
            .superseded
            .iter()
            .map(|(h, by)| (h.entry.event_id.as_str(), by.as_str()))
            .collect();
        superseded.sort();
        assert_eq!(
            superseded,
            vec![("evt_a", "evt_c"), ("evt_b", "evt_c")],
            "all by the final winner"
        );
    }

    #[test]
    fn equal_timestamps_are_decided_by_event_id() {
        let result = coalesce([held("evt_2", "cus_1", 10), held("evt_1", "cus_1", 10)]);
        assert_eq!(ids(&result.winners), vec!["evt_2"]);
        assert_eq!(result.superseded[0].0.entry.event_id, "evt_1");
    }
}
