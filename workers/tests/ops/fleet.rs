//! A private Redis with the fleet's streams, the `workers` binary's commands, and
//! helpers that put events where the fleet would.

use std::{collections::HashMap, process::Output, time::Duration};

use serde_json::Value;
use testkit::{
    harness::RedisServer,
    stripe::{EventFactory, StripeEvent},
};
use workers::keys::{KeySpace, Priority};
use workers::store::RedisConnection;
use workers::store::{self, Deferral, EventLedger, EventStore, Failure, HeldEntry, StreamEntry};

pub const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// A private Redis with the fleet's streams, and helpers that put events where the fleet
/// would.
pub struct Fleet {
    pub redis: RedisServer,
    pub conn: RedisConnection,
    pub keys: KeySpace,
    pub store: EventStore,
    pub events: EventFactory,
}

impl Fleet {
    pub async fn start() -> Self {
        let redis = RedisServer::start().await.expect("redis starts");
        let mut conn = store::connect(&redis.url()).expect("redis url");
        let keys = KeySpace::new("fleet");
        store::ensure_consumer_groups(&mut conn, &keys)
            .await
            .expect("groups");
        let store = EventStore::new(conn.clone(), keys.clone(), WEEK, WEEK);
        Self {
            redis,
            conn,
            keys,
            store,
            events: EventFactory::new(),
        }
    }

    /// A realistic event of `event_type`.
    pub fn event(&self, event_type: &str) -> StripeEvent {
        let customer = self.events.customer(1_786_000_000);
        self.events.event(event_type, customer, None, 1_786_000_000)
    }

    /// Enqueues `event` through the bridge's script; returns its stream entry.
    pub async fn enqueue(&self, priority: Priority, event: &StripeEvent) -> StreamEntry {
        let entry = StreamEntry {
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            object_id: event.object_id.clone(),
            created: event.created,
            attempts: 0,
            received_at: 1_786_000_000_123,
            payload: event.body(),
        };
        self.store.enqueue(priority, &entry).await.expect("enqueue");
        entry
    }

    /// Reads up to `count` entries of `priority` as `consumer` without acknowledging them.
    pub async fn read_as(&self, priority: Priority, consumer: &str, count: usize) -> Vec<String> {
        let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(priority.group())
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(self.keys.stream(priority))
            .arg(">")
            .query_async(&mut self.conn.clone())
            .await
            .expect("XREADGROUP");
        reply
            .keys
            .into_iter()
            .flat_map(|k| k.ids.into_iter().map(|id| id.id))
            .collect()
    }

    /// Enqueues `event`, has a worker read it and give up on it after 5 attempts, as
    /// `defer(.., Deferral::Dead, ..)` does; returns the dead-letter id.
    pub async fn kill(&self, priority: Priority, event: &StripeEvent) -> String {
        let mut entry = self.enqueue(priority, event).await;
        let entry_id = self
            .read_as(priority, "worker-1", 1)
            .await
            .pop()
            .expect("the worker reads the entry");
        entry.attempts = 5;
        let ledger = EventLedger::new(
            self.conn.clone(),
            self.keys.clone(),
            priority,
            "worker-1".to_owned(),
            Duration::from_secs(30),
            WEEK,
            WEEK,
        );
        let failure = Failure {
            class: salesforce_client::FailureClass::Permanent,
            code: "INVALID_FIELD".to_owned(),
            message: "Email: invalid email address: jane@example".to_owned(),
            detail: None,
        };
        ledger
            .defer(
                &HeldEntry {
                    entry_id,
                    entry,
                    partition: 0,
                },
                &Deferral::Dead,
                &failure,
            )
            .await
            .expect("defer to the dead-letter stream")
    }

    /// A bridge dead letter: an SQS message that is not a Stripe event.
    pub async fn bridge_dead_letter(&self) -> String {
        self.store
            .dead_letter(&[
                ("source", "bridge".to_owned()),
                ("reason", "not_a_stripe_event".to_owned()),
                ("error", "body is not JSON".to_owned()),
                ("sqs_message_id", "m-1".to_owned()),
                ("payload", "hello".to_owned()),
            ])
            .await
            .expect("dead letter")
    }

    /// Runs `workers ARGS` with nothing but `REDIS_URL` set (no Salesforce, no SQS), on
    /// the one-partition layout this fleet writes.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_partitioned(args, 1)
    }

    /// Runs `workers ARGS` as a fleet with `partitions` partitions would (one that was
    /// partitioned after these keys were written, when more than one).
    pub fn run_partitioned(&self, args: &[&str], partitions: u16) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_workers"))
            .args(args)
            .env_clear()
            .env("REDIS_URL", self.redis.url())
            .env("PARTITIONS", partitions.to_string())
            .output()
            .expect("the workers binary runs")
    }

    /// Runs a command that must succeed with `--json` and parses its answer.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let output = self.run(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the answer is JSON")
    }

    /// Runs a command that must succeed and returns its human-readable answer.
    pub fn human(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Runs a command that must fail with exit status 1; returns its stderr.
    pub fn failure(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?} must exit 1");
        text(&output.stderr)
    }

    pub async fn entries(&self, key: &str) -> Vec<HashMap<String, String>> {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(key)
            .arg("-")
            .arg("+")
            .query_async(&mut self.conn.clone())
            .await
            .expect("XRANGE");
        reply
            .ids
            .into_iter()
            .map(|id| {
                id.map
                    .into_iter()
                    .map(|(k, v)| (k, redis::from_redis_value::<String>(v).expect("text")))
                    .collect()
            })
            .collect()
    }

    pub async fn lifecycle(&self, event_id: &str) -> HashMap<String, String> {
        redis::cmd("HGETALL")
            .arg(self.keys.lifecycle(event_id))
            .query_async(&mut self.conn.clone())
            .await
            .expect("HGETALL")
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
