//! The simulator's shared state: the account's objects (kept as the JSON Stripe would
//! return, in creation order), the idempotency table and the webhook deliveries.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::SimConfig;
use crate::delivery::Deliveries;
use crate::faults::Faults;
use crate::idempotency::IdempotencyTable;
use crate::ratelimit::RateLimiter;
use crate::search::SearchIndex;

/// Handle to the shared state; cheap to clone.
pub type AppState = Arc<SimState>;

/// A new id as Stripe forms them: `prefix` + `_` + 14 random alphanumerics (`cus_…`).
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 14)
    )
}

/// Seconds since the Unix epoch: Stripe's `created` timestamps.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Objects of one kind, by id, remembering creation order (lists are newest first).
#[derive(Debug, Default)]
pub struct Collection {
    order: Vec<String>,
    objects: HashMap<String, Value>,
}

impl Collection {
    /// Adds an object under its `id`.
    pub fn insert(&mut self, id: String, object: Value) {
        self.order.push(id.clone());
        self.objects.insert(id, object);
    }

    /// The object with this id.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.objects.get(id)
    }

    /// The object with this id, to change it.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.objects.get_mut(id)
    }

    /// Removes and returns the object.
    pub fn remove(&mut self, id: &str) -> Option<Value> {
        let object = self.objects.remove(id)?;
        self.order.retain(|kept| kept != id);
        Some(object)
    }

    /// All objects, newest first (the order of every Stripe list).
    pub fn newest_first(&self) -> Vec<&Value> {
        self.order
            .iter()
            .rev()
            .filter_map(|id| self.objects.get(id))
            .collect()
    }
}

/// The account's data.
#[derive(Debug, Default)]
pub struct Store {
    /// Live customers.
    pub customers: Collection,
    /// Ids of deleted customers (retrieving one answers the deleted stub).
    pub deleted_customers: HashSet<String>,
    /// Products.
    pub products: Collection,
    /// Prices, with their tiers (shown only when expanded).
    pub prices: Collection,
    /// Checkout sessions, with what completing them needs (`subscription_data`).
    pub checkout_sessions: Collection,
    /// Subscriptions (created when a Checkout session in subscription mode is paid).
    pub subscriptions: Collection,
    /// Invoices (one per billing period of a subscription).
    pub invoices: Collection,
    /// Payment intents (one per payment attempt of an invoice or a payment-mode session).
    pub payment_intents: Collection,
    /// Events, as `GET /v1/events` lists them.
    pub events: Collection,
    /// Webhook endpoints, with their signing secrets (`secret` is stripped when shown).
    pub webhook_endpoints: Collection,
}

/// Everything the simulator knows.
#[derive(Debug)]
pub struct SimState {
    /// Configuration as started.
    pub config: SimConfig,
    /// The account's objects.
    pub store: Mutex<Store>,
    /// Idempotency keys and their saved responses.
    pub idempotency: IdempotencyTable,
    /// Faults in force.
    pub faults: Faults,
    /// Stripe's rate limits and the requests admitted against them.
    pub rate_limiter: RateLimiter,
    /// What customer search sees (eventually consistent).
    pub search: SearchIndex,
    /// Webhook sending: pause switch and the attempts made.
    pub deliveries: Deliveries,
    /// Background work (webhook deliveries) to wait for on shutdown.
    pub tasks: TaskTracker,
    /// Cancelled when the simulator shuts down.
    pub shutdown: CancellationToken,
}

impl SimState {
    /// Builds the state from the configuration.
    pub fn new(config: SimConfig, shutdown: CancellationToken) -> Self {
        Self {
            idempotency: IdempotencyTable::new(config.idempotency_retention),
            deliveries: Deliveries::new(config.delivery_timeout),
            store: Mutex::new(Store::default()),
            faults: Faults::default(),
            rate_limiter: RateLimiter::new(config.rate_limits),
            search: SearchIndex::new(config.search_delay),
            tasks: TaskTracker::new(),
            shutdown,
            config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collections_list_newest_first_and_forget_removed() {
        let mut collection = Collection::default();
        for id in ["a", "b", "c"] {
            collection.insert(id.to_string(), json!({ "id": id }));
        }
        assert!(collection.remove("b").is_some());
        let ids: Vec<&Value> = collection
            .newest_first()
            .into_iter()
            .map(|o| &o["id"])
            .collect();
        assert_eq!(ids, [&json!("c"), &json!("a")]);
    }

    #[test]
    fn ids_have_the_prefix_and_differ() {
        let first = new_id("cus");
        assert!(first.starts_with("cus_") && first.len() == 18, "{first}");
        assert_ne!(first, new_id("cus"));
    }
}
