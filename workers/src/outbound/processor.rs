//! One batch of the outbound stream: claim each change's record, drop echoes and changes
//! Stripe does not care about, read the records that need it (one query per object),
//! decide, call Stripe, write the results back (one Collections call for the updates, one
//! for the customer records), and settle every entry through the same ledger as inbound
//! events: applied, retried later, or dead-lettered.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{atomic::AtomicU64, Arc},
};

use common::time::unix_millis;
use salesforce_client::{FailureClass, SalesforceClient, SalesforceError};
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::{
    actions::{call, WriteBack},
    change::{triage, Change, Triage},
    decide::{decide, Action},
    rules::OutboundRules,
    salesforce_side::{plan_prices, read_records},
    stripe_side::{CheckoutUrls, StripeSide},
};
use crate::{
    consumer::{retry::RetrySchedule, signals::SettledSignals, Batch},
    store::{
        Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, Priority, RecordClaim, RecordKey,
        RecordOutcome, Settlement,
    },
};

/// What a change came to.
enum Outcome {
    Open,
    Done(Finish, RecordOutcome),
    Failed(Failure),
}

struct Work {
    held: HeldEntry,
    change: Change,
    record: RecordKey,
    state: Option<Map<String, Value>>,
    outcome: Outcome,
}

/// Everything a batch needs.
pub struct Processor {
    /// Salesforce, behind the fleet's limiter.
    pub client: SalesforceClient,
    /// The ledger of the outbound stream.
    pub ledger: EventLedger,
    /// Stripe.
    pub stripe: StripeSide,
    /// What triggers what.
    pub rules: Arc<OutboundRules>,
    /// The user the fleet writes to Salesforce as.
    pub fleet_user: String,
    /// Checkout's return URLs.
    pub urls: CheckoutUrls,
    /// Retry delays.
    pub retry: RetrySchedule,
    /// Names batches uniquely in this replica.
    pub batches: AtomicU64,
}

impl Processor {
    /// Processes one batch; only a Redis failure is an error (the entries stay pending).
    pub async fn process(&self, batch: Batch) -> redis::RedisResult<()> {
        let name = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        let mut settled = Vec::new();
        for malformed in batch.malformed {
            tracing::error!(entry_id = %malformed.entry_id, problem = %malformed.problem, "Malformed outbound entry; dead-lettered.");
            settled.push(malformed.into_dead_letter());
        }
        let mut work = Vec::new();
        for held in batch.entries {
            match Change::from_entry(&held.entry) {
                Ok(change) => work.push(Work {
                    record: RecordKey::outbound(&change.entity, &change.record_id),
                    held,
                    change,
                    state: None,
                    outcome: Outcome::Open,
                }),
                Err(problem) => settled.push(Settlement::Defer {
                    held,
                    deferral: Deferral::Dead,
                    failure: Failure::new(FailureClass::Permanent, "MALFORMED_CHANGE", problem),
                    records: Vec::new(),
                }),
            }
        }
        let claims = {
            let asked: Vec<_> = work
                .iter()
                .map(|w| (&w.held, std::slice::from_ref(&w.record)))
                .collect();
            self.ledger.claim_all(&asked, &name).await?
        };
        let mut active = Vec::new();
        for (mut w, claim) in work.into_iter().zip(claims) {
            match claim {
                Claim::Busy(_) => {} // another batch holds the record: stays pending
                Claim::AlreadyApplied => settled.push(finish(w, Finish::Duplicate, None)),
                Claim::Claimed(verdicts) if verdicts.first() == Some(&RecordClaim::Stale) => {
                    settled.push(finish(w, Finish::Stale, None));
                }
                Claim::Claimed(_) => {
                    w.outcome = match triage(&w.change, &self.rules, &self.fleet_user) {
                        Triage::Echo => Outcome::Done(Finish::Echo, RecordOutcome::Released),
                        Triage::Irrelevant => {
                            Outcome::Done(Finish::Unhandled, RecordOutcome::Released)
                        }
                        Triage::Complete => {
                            w.state = Some(w.change.fields.clone());
                            Outcome::Open
                        }
                        Triage::Read => Outcome::Open,
                    };
                    active.push(w);
                }
            }
        }
        self.read_states(&mut active).await;
        self.act(&mut active).await;
        for w in active {
            settled.push(self.settle_one(w));
        }
        let signals = SettledSignals::of(Priority::Outbound, &settled);
        self.ledger.settle_all(&name, settled).await?;
        signals.publish(unix_millis());
        Ok(())
    }

    /// Reads the records of open changes that have no state yet: one query per object.
    async fn read_states(&self, work: &mut [Work]) {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for w in work.iter().filter(|w| w.state.is_none() && is_open(w)) {
            wanted
                .entry(w.change.entity.clone())
                .or_default()
                .push(w.change.record_id.clone());
        }
        for (entity, ids) in wanted {
            let read = read_records(&self.client, &self.rules, &entity, &ids).await;
            let found: HashMap<String, Map<String, Value>> = match read {
                Ok(records) => records.into_iter().collect(),
                Err(error) => {
                    let failure = Failure::from(&error);
                    for w in work
                        .iter_mut()
                        .filter(|w| w.change.entity == entity && is_open(w))
                    {
                        w.outcome = Outcome::Failed(failure.clone());
                    }
                    continue;
                }
            };
            for w in work
                .iter_mut()
                .filter(|w| w.change.entity == entity && is_open(w))
            {
                match found.get(&w.change.record_id) {
                    Some(state) => w.state = Some(state.clone()),
                    // Deleted since: nothing left to do.
                    None if w.state.is_none() => {
                        w.outcome = Outcome::Done(Finish::Unhandled, RecordOutcome::Released);
                    }
                    None => {}
                }
            }
        }
    }

    /// Decides, calls Stripe (concurrently; the fleet's Stripe budget paces the calls), and
    /// writes back.
    async fn act(&self, work: &mut [Work]) {
        let mut actions = Vec::new();
        for (index, w) in work.iter_mut().enumerate() {
            let (Outcome::Open, Some(state)) = (&w.outcome, &w.state) else {
                continue;
            };
            let action = decide(&w.change, state, &self.rules);
            if action == Action::Nothing {
                w.outcome = Outcome::Done(Finish::Unhandled, RecordOutcome::Released);
                continue;
            }
            actions.push((index, action));
        }
        if let Err(error) = self.fill_plan_prices(&mut actions).await {
            let failure = Failure::from(&error);
            for (index, action) in &actions {
                if matches!(action, Action::Checkout { price_id: None, .. }) {
                    work[*index].outcome = Outcome::Failed(failure.clone());
                }
            }
            actions
                .retain(|(_, action)| !matches!(action, Action::Checkout { price_id: None, .. }));
        }
        let mut calls = JoinSet::new();
        for (index, action) in actions {
            let w = &work[index];
            let stripe = self.stripe.clone();
            let urls = self.urls.clone();
            let rules = self.rules.clone();
            let cause = w.held.entry.event_id.clone();
            calls.spawn(async move { (index, call(&stripe, &rules, &urls, action, &cause).await) });
        }
        let mut writes: Vec<(usize, WriteBack)> = Vec::new();
        while let Some(joined) = calls.join_next().await {
            let Ok((index, result)) = joined else {
                continue; // a panicked call leaves its change open: retried below
            };
            match result {
                Ok(backs) if backs.is_empty() => {
                    work[index].outcome = Outcome::Done(Finish::Applied, RecordOutcome::Written);
                }
                Ok(backs) => writes.extend(backs.into_iter().map(|back| (index, back))),
                Err(failure) => work[index].outcome = Outcome::Failed(failure),
            }
        }
        // Tests only (`--features failpoints`): with FAILPOINTS=outbound-before-write-back=return
        // the process dies here, after Stripe made the customers and before Salesforce
        // hears of them, to show the next attempt finds them instead of making new ones.
        #[cfg(feature = "failpoints")]
        fail::fail_point!("outbound-before-write-back", |_| {
            tracing::error!(
                "Failpoint outbound-before-write-back: aborting before the write-back."
            );
            std::process::abort()
        });
        self.write_back(work, writes).await;
    }

    /// Prices for Checkout requests whose record has none: from the plan records pointing at
    /// them (one query for the batch).
    async fn fill_plan_prices(
        &self,
        actions: &mut [(usize, Action)],
    ) -> Result<(), SalesforceError> {
        let wanted: Vec<String> = actions
            .iter()
            .filter_map(|(_, action)| match action {
                Action::Checkout {
                    record_id,
                    price_id: None,
                    ..
                } => Some(record_id.clone()),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let prices = plan_prices(&self.client, &self.rules, &wanted).await?;
        for (_, action) in actions.iter_mut() {
            if let Action::Checkout {
                record_id,
                price_id: price @ None,
                ..
            } = action
            {
                *price = prices
                    .get(record_id.get(..15).unwrap_or(record_id))
                    .cloned();
            }
        }
        Ok(())
    }

    /// The write-backs of the batch, in one Composite request ([`super::write_back`]).
    async fn write_back(&self, work: &mut [Work], writes: Vec<(usize, WriteBack)>) {
        let owners: HashSet<usize> = writes.iter().map(|(index, _)| *index).collect();
        let mut failures = super::write_back::send(&self.client, writes, &self.rules).await;
        for index in owners {
            work[index].outcome = match failures.remove(&index) {
                Some(failure) => Outcome::Failed(failure),
                None => Outcome::Done(Finish::Applied, RecordOutcome::Written),
            };
        }
    }

    fn settle_one(&self, w: Work) -> Settlement {
        let failure = match w.outcome {
            Outcome::Done(finish, outcome) => {
                return Settlement::Finish {
                    held: w.held,
                    finish,
                    salesforce_id: Some(w.change.record_id),
                    records: vec![(w.record, outcome)],
                };
            }
            Outcome::Failed(failure) => failure,
            Outcome::Open => Failure::new(FailureClass::Retryable, "NOT_DONE", "not attempted"),
        };
        let mut held = w.held;
        held.entry.attempts += 1;
        let deferral = self
            .retry
            .deferral(failure.class, held.entry.attempts, unix_millis());
        tracing::warn!(
            change_id = %held.entry.event_id,
            record_id = %w.change.record_id,
            attempts = held.entry.attempts,
            class = %failure.class,
            code = %failure.code,
            outcome = if deferral == Deferral::Dead { "dead" } else { "retrying" },
            "Outbound change not applied."
        );
        Settlement::Defer {
            held,
            deferral,
            failure,
            records: vec![w.record],
        }
    }
}

fn is_open(w: &Work) -> bool {
    matches!(w.outcome, Outcome::Open)
}

fn finish(w: Work, finish: Finish, outcome: Option<RecordOutcome>) -> Settlement {
    let outcome = outcome.unwrap_or(match finish {
        Finish::Stale => RecordOutcome::Superseded,
        _ => RecordOutcome::Released,
    });
    Settlement::Finish {
        held: w.held,
        finish,
        salesforce_id: Some(w.change.record_id),
        records: vec![(w.record, outcome)],
    }
}
