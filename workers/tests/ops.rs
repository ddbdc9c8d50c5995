//! The operator commands against a private Redis: the real `workers` binary for `pending`,
//! `dlq` and `status` (parsing its `--json` output), and the HTTP status route served
//! in-process by `workers::telemetry::serve`. Dead letters are written the way the fleet
//! writes them: `EventLedger::defer` for events, `EventStore::dead_letter` for the bridge.

use std::{collections::HashMap, process::Output, time::Duration};

use redis::aio::ConnectionManager;
use serde_json::Value;
use testkit::{
    harness::{self, RedisServer},
    stripe::{EventFactory, StripeEvent},
};
use tokio_util::sync::CancellationToken;
use workers::keys::{KeySpace, Priority};
use workers::{
    ops::status_api::StatusApi,
    store::{self, Deferral, EventLedger, EventStore, Failure, HeldEntry, StreamEntry},
};

const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// A private Redis with the fleet's streams, and helpers that put events where the fleet
/// would.
struct Fleet {
    redis: RedisServer,
    conn: ConnectionManager,
    keys: KeySpace,
    store: EventStore,
    events: EventFactory,
}

impl Fleet {
    async fn start() -> Self {
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
    fn event(&self, event_type: &str) -> StripeEvent {
        let customer = self.events.customer(1_786_000_000);
        self.events.event(event_type, customer, None, 1_786_000_000)
    }

    /// Enqueues `event` through the bridge's script; returns its stream entry.
    async fn enqueue(&self, priority: Priority, event: &StripeEvent) -> StreamEntry {
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
    async fn read_as(&self, priority: Priority, consumer: &str, count: usize) -> Vec<String> {
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
    async fn kill(&self, priority: Priority, event: &StripeEvent) -> String {
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
        };
        ledger
            .defer(&HeldEntry { entry_id, entry }, &Deferral::Dead, &failure)
            .await
            .expect("defer to the dead-letter stream")
    }

    /// A bridge dead letter: an SQS message that is not a Stripe event.
    async fn bridge_dead_letter(&self) -> String {
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

    /// Runs `workers ARGS` with nothing but `REDIS_URL` set (no Salesforce, no SQS).
    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_workers"))
            .args(args)
            .env_clear()
            .env("REDIS_URL", self.redis.url())
            .output()
            .expect("the workers binary runs")
    }

    /// Runs a command that must succeed with `--json` and parses its answer.
    fn json(&self, args: &[&str]) -> Value {
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
    fn human(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Runs a command that must fail with exit status 1; returns its stderr.
    fn failure(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?} must exit 1");
        text(&output.stderr)
    }

    async fn entries(&self, key: &str) -> Vec<HashMap<String, String>> {
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

    async fn lifecycle(&self, event_id: &str) -> HashMap<String, String> {
        redis::cmd("HGETALL")
            .arg(self.keys.lifecycle(event_id))
            .query_async(&mut self.conn.clone())
            .await
            .expect("HGETALL")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn dlq_list_shows_summaries_without_payloads_and_show_prints_everything() {
    let fleet = Fleet::start().await;
    let customer = fleet.event("customer.created");
    let invoice = fleet.event("invoice.payment_failed");
    let first = fleet.kill(Priority::High, &customer).await;
    fleet.kill(Priority::Low, &invoice).await;
    let bridge = fleet.bridge_dead_letter().await;

    let list = fleet.json(&["dlq", "list"]);
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], bridge.as_str(), "newest first");
    assert_eq!(list[2]["event_id"], customer.id.as_str());
    assert_eq!(list[2]["type"], "customer.created");
    assert_eq!(list[2]["reason"], "permanent");
    assert_eq!(list[2]["attempts"], 5);
    assert!(list[2]["dead_at"].as_str().expect("a time").ends_with('Z'));
    for letter in list {
        assert!(letter.get("payload").is_none(), "no payload in a listing");
    }
    let only = fleet.json(&["dlq", "list", "--type", "customer.created"]);
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    assert_eq!(
        fleet
            .json(&["dlq", "list", "--limit", "1"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let table = fleet.human(&["dlq", "list"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("Z (now)") || table.contains(" ago)"),
        "{table}"
    );
    let email = customer.json["data"]["object"]["email"]
        .as_str()
        .expect("the customer has an e-mail");
    assert!(
        !table.contains(email),
        "payloads stay out of listings: {table}"
    );
    assert!(!fleet.json(&["dlq", "list"]).to_string().contains(email));

    let shown = fleet.json(&["dlq", "show", &first]);
    assert_eq!(shown["payload"]["id"], customer.id.as_str());
    assert_eq!(shown["object_id"], customer.object_id.as_str());
    assert_eq!(shown["source"], "high");
    let pretty = fleet.human(&["dlq", "show", &first]);
    assert!(pretty.contains("payload:\n{\n  \""), "{pretty}");
    assert!(pretty.contains("INVALID_FIELD"), "{pretty}");
    assert!(fleet
        .failure(&["dlq", "show", "1-1"])
        .contains("no dead letter 1-1"));
}

#[tokio::test]
async fn replay_puts_the_event_back_on_its_stream_once() {
    let fleet = Fleet::start().await;
    let event = fleet.event("customer.updated");
    let dead_id = fleet.kill(Priority::Low, &event).await;
    assert!(fleet
        .entries(&fleet.keys.stream(Priority::Low))
        .await
        .is_empty());

    let report = fleet.json(&["dlq", "replay", &dead_id]);
    assert_eq!(report["replayed"][0]["stream"], "low");

    let low = fleet.entries(&fleet.keys.stream(Priority::Low)).await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0]["event_id"], event.id);
    assert_eq!(low[0]["attempts"], "0");
    assert_eq!(low[0]["payload"], event.body());
    assert!(fleet.entries(&fleet.keys.dead_letters()).await.is_empty());
    let lifecycle = fleet.lifecycle(&event.id).await;
    assert_eq!(lifecycle["state"], "enqueued");
    assert_eq!(lifecycle["attempts"], "0");
    assert!(lifecycle.contains_key("replayed_at"));
    assert!(!lifecycle.contains_key("dead_entry"));
    let seen: bool = redis::cmd("EXISTS")
        .arg(fleet.keys.seen(&event.id))
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("EXISTS");
    assert!(
        seen,
        "the dedupe marker is still there and did not block the replay"
    );

    let again = fleet.failure(&["dlq", "replay", &dead_id]);
    assert!(
        again.contains(&format!("no dead letter {dead_id}")),
        "{again}"
    );
    assert_eq!(
        fleet.entries(&fleet.keys.stream(Priority::Low)).await.len(),
        1
    );
}

#[tokio::test]
async fn replay_by_type_and_all_refuse_bridge_dead_letters() {
    let fleet = Fleet::start().await;
    let high = fleet.event("customer.created");
    let low = fleet.event("customer.created");
    let other = fleet.event("invoice.payment_failed");
    fleet.kill(Priority::High, &high).await;
    fleet.kill(Priority::Low, &low).await;
    fleet.kill(Priority::Low, &other).await;
    let bridge = fleet.bridge_dead_letter().await;

    let refused = fleet.failure(&["dlq", "replay", &bridge]);
    assert!(refused.contains("not replayable"), "{refused}");
    assert!(refused.contains("not Stripe events"), "{refused}");

    let report = fleet.json(&["dlq", "replay", "--type", "customer.created"]);
    assert_eq!(report["replayed"].as_array().map(Vec::len), Some(2));
    let ids = |entries: Vec<HashMap<String, String>>| -> Vec<String> {
        entries.into_iter().map(|e| e["event_id"].clone()).collect()
    };
    assert_eq!(
        ids(fleet.entries(&fleet.keys.stream(Priority::High)).await),
        [high.id.as_str()]
    );
    assert_eq!(
        ids(fleet.entries(&fleet.keys.stream(Priority::Low)).await),
        [low.id.as_str()]
    );

    let dry = fleet.json(&["dlq", "replay", "--all", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["replayed"][0]["event_id"], other.id.as_str());
    assert_eq!(dry["refused"][0]["dead_id"], bridge.as_str());
    assert_eq!(
        fleet.entries(&fleet.keys.dead_letters()).await.len(),
        2,
        "dry run"
    );

    let all = fleet.human(&["dlq", "replay", "--all"]);
    assert!(all.starts_with("Replayed 1 event(s); refused 1."), "{all}");
    let left = fleet.entries(&fleet.keys.dead_letters()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["source"], "bridge");
}

#[tokio::test]
async fn purge_deletes_old_or_all_dead_letters() {
    let fleet = Fleet::start().await;
    let _: String = redis::cmd("XADD")
        .arg(fleet.keys.dead_letters())
        .arg("1000-0")
        .arg("source")
        .arg("bridge")
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("an old dead letter");
    fleet.bridge_dead_letter().await;
    fleet
        .kill(Priority::High, &fleet.event("customer.created"))
        .await;

    assert!(fleet.failure(&["dlq", "purge", "--all"]).contains("--yes"));
    assert_eq!(
        fleet.json(&["dlq", "purge", "--older-than", "1d"])["purged"],
        1
    );
    assert_eq!(fleet.entries(&fleet.keys.dead_letters()).await.len(), 2);
    let purged = fleet.human(&["dlq", "purge", "--all", "--yes"]);
    assert_eq!(purged, "Purged 2 dead letter(s).\n");
    assert!(fleet.entries(&fleet.keys.dead_letters()).await.is_empty());
}

/// Writes a lifecycle record as the scripts would.
async fn write_lifecycle(fleet: &Fleet, event_id: &str, fields: &[(&str, &str)]) {
    let mut command = redis::cmd("HSET");
    command.arg(fleet.keys.lifecycle(event_id));
    for (field, value) in fields {
        command.arg(*field).arg(*value);
    }
    let _: i64 = command
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("HSET");
}

#[tokio::test]
async fn status_shows_the_lifecycle_or_says_the_event_is_unknown() {
    let fleet = Fleet::start().await;
    write_lifecycle(
        &fleet,
        "evt_applied",
        &[
            ("state", "applied"),
            ("stream", "high"),
            ("entry_id", "1786000000000-0"),
            ("enqueued_at", "1786000000000"),
            ("processing_at", "1786000000500"),
            ("finished_at", "1786000001000"),
            ("salesforce_id", "a01000000000001AAA"),
            ("attempts", "1"),
        ],
    )
    .await;
    write_lifecycle(
        &fleet,
        "evt_retrying",
        &[
            ("state", "retrying"),
            ("stream", "low"),
            ("attempts", "2"),
            ("next_attempt_at", "1786000004000"),
            (
                "last_error",
                "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access",
            ),
            ("failure_class", "retryable"),
        ],
    )
    .await;

    let applied = fleet.json(&["status", "evt_applied"]);
    assert_eq!(applied["state"], "applied");
    assert_eq!(applied["salesforce_id"], "a01000000000001AAA");
    assert_eq!(applied["finished_at"], "2026-08-06T07:06:41.000Z");
    let human = fleet.human(&["status", "evt_applied"]);
    assert!(human.contains("state:"), "{human}");
    assert!(human.contains(" ago)"), "{human}");
    assert!(human.contains("2026-08-06T07:06:40.000Z ("), "{human}");

    let retrying = fleet.json(&["status", "evt_retrying"]);
    assert_eq!(retrying["attempts"], 2);
    assert_eq!(retrying["failure_class"], "retryable");
    assert_eq!(retrying["next_attempt_at"], "2026-08-06T07:06:44.000Z");
    assert!(retrying["last_error"]
        .as_str()
        .expect("text")
        .starts_with("UNABLE_TO_LOCK_ROW"));

    let unknown = fleet.failure(&["status", "evt_nope"]);
    assert!(unknown.contains("evt_nope is unknown"), "{unknown}");
    assert!(unknown.contains("kept for 7d"), "{unknown}");
}

#[tokio::test]
async fn pending_shows_consumers_holding_unacknowledged_entries() {
    let fleet = Fleet::start().await;
    for _ in 0..3 {
        fleet
            .enqueue(Priority::High, &fleet.event("customer.created"))
            .await;
    }
    assert_eq!(fleet.read_as(Priority::High, "worker-a", 2).await.len(), 2);
    fleet
        .kill(Priority::Low, &fleet.event("customer.updated"))
        .await;

    let report = fleet.json(&["pending"]);
    let high = &report["streams"][0];
    assert_eq!(high["stream"], "high");
    assert_eq!(high["length"], 3);
    assert_eq!(high["group"]["name"], "realtime");
    assert_eq!(high["group"]["pending"], 2);
    assert_eq!(high["group"]["lag"], 1);
    assert_eq!(high["group"]["oldest_pending"]["consumer"], "worker-a");
    assert_eq!(high["group"]["consumers"][0]["name"], "worker-a");
    assert_eq!(high["group"]["consumers"][0]["pending"], 2);
    let low = &report["streams"][1];
    assert_eq!(low["length"], 0);
    assert_eq!(low["group"]["pending"], 0);
    assert_eq!(report["dead_letters"], 1);
    assert_eq!(report["retry_scheduled"], 0);

    let human = fleet.human(&["pending"]);
    assert!(human.contains("worker-a"), "{human}");
    assert!(human.contains("dead letters:   1"), "{human}");
}

#[tokio::test]
async fn http_status_needs_the_bearer_token_and_hides_error_text() {
    let fleet = Fleet::start().await;
    write_lifecycle(
        &fleet,
        "evt_dead",
        &[
            ("state", "dead"),
            ("attempts", "5"),
            (
                "last_error",
                "INVALID_FIELD: Email: jane@example is invalid",
            ),
            ("failure_class", "permanent"),
        ],
    )
    .await;
    let token = "test-token-0123456789";
    let with_api = serve(Some(StatusApi::new(
        fleet.conn.clone(),
        fleet.keys.clone(),
        token.to_owned(),
    )))
    .await;
    let without_api = serve(None).await;
    let client = harness::http_client();
    let get = |base: &str, id: &str, bearer: Option<&str>| {
        let mut request = client.get(format!("{base}/v1/events/{id}"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        async move { request.send().await.expect("the server answers") }
    };

    assert_eq!(get(&with_api.0, "evt_dead", None).await.status(), 401);
    assert_eq!(
        get(&with_api.0, "evt_dead", Some("wrong")).await.status(),
        401
    );
    assert_eq!(
        get(&with_api.0, "evt_nope", Some(token)).await.status(),
        404
    );
    let found = get(&with_api.0, "evt_dead", Some(token)).await;
    assert_eq!(found.status(), 200);
    let body: Value = found.json().await.expect("JSON");
    assert_eq!(body["state"], "dead");
    assert_eq!(body["attempts"], 5);
    assert_eq!(
        body["last_error"], "INVALID_FIELD",
        "no message text over HTTP"
    );
    assert_eq!(
        get(&without_api.0, "evt_dead", Some(token)).await.status(),
        404
    );

    with_api.1.cancel();
    without_api.1.cancel();
}

/// Starts the workers' metrics server in this process; returns its base URL and the
/// token that stops it.
async fn serve(status: Option<StatusApi>) -> (String, CancellationToken) {
    let port = harness::free_port();
    let shutdown = CancellationToken::new();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    tokio::spawn(workers::telemetry::serve(
        addr,
        metrics,
        status,
        shutdown.clone(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    harness::wait_for_http(&format!("{base}/health"), Duration::from_secs(10))
        .await
        .expect("the server listens");
    (base, shutdown)
}
