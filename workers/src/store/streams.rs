//! Writing events into the priority streams and the dead-letter stream.

use std::time::Duration;

use common::time::unix_millis;

use super::RedisConnection;

use super::{KeySpace, Priority};

/// The idempotent enqueue script (`lua/enqueue_event.lua`).
const ENQUEUE_SCRIPT: &str = include_str!("../../../lua/enqueue_event.lua");

/// One event as stored in a priority stream: readable fields an operator can inspect with
/// `XRANGE`, plus the raw payload the workers map to Salesforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// `evt_...`.
    pub event_id: String,
    /// Stripe event type.
    pub event_type: String,
    /// `data.object.id`.
    pub object_id: String,
    /// Stripe's `created`, Unix seconds.
    pub created: i64,
    /// Delivery attempts to Salesforce so far (0 when first enqueued).
    pub attempts: u32,
    /// When the ingress received it, Unix milliseconds (0 if unknown).
    pub received_at: i64,
    /// The raw event JSON as Stripe signed it.
    pub payload: String,
}

impl StreamEntry {
    /// The entry's field/value pairs, in the order `XRANGE` shows them.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("event_id", self.event_id.clone()),
            ("type", self.event_type.clone()),
            ("object_id", self.object_id.clone()),
            ("created", self.created.to_string()),
            ("attempts", self.attempts.to_string()),
            ("received_at", self.received_at.to_string()),
            ("payload", self.payload.clone()),
        ]
    }
}

impl StreamEntry {
    /// Where this event stands among events of the same second, compared as text.
    ///
    /// Stripe's `created` counts whole seconds, and an object created and changed within
    /// one second is common (a customer created, then given a name). Between two such
    /// events the one that creates the object is older and the one that deletes it newer
    /// than any other: `0` for `*.created` (or `*.CREATE`, a Salesforce change), `2` for
    /// `*.deleted` (`*.DELETE`), `1` for the rest; then the event id, which only makes
    /// the order total (two changes of one second cannot be told apart by their payload).
    pub fn order_in_second(&self) -> String {
        let kind = self
            .event_type
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let rank = match kind.as_str() {
            "created" | "create" => '0',
            "deleted" | "delete" => '2',
            _ => '1',
        };
        format!("{rank}{}", self.event_id)
    }

    /// Newest wins: whether this event is newer than `other` (by `created`, then
    /// [`Self::order_in_second`]).
    pub fn is_newer_than(&self, other: &StreamEntry) -> bool {
        (self.created, self.order_in_second()) > (other.created, other.order_in_second())
    }

    /// Reads an entry back from its stream fields; the error names what is missing.
    pub fn from_fields(fields: &std::collections::HashMap<String, String>) -> Result<Self, String> {
        let text = |name: &str| {
            fields
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no `{name}` field"))
        };
        let number = |name: &str| -> Result<i64, String> {
            text(name)?
                .parse()
                .map_err(|_| format!("`{name}` is not a number"))
        };
        Ok(Self {
            event_id: text("event_id")?,
            event_type: text("type")?,
            object_id: text("object_id")?,
            created: number("created")?,
            attempts: u32::try_from(number("attempts")?)
                .map_err(|_| "`attempts` out of range".to_owned())?,
            received_at: number("received_at").unwrap_or(0),
            payload: text("payload")?,
        })
    }
}

/// What the enqueue script did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// A new entry with this stream entry id.
    Added(String),
    /// The event id was already enqueued within the dedupe window (`stream|entry id`).
    Duplicate(String),
}

/// Creates every stream with its consumer group if missing: the high and low streams of
/// every partition, and the fleet-wide outbound stream. Groups start at `0` so that entries
/// written before the group existed are still delivered.
pub async fn ensure_consumer_groups(
    conn: &mut RedisConnection,
    keys: &KeySpace,
) -> redis::RedisResult<()> {
    let mut streams: Vec<(String, Priority)> = keys
        .all_partitions()
        .flat_map(|(_, partition)| {
            Priority::ALL.map(|priority| (partition.stream(priority), priority))
        })
        .collect();
    streams.push((keys.stream(Priority::Outbound), Priority::Outbound));
    for (stream, priority) in streams {
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(priority.group())
            .arg("0")
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Ok(()) => {
                tracing::debug!(%stream, group = priority.group(), "Created stream and consumer group.")
            }
            Err(error) if error.code() == Some("BUSYGROUP") => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// `XLEN` of the high and the low streams, summed over the partitions: the backlog the
/// bridge watches. Workers delete entries once processed, so the length is what is waiting
/// or in progress.
pub async fn stream_lengths(
    conn: &mut RedisConnection,
    keys: &KeySpace,
) -> redis::RedisResult<[u64; 2]> {
    let mut commands = Vec::new();
    for (_, partition) in keys.all_partitions() {
        for priority in Priority::ALL {
            let mut command = redis::cmd("XLEN");
            command.arg(partition.stream(priority));
            commands.push(command);
        }
    }
    let lengths: Vec<u64> = super::scripts::query_all(conn, &commands).await?;
    let mut totals = [0, 0];
    for pair in lengths.chunks(2) {
        totals[0] += pair[0];
        totals[1] += pair.get(1).copied().unwrap_or(0);
    }
    Ok(totals)
}

/// Writes events into the streams: idempotent enqueue and dead letters.
#[derive(Clone)]
pub struct EventStore {
    conn: RedisConnection,
    keys: KeySpace,
    enqueue: redis::Script,
    dedupe_window: Duration,
    lifecycle_retention: Duration,
    replication: Option<Replication>,
}

/// Replicas an enqueue must reach before it counts (`WAIT`), and how long to wait.
#[derive(Debug, Clone, Copy)]
struct Replication {
    replicas: u32,
    timeout: Duration,
}

impl EventStore {
    /// A store over `conn` with the given dedupe window and lifecycle retention.
    pub fn new(
        conn: RedisConnection,
        keys: KeySpace,
        dedupe_window: Duration,
        lifecycle_retention: Duration,
    ) -> Self {
        Self {
            conn,
            keys,
            enqueue: redis::Script::new(ENQUEUE_SCRIPT),
            dedupe_window,
            lifecycle_retention,
            replication: None,
        }
    }

    /// Makes [`enqueue`](Self::enqueue) confirm with `WAIT replicas timeout`, in the same
    /// round trip and on the same node as the write, that `replicas` replicas hold the
    /// entry; fewer in time is an error, so the caller keeps the message and tries again
    /// (the enqueue is idempotent). 0 turns it off.
    pub fn require_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replication = (replicas > 0).then_some(Replication { replicas, timeout });
        self
    }

    /// The key layout in use.
    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    /// A clone of the connection, for callers that run their own commands.
    pub fn connection(&self) -> RedisConnection {
        self.conn.clone()
    }

    /// Loads the scripts with `SCRIPT LOAD` so the first call is already an `EVALSHA`.
    /// Later `NOSCRIPT` errors (Redis restarted, `SCRIPT FLUSH`) reload them transparently.
    pub async fn load_scripts(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        self.enqueue.load_async(&mut conn).await.map(|_| ())
    }

    /// Adds `entry` to the `priority` stream unless its event id was enqueued within the
    /// dedupe window, atomically (see `lua/enqueue_event.lua`).
    pub async fn enqueue(
        &self,
        priority: Priority,
        entry: &StreamEntry,
    ) -> redis::RedisResult<EnqueueOutcome> {
        let keys = self.partition_keys(entry);
        let mut invocation = self.enqueue.prepare_invoke();
        invocation
            .key(keys.seen(&entry.event_id))
            .key(keys.stream(priority))
            .key(keys.lifecycle(&entry.event_id))
            .arg(self.dedupe_window.as_secs().max(1))
            .arg(self.lifecycle_retention.as_secs().max(1))
            .arg(unix_millis())
            .arg(priority.name());
        for (field, value) in entry.fields() {
            invocation.arg(field).arg(value);
        }
        let mut conn = self.conn.clone();
        let (added, detail): (i64, String) = match self.replication {
            None => invocation.invoke_async(&mut conn).await?,
            Some(replication) => {
                self.enqueue_replicated(&invocation, replication, &mut conn)
                    .await?
            }
        };
        Ok(if added == 1 {
            EnqueueOutcome::Added(detail)
        } else {
            EnqueueOutcome::Duplicate(detail)
        })
    }

    /// The enqueue script and `WAIT` in one pipeline: a pipeline goes to one node (the
    /// script's slot on a cluster), so `WAIT` counts the replicas of that very write.
    async fn enqueue_replicated(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        replication: Replication,
        conn: &mut RedisConnection,
    ) -> redis::RedisResult<(i64, String)> {
        let mut pipe = redis::pipe();
        pipe.invoke_script(invocation)
            .cmd("WAIT")
            .arg(replication.replicas)
            .arg(replication.timeout.as_millis() as u64);
        let answer: redis::RedisResult<((i64, String), u32)> = pipe.query_async(conn).await;
        let (outcome, replicas) = match answer {
            Err(error)
                if error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                self.load_scripts().await?;
                pipe.query_async(conn).await?
            }
            other => other?,
        };
        if replicas < replication.replicas {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "enqueue not replicated in time",
                format!(
                    "{replicas} of {} replicas acknowledged",
                    replication.replicas
                ),
            )));
        }
        Ok(outcome)
    }

    /// [`enqueue`](Self::enqueue) for many entries in one pipeline (one round trip): for
    /// the commands that enqueue a page of listed objects at a time. Each entry is its own
    /// atomic script call; the answers come in order.
    pub async fn enqueue_many(
        &self,
        priority: Priority,
        entries: &[StreamEntry],
    ) -> redis::RedisResult<Vec<EnqueueOutcome>> {
        let now = unix_millis();
        let invocations: Vec<redis::ScriptInvocation<'_>> = entries
            .iter()
            .map(|entry| {
                let keys = self.partition_keys(entry);
                let mut invocation = self.enqueue.prepare_invoke();
                invocation
                    .key(keys.seen(&entry.event_id))
                    .key(keys.stream(priority))
                    .key(keys.lifecycle(&entry.event_id))
                    .arg(self.dedupe_window.as_secs().max(1))
                    .arg(self.lifecycle_retention.as_secs().max(1))
                    .arg(now)
                    .arg(priority.name());
                for (field, value) in entry.fields() {
                    invocation.arg(field).arg(value);
                }
                invocation
            })
            .collect();
        let answers: Vec<(i64, String)> =
            super::scripts::invoke_all(&self.conn, &[&self.enqueue], &invocations).await?;
        Ok(answers
            .into_iter()
            .map(|(added, detail)| {
                if added == 1 {
                    EnqueueOutcome::Added(detail)
                } else {
                    EnqueueOutcome::Duplicate(detail)
                }
            })
            .collect())
    }

    /// The partition `entry` belongs to: by [`partition_key`](crate::keys::partition_key)
    /// of its payload; a payload that is not JSON (the bridge dead-letters those before
    /// they get here) falls back to the event id.
    pub fn partition_of(&self, entry: &StreamEntry) -> u16 {
        self.keys
            .partition_of_event(&entry.payload, &entry.event_id)
    }

    fn partition_keys(&self, entry: &StreamEntry) -> KeySpace {
        self.keys.partition(self.partition_of(entry))
    }

    /// Appends a dead letter with its reason and whatever is known of the event.
    pub async fn dead_letter(&self, fields: &[(&str, String)]) -> redis::RedisResult<String> {
        let mut command = redis::cmd("XADD");
        command.arg(self.keys.dead_letters()).arg("*");
        for (field, value) in fields {
            command.arg(*field).arg(value);
        }
        command.arg("dead_at").arg(unix_millis());
        let mut conn = self.conn.clone();
        command.query_async(&mut conn).await
    }
}
