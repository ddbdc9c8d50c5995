//! What a settled batch tells monitoring: each event's outcome, the dead letters, and the
//! sync lag of every applied event (Stripe's `created` to now). Gathered before the batch
//! is settled and published only once the ledger recorded it, so the lag is measured at
//! the point the worker acknowledges after Salesforce accepted the write.

use crate::{
    keys::Priority,
    store::{Finish, Settlement},
    telemetry,
};

use super::pipeline::outcome_label;

/// The signals of one batch, ready to publish.
#[derive(Debug, Default, PartialEq)]
pub struct SettledSignals {
    stream: &'static str,
    outcomes: Vec<&'static str>,
    /// `(event type, created in Unix seconds)` of each applied event.
    applied: Vec<(String, i64)>,
}

impl SettledSignals {
    /// Reads what `settled` will record on the stream of `priority`.
    pub fn of(priority: Priority, settled: &[Settlement]) -> Self {
        let applied = settled
            .iter()
            .filter_map(|settlement| match settlement {
                Settlement::Finish {
                    held,
                    finish: Finish::Applied,
                    ..
                } => Some((held.entry.event_type.clone(), held.entry.created)),
                _ => None,
            })
            .collect();
        Self {
            stream: priority.name(),
            outcomes: settled.iter().map(outcome_label).collect(),
            applied,
        }
    }

    /// Counts the outcomes and dead letters and records the lag of each applied event as
    /// of `now_ms` (Unix ms).
    pub fn publish(self, now_ms: i64) {
        for outcome in &self.outcomes {
            metrics::counter!(telemetry::EVENTS, "stream" => self.stream, "outcome" => *outcome)
                .increment(1);
        }
        let dead = self.outcomes.iter().filter(|o| **o == "dead").count() as u64;
        if dead > 0 {
            metrics::counter!(telemetry::DEAD_LETTERS, "source" => self.stream).increment(dead);
        }
        for (event_type, created) in self.applied {
            metrics::histogram!(telemetry::SYNC_LAG, "stream" => self.stream, "type" => event_type)
                .record(lag_seconds(created, now_ms));
        }
    }
}

/// Exports the consumer's counters at zero before anything happened, so that alert rules
/// computing `increase` or `rate` see a series from the start rather than none.
pub fn register(priority: Priority) {
    metrics::counter!(telemetry::DEAD_LETTERS, "source" => priority.name()).increment(0);
    metrics::counter!(telemetry::BREAKER_OPENED).increment(0);
    metrics::counter!(telemetry::TOKEN_REFRESHES).increment(0);
    metrics::counter!(telemetry::RECLAIMED, "stream" => priority.name()).increment(0);
    if priority == Priority::Low {
        metrics::counter!(telemetry::BULK_JOBS).increment(0);
    }
}

/// Seconds from `created_s` (Stripe's Unix seconds) to `now_ms`; never negative, since a
/// clock behind Stripe's must not make a negative observation.
pub fn lag_seconds(created_s: i64, now_ms: i64) -> f64 {
    let lag_ms = now_ms.saturating_sub(created_s.saturating_mul(1000)).max(0);
    lag_ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Deferral, Failure, HeldEntry, StreamEntry};
    use salesforce_client::FailureClass;

    fn held(event_type: &str, created: i64) -> HeldEntry {
        HeldEntry {
            partition: 0,
            entry_id: "1-0".into(),
            entry: StreamEntry {
                event_id: "evt_1".into(),
                event_type: event_type.into(),
                object_id: "cus_1".into(),
                created,
                attempts: 1,
                received_at: 0,
                payload: "{}".into(),
            },
        }
    }

    #[test]
    fn lag_is_from_created_to_now_and_never_negative() {
        assert_eq!(lag_seconds(1_786_000_000, 1_786_000_042_500), 42.5);
        assert_eq!(lag_seconds(1_786_000_000, 1_785_999_999_000), 0.0);
    }

    #[test]
    fn only_applied_events_have_a_lag_and_every_outcome_is_counted() {
        let settled = vec![
            Settlement::Finish {
                held: held("customer.created", 10),
                finish: Finish::Applied,
                salesforce_id: None,
                records: vec![],
            },
            Settlement::Finish {
                held: held("customer.updated", 11),
                finish: Finish::Stale,
                salesforce_id: None,
                records: vec![],
            },
            Settlement::Defer {
                held: held("invoice.payment_failed", 12),
                deferral: Deferral::Dead,
                failure: Failure::new(FailureClass::Permanent, "X", "bad"),
                records: vec![],
            },
        ];
        let signals = SettledSignals::of(Priority::Low, &settled);
        assert_eq!(
            signals,
            SettledSignals {
                stream: "low",
                outcomes: vec!["applied", "stale", "dead"],
                applied: vec![("customer.created".into(), 10)],
            }
        );
    }
}
