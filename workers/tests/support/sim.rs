//! The Salesforce simulator, in-process, and consumer processes pointed at it.

use std::time::Duration;

use serde_json::Value;
use sfsim::{RunningSimulator, SimAdmin, SimConfig, Simulator};
use testkit::harness::{self, ServiceProcess};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};
use workers::store::{EventStore, KeySpace, Priority};

use super::{BridgeStack, PREFIX};

/// A running simulator and an HTTP client for its `/__sim/` API.
pub struct Sim {
    pub sim: RunningSimulator,
    pub admin: SimAdmin,
}

impl Sim {
    /// Starts a healthy simulator on a free port.
    pub async fn start() -> Self {
        Self::start_with(SimConfig::on_free_port()).await
    }

    /// Starts a simulator with `config`.
    pub async fn start_with(config: SimConfig) -> Self {
        let sim = Simulator::start(config).await.expect("sfsim starts");
        let admin = SimAdmin::new(harness::http_client(), sim.base_url());
        Self { sim, admin }
    }

    /// All records of `object`.
    pub async fn records(&self, object: &str) -> Vec<Value> {
        self.admin.records(object).await.expect("sfsim answers")
    }

    /// The record of `object` whose `field` is `value`, if any.
    pub async fn record_by(&self, object: &str, field: &str, value: &str) -> Option<Value> {
        self.records(object)
            .await
            .into_iter()
            .find(|r| r[field] == value)
    }

    /// The write history of the record of `object` with external id `field` = `value`.
    pub async fn writes(&self, object: &str, field: &str, value: &str) -> Vec<Value> {
        self.admin
            .writes(object, field, value)
            .await
            .expect("sfsim answers")
    }

    /// The write history of the transaction of PaymentIntent `payment_intent`.
    pub async fn transaction_writes(&self, payment_intent: &str) -> Vec<Value> {
        self.writes(
            "Payment_Transaction__c",
            "Stripe_Payment_Intent_ID__c",
            payment_intent,
        )
        .await
    }

    /// The most counted API calls in any window of `window_ms`.
    pub async fn max_calls_in_window(&self, window_ms: u64) -> u64 {
        self.max_calls_in_window_since(window_ms, 0).await
    }

    /// The most counted API calls made at or after `since_ms` (epoch ms) in any window of
    /// `window_ms`.
    pub async fn max_calls_in_window_since(&self, window_ms: u64, since_ms: i64) -> u64 {
        self.admin
            .max_calls_in_window(window_ms, since_ms)
            .await
            .expect("sfsim answers")
    }

    /// Counted API calls so far.
    pub async fn calls(&self) -> Value {
        self.admin.calls().await.expect("sfsim answers")
    }

    /// Tokens issued so far.
    pub async fn tokens_issued(&self) -> u64 {
        self.admin.tokens_issued().await.expect("sfsim answers")
    }

    /// Puts a fault configuration in force.
    pub async fn set_faults(&self, faults: Value) {
        self.admin
            .set_faults(faults)
            .await
            .expect("faults accepted");
    }

    /// Makes every live token answer 401 INVALID_SESSION_ID from now on.
    pub async fn expire_sessions(&self) {
        self.admin
            .expire_sessions()
            .await
            .expect("sessions expired");
    }

    /// A session token for calls the test makes itself, as another client of the org would
    /// (client credentials, like the fleet).
    pub async fn access_token(&self) -> String {
        let token: Value = testkit::harness::http_client()
            .post(self.sim.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.sim.client_id()),
                ("client_secret", self.sim.client_secret()),
            ])
            .send()
            .await
            .expect("the token endpoint answers")
            .json()
            .await
            .expect("a JSON token response");
        token["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// The environment a consumer needs to reach this simulator.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "SALESFORCE_LOGIN_URL".into(),
                self.sim.base_url().to_owned(),
            ),
            (
                "SALESFORCE_CLIENT_ID".into(),
                self.sim.client_id().to_owned(),
            ),
            (
                "SALESFORCE_CLIENT_SECRET".into(),
                self.sim.client_secret().to_owned(),
            ),
            ("SALESFORCE_API_VERSION".into(), "v62.0".into()),
        ]
    }
}

impl BridgeStack {
    /// Adds events to a priority stream with the bridge's own enqueue script.
    pub async fn enqueue(&self, priority: Priority, events: &[StripeEvent]) {
        let store = EventStore::new(
            workers::store::connect(&self.redis_url()).expect("connect"),
            KeySpace::partitioned(PREFIX, workers::keys::DEFAULT_PARTITIONS),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        for event in events {
            let entry = workers::store::StreamEntry {
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                object_id: event.object_id.clone(),
                created: event.created,
                attempts: 0,
                received_at: common::time::unix_millis(),
                payload: event.body(),
            };
            store.enqueue(priority, &entry).await.expect("enqueue");
        }
    }

    /// Starts `workers <role>` against Redis and the simulator.
    pub async fn start_consumer(
        &self,
        role: &str,
        sim: &Sim,
        extra_env: &[(&str, &str)],
    ) -> ServiceProcess {
        self.start_consumer_with_port(role, sim, extra_env).await.0
    }

    /// [`Self::start_consumer`], also answering the port of its `/metrics`.
    pub async fn start_consumer_with_port(
        &self,
        role: &str,
        sim: &Sim,
        extra_env: &[(&str, &str)],
    ) -> (ServiceProcess, u16) {
        let metrics_port = harness::free_port();
        let mut env: Vec<(String, String)> = sim.env();
        env.extend([
            ("REDIS_URL".to_owned(), self.redis_url()),
            (
                "METRICS_ADDR".to_owned(),
                format!("127.0.0.1:{metrics_port}"),
            ),
            ("WORKER_ID".to_owned(), format!("{role}-{metrics_port}")),
            ("RUST_LOG".to_owned(), "info".to_owned()),
            ("REALTIME_BLOCK_MS".to_owned(), "200".to_owned()),
        ]);
        for (key, value) in extra_env {
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let process =
            ServiceProcess::spawn(role, env!("CARGO_BIN_EXE_workers"), &[role], &env_refs)
                .expect("worker starts");
        harness::wait_for_http(
            &format!("http://127.0.0.1:{metrics_port}/health/live"),
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", process.log_contents()));
        (process, metrics_port)
    }

    /// The lifecycle record of an event.
    pub async fn lifecycle(&self, event_id: &str) -> std::collections::HashMap<String, String> {
        let mut conn = self.redis().await;
        for tag in super::tags() {
            let lifecycle: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
                .arg(format!("{{{tag}}}:event:{event_id}"))
                .query_async(&mut conn)
                .await
                .expect("HGETALL");
            if !lifecycle.is_empty() {
                return lifecycle;
            }
        }
        Default::default()
    }

    /// Waits until every event's lifecycle state is one of `states`.
    pub async fn wait_for_states(
        &self,
        events: &[StripeEvent],
        states: &[&str],
        timeout: Duration,
    ) {
        let result = harness::wait_for("lifecycle states", timeout, || async {
            for event in events {
                let state = self
                    .lifecycle(&event.id)
                    .await
                    .get("state")
                    .cloned()
                    .unwrap_or_default();
                if !states.contains(&state.as_str()) {
                    return None;
                }
            }
            Some(())
        })
        .await;
        if let Err(error) = result {
            let mut report = Vec::new();
            for event in events {
                report.push(format!(
                    "{} {}: {:?}",
                    event.id,
                    event.event_type,
                    self.lifecycle(&event.id).await
                ));
            }
            panic!("{error}\n{}", report.join("\n"));
        }
    }
}

/// `payment_intent.succeeded` events of `count` new customers `cus_<prefix><i>`, one each.
pub fn new_customer_payments(prefix: &str, count: usize, currency: &str) -> Vec<StripeEvent> {
    let factory = EventFactory::new();
    (0..count)
        .map(|i| {
            let customer = format!("cus_{prefix}{i}");
            let intent = factory.payment_intent(&customer, 1000, currency, unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect()
}

/// High-priority events of one customer's life (what the default routing sends to `high`).
pub fn high_priority_events(factory: &EventFactory, currency: &str) -> Vec<StripeEvent> {
    factory
        .lifecycle(currency, unix_now())
        .into_iter()
        .filter(|e| {
            !e.event_type.starts_with("customer.")
                || e.event_type.starts_with("customer.subscription.")
        })
        .collect()
}
