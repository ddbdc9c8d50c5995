//! Webhook deliveries held back and released in another order, so a test can show its
//! receiver events out of order on demand: Stripe "doesn't guarantee the delivery of events
//! in the order that they're generated" (https://docs.stripe.com/webhooks#event-ordering).
//! While `/__sim/webhooks` holds (`{"hold": true}`), new deliveries wait; a release sends
//! their first attempts one after another in the chosen order, each waiting for the
//! previous answer, so the receiver sees exactly that order. Failed first attempts go on
//! retrying in the background on the usual schedule.

use rand::seq::SliceRandom;
use serde::Deserialize;

use crate::delivery::{self, attempt_once, Outcome, Target};
use crate::state::AppState;

/// One delivery: an event to one endpoint.
#[derive(Debug, Clone)]
pub struct Job {
    /// The event sent.
    pub event_id: String,
    /// Its JSON, as signed and sent.
    pub payload: Vec<u8>,
    /// The endpoint.
    pub target: Target,
    /// A second delivery of the same event (does not count towards `pending_webhooks`).
    pub duplicate: bool,
}

/// A delivery waiting for a release.
#[derive(Debug, Clone)]
pub struct Held(pub Job);

/// The order held deliveries are released in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseOrder {
    /// As they were dispatched.
    #[default]
    Original,
    /// Newest first.
    Reverse,
    /// Shuffled.
    Shuffled,
}

/// `held` (in dispatch order) put in `order`.
pub fn ordered(mut held: Vec<Held>, order: ReleaseOrder) -> Vec<Held> {
    match order {
        ReleaseOrder::Original => {}
        ReleaseOrder::Reverse => held.reverse(),
        ReleaseOrder::Shuffled => held.shuffle(&mut rand::rng()),
    }
    held
}

/// Stops holding and sends what was held in `order`, one first attempt after another, in
/// the background. Returns how many deliveries were released.
pub fn release(state: &AppState, order: ReleaseOrder) -> usize {
    let jobs = ordered(state.deliveries.take_held(), order);
    let count = jobs.len();
    let background = state.clone();
    state.tasks.spawn(async move {
        let state = background;
        for Held(job) in jobs {
            let outcome = tokio::select! {
                outcome = attempt_once(&state, &job, 1) => outcome,
                () = state.shutdown.cancelled() => Outcome::Gone,
            };
            if outcome == Outcome::Failed {
                let state = state.clone();
                let wait = delivery::wait_before(&state, 2);
                state.tasks.clone().spawn(async move {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => delivery::spawn(&state, job, 2),
                        () = state.shutdown.cancelled() => delivery::finished(&state),
                    }
                });
            } else {
                delivery::finished(&state);
            }
        }
    });
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(ids: &[&str]) -> Vec<Held> {
        ids.iter()
            .map(|id| {
                Held(Job {
                    event_id: (*id).to_string(),
                    payload: Vec::new(),
                    target: Target {
                        endpoint_id: "we_1".into(),
                        url: "http://x".into(),
                        secret: "whsec_1".into(),
                    },
                    duplicate: false,
                })
            })
            .collect()
    }

    fn ids(held: &[Held]) -> Vec<&str> {
        held.iter().map(|Held(job)| job.event_id.as_str()).collect()
    }

    #[test]
    fn orders_are_original_reverse_or_a_permutation() {
        let three = ["a", "b", "c"];
        assert_eq!(ids(&ordered(held(&three), ReleaseOrder::Original)), three);
        assert_eq!(
            ids(&ordered(held(&three), ReleaseOrder::Reverse)),
            ["c", "b", "a"]
        );
        let mut shuffled = ids(&ordered(held(&three), ReleaseOrder::Shuffled))
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        shuffled.sort();
        assert_eq!(shuffled, three);
    }
}
