//! What a run sends, decided before the first POST: the events (new payments, and versions
//! of pooled customers and subscriptions, drawn by the mix) and the deliveries (when each
//! POST is due, with some versions swapped with their successor and some sent twice). The
//! random draws use a fixed seed, so a run with the same options sends the same shapes.

use std::{collections::HashMap, time::Duration};

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::E2eLoad;
use crate::stripe::{unix_now, EventFactory, StripeEvent};

/// The kind of an event, as the mix draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    /// A new `payment_intent.succeeded`.
    Payment,
    /// A `customer.updated` of a pooled customer (a new e-mail per version).
    Customer,
    /// A `customer.subscription.updated` of a pooled subscription (a new status per version).
    Subscription,
}

/// One delivery: the event, and when the POST is due (offset from the start).
pub(super) struct Delivery {
    /// Index into [`Plan::events`].
    pub event: usize,
    /// Offset of the due time from the start of sending.
    pub due: Duration,
}

/// The events of a run and the deliveries that send them, in due order.
pub(super) struct Plan {
    /// Distinct events, in creation order.
    pub events: Vec<StripeEvent>,
    /// The kind of each event (same index).
    pub kinds: Vec<Kind>,
    /// Every POST to make (duplicates included), sorted by due time.
    pub deliveries: Vec<Delivery>,
}

/// Statuses a pooled subscription cycles through, one per version.
const STATUSES: [&str; 6] = [
    "active", "past_due", "unpaid", "active", "canceled", "trialing",
];

impl Plan {
    /// Draws the events and deliveries for `load` (`rate × duration` events).
    pub fn new(load: &E2eLoad) -> anyhow::Result<Self> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let factory = EventFactory::new();
        let total = usize::try_from(load.rate * load.duration)?;
        let (events, kinds) = events(load, &factory, &mut rng, total);
        let deliveries = deliveries(load, &events, &kinds, &mut rng);
        Ok(Self {
            events,
            kinds,
            deliveries,
        })
    }
}

/// `total` events drawn by the mix. Pools: a tenth as many customers and subscriptions as
/// events, each changing often.
fn events(
    load: &E2eLoad,
    factory: &EventFactory,
    rng: &mut impl Rng,
    total: usize,
) -> (Vec<StripeEvent>, Vec<Kind>) {
    let base = unix_now() - 3600;
    let pool = (total / 10).max(1);
    let customers: Vec<Value> = (0..pool).map(|_| factory.customer(base)).collect();
    let subscriptions: Vec<Value> = (0..pool)
        .map(|i| factory.subscription(&format!("cus_pool_sub_{i}"), "active", 1000, "usd", base))
        .collect();
    let mut versions: HashMap<String, usize> = HashMap::new();
    let mut events: Vec<StripeEvent> = Vec::with_capacity(total);
    let mut kinds = Vec::with_capacity(total);
    for _ in 0..total {
        let roll: f64 = rng.random();
        let event = if roll < load.mix.payments {
            let currency = ["usd", "eur", "jpy", "kwd", "gbp"][rng.random_range(0..5)];
            let customer = format!("cus_pay_{}", events.len());
            let intent = factory.payment_intent(
                &customer,
                crate::stripe::sample_amount(currency, 1),
                currency,
                unix_now(),
                None,
            );
            kinds.push(Kind::Payment);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        } else if roll < load.mix.payments + load.mix.customers {
            let mut customer = customers[rng.random_range(0..pool)].clone();
            let id = customer["id"].as_str().unwrap_or_default().to_owned();
            let version = versions.entry(id.clone()).or_insert(0);
            *version += 1;
            customer["email"] = json!(format!("v{version}.{id}@example.com"));
            kinds.push(Kind::Customer);
            factory.event(
                "customer.updated",
                customer,
                Some(json!({"email": "old@example.com"})),
                base + *version as i64,
            )
        } else {
            let mut subscription = subscriptions[rng.random_range(0..pool)].clone();
            let id = subscription["id"].as_str().unwrap_or_default().to_owned();
            let version = versions.entry(id.clone()).or_insert(0);
            *version += 1;
            subscription["status"] = json!(STATUSES[*version % STATUSES.len()]);
            kinds.push(Kind::Subscription);
            factory.event(
                "customer.subscription.updated",
                subscription,
                Some(json!({"status": "x"})),
                base + *version as i64,
            )
        };
        events.push(event);
    }
    (events, kinds)
}

/// Send order: in creation order, then some versions swapped with their object's next one;
/// one POST every `1 / rate` seconds, and a share sent again 500 ms later.
fn deliveries(
    load: &E2eLoad,
    events: &[StripeEvent],
    kinds: &[Kind],
    rng: &mut impl Rng,
) -> Vec<Delivery> {
    let total = events.len();
    let mut order: Vec<usize> = (0..total).collect();
    let mut last_of: HashMap<&str, usize> = HashMap::new();
    for position in 0..total {
        let object = events[order[position]].object_id.as_str();
        if let Some(&previous) = last_of.get(object) {
            if kinds[order[position]] != Kind::Payment && rng.random::<f64>() < load.out_of_order {
                order.swap(previous, position);
            }
        }
        last_of.insert(events[order[position]].object_id.as_str(), position);
    }
    let spacing = Duration::from_secs_f64(1.0 / load.rate as f64);
    let mut deliveries: Vec<Delivery> = order
        .iter()
        .enumerate()
        .map(|(slot, &event)| Delivery {
            event,
            due: spacing * u32::try_from(slot).unwrap_or(u32::MAX),
        })
        .collect();
    let duplicates: Vec<Delivery> = deliveries
        .iter()
        .filter(|_| rng.random::<f64>() < load.duplicates)
        .map(|d| Delivery {
            event: d.event,
            due: d.due + Duration::from_millis(500),
        })
        .collect();
    deliveries.extend(duplicates);
    deliveries.sort_by_key(|d| d.due);
    deliveries
}
