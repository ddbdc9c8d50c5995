//! A private Redis, the SQS emulator and bridge processes, for the bridge tests.
#![allow(dead_code)] // Each test binary uses a different part of this module.

pub mod outbound;
pub mod sim;

use std::{collections::HashMap, time::Duration};

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use testkit::harness::{self, RedisCluster, RedisServer, ServiceProcess, SqsEmulator};
use testkit::stripe::StripeEvent;

/// Key prefix the tests use (the default).
pub const PREFIX: &str = "fleet";

/// The hash tags of the test fleets' keys: the fleet-wide one and every partition's (the
/// processes run with the default `PARTITIONS`).
pub fn tags() -> Vec<String> {
    std::iter::once(PREFIX.to_owned())
        .chain((0..workers::keys::DEFAULT_PARTITIONS).map(|p| format!("{PREFIX}:{p}")))
        .collect()
}

/// One stream entry as `XRANGE` returns it.
pub type Entry = HashMap<String, String>;

/// Redis + emulator + queue, and the bridges a test starts.
pub struct BridgeStack {
    pub redis: RedisServer,
    /// When set, the fleet runs on this cluster instead of `redis`.
    pub cluster: Option<RedisCluster>,
    pub sqs: SqsEmulator,
    pub queue_url: String,
}

impl BridgeStack {
    /// Starts Redis (with an fsync-always AOF when `persistent`) and the emulator, and
    /// creates the queue.
    pub async fn start(persistent: bool) -> Self {
        let redis = if persistent {
            RedisServer::start_persistent().await
        } else {
            RedisServer::start().await
        }
        .expect("redis starts");
        let sqs = SqsEmulator::start().await.expect("emulator starts");
        let queue_url = sqs.create_queue("stripe-events").await.expect("queue");
        Self {
            redis,
            cluster: None,
            sqs,
            queue_url,
        }
    }

    /// [`Self::start`] with the fleet on a Redis Cluster of three masters and three
    /// replicas.
    pub async fn start_on_cluster() -> Self {
        let mut stack = Self::start(false).await;
        stack.cluster = Some(RedisCluster::start().await.expect("redis cluster starts"));
        stack
    }

    /// The fleet's `REDIS_URL`: the cluster's seed list, or the single server.
    pub fn redis_url(&self) -> String {
        match &self.cluster {
            Some(cluster) => cluster.url(),
            None => self.redis.url(),
        }
    }

    /// Starts one `workers bridge` process with `extra_env` and waits until it serves health.
    pub async fn start_bridge(&self, extra_env: &[(&str, &str)]) -> ServiceProcess {
        self.start_bridge_with_port(extra_env).await.0
    }

    /// [`Self::start_bridge`], also answering the port of its `/metrics`.
    pub async fn start_bridge_with_port(
        &self,
        extra_env: &[(&str, &str)],
    ) -> (ServiceProcess, u16) {
        let metrics_port = harness::free_port();
        let mut env: Vec<(String, String)> = self
            .sqs
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.extend([
            ("REDIS_URL".to_owned(), self.redis_url()),
            ("SQS_QUEUE_URL".to_owned(), self.queue_url.clone()),
            (
                "METRICS_ADDR".to_owned(),
                format!("127.0.0.1:{metrics_port}"),
            ),
            ("SQS_WAIT_SECS".to_owned(), "1".to_owned()),
            ("RUST_LOG".to_owned(), "info".to_owned()),
        ]);
        for (key, value) in extra_env {
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let bridge = ServiceProcess::spawn(
            "bridge",
            env!("CARGO_BIN_EXE_workers"),
            &["bridge"],
            &env_refs,
        )
        .expect("bridge starts");
        harness::wait_for_http(
            &format!("http://127.0.0.1:{metrics_port}/health/live"),
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", bridge.log_contents()));
        (bridge, metrics_port)
    }

    /// A Redis connection for assertions.
    pub async fn redis(&self) -> workers::store::RedisConnection {
        workers::store::connect(&self.redis_url()).expect("redis url")
    }

    /// Sends events to SQS as the ingress does (raw body, same attributes), in batches.
    pub async fn send_events(&self, events: &[StripeEvent]) {
        let bodies: Vec<(String, Option<&StripeEvent>)> =
            events.iter().map(|e| (e.body(), Some(e))).collect();
        self.send(bodies).await;
    }

    /// Sends raw bodies that are not (necessarily) Stripe events.
    pub async fn send_raw(&self, bodies: &[&str]) {
        self.send(bodies.iter().map(|b| (b.to_string(), None)).collect())
            .await;
    }

    async fn send(&self, messages: Vec<(String, Option<&StripeEvent>)>) {
        for chunk in messages.chunks(10) {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .map(|(index, (body, event))| {
                    let mut entry = SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body);
                    if let Some(event) = event {
                        let text = |v: &str| {
                            MessageAttributeValue::builder()
                                .data_type("String")
                                .string_value(v)
                                .build()
                                .expect("attribute")
                        };
                        entry = entry
                            .message_attributes("event_id", text(&event.id))
                            .message_attributes("event_type", text(&event.event_type))
                            .message_attributes("object_id", text(&event.object_id))
                            .message_attributes("received_at", text("1786000000000"));
                    }
                    entry.build().expect("entry")
                })
                .collect();
            let output = self
                .sqs
                .client()
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("SendMessageBatch");
            assert!(output.failed.is_empty(), "{:?}", output.failed);
        }
    }

    /// Entries of `<name>` (`high`, `low` or `dead`) in every partition and the fleet-wide
    /// tag, partition by partition.
    pub async fn entries(&self, name: &str) -> Vec<Entry> {
        let mut conn = self.redis().await;
        let mut entries = Vec::new();
        for tag in tags() {
            let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(format!("{{{tag}}}:{name}"))
                .arg("-")
                .arg("+")
                .query_async(&mut conn)
                .await
                .expect("XRANGE");
            entries.extend(reply.ids.into_iter().map(|id| {
                id.map
                    .into_iter()
                    .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap_or_default()))
                    .collect()
            }));
        }
        entries
    }

    /// Waits until the high and low streams together hold `count` entries.
    pub async fn wait_for_entries(
        &self,
        count: usize,
        timeout: Duration,
    ) -> (Vec<Entry>, Vec<Entry>) {
        harness::wait_for(&format!("{count} stream entries"), timeout, || async {
            let high = self.entries("high").await;
            let low = self.entries("low").await;
            (high.len() + low.len() >= count).then_some((high, low))
        })
        .await
        .expect("entries arrive")
    }

    /// Messages in the queue, visible or in flight.
    pub async fn messages_in_queue(&self) -> u64 {
        let output = self
            .sqs
            .client()
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("GetQueueAttributes");
        let attributes = output.attributes.unwrap_or_default();
        [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|name| attributes.get(name).and_then(|v| v.parse::<u64>().ok()))
        .sum()
    }

    /// Waits until SQS holds no message at all (every one deleted).
    pub async fn wait_for_empty_queue(&self, timeout: Duration) {
        harness::wait_for("an empty queue", timeout, || async {
            (self.messages_in_queue().await == 0).then_some(())
        })
        .await
        .expect("the queue empties");
    }
}

/// Event ids of entries, sorted.
pub fn event_ids(entries: &[Entry]) -> Vec<String> {
    let mut ids: Vec<String> = entries.iter().map(|e| e["event_id"].clone()).collect();
    ids.sort();
    ids
}
