//! Reading a priority stream as one consumer of its group: new entries with XREADGROUP,
//! and entries a dead replica left pending with XAUTOCLAIM.

use std::{collections::HashMap, time::Duration};

use redis::{aio::ConnectionManager, streams::StreamId};

use super::{HeldEntry, StreamEntry};

/// One consumer's view of one stream and group.
#[derive(Clone)]
pub struct StreamReader {
    conn: ConnectionManager,
    stream: String,
    group: String,
    consumer: String,
}

/// An entry whose fields do not make a [`StreamEntry`]; it is dead-lettered as is.
#[derive(Debug, Clone)]
pub struct MalformedEntry {
    /// Stream entry id.
    pub entry_id: String,
    /// Whatever fields it had.
    pub fields: HashMap<String, String>,
    /// What is missing or wrong.
    pub problem: String,
}

impl MalformedEntry {
    /// The entry as it goes to the dead letters: whatever fields it had, no record claimed,
    /// a permanent `MALFORMED_ENTRY` failure. Both the inbound and the outbound consumers
    /// settle malformed entries this way.
    pub fn into_dead_letter(self) -> super::Settlement {
        let field = |name: &str| self.fields.get(name).cloned().unwrap_or_default();
        let entry = StreamEntry {
            event_id: self
                .fields
                .get("event_id")
                .cloned()
                .unwrap_or_else(|| self.entry_id.clone()),
            event_type: field("type"),
            object_id: field("object_id"),
            created: 0,
            attempts: 0,
            received_at: 0,
            payload: field("payload"),
        };
        super::Settlement::Defer {
            held: HeldEntry {
                entry_id: self.entry_id,
                entry,
            },
            deferral: super::Deferral::Dead,
            failure: super::Failure::new(
                salesforce_client::FailureClass::Permanent,
                "MALFORMED_ENTRY",
                self.problem,
            ),
            records: Vec::new(),
        }
    }
}

/// What one read returned.
#[derive(Debug, Default)]
pub struct Batch {
    /// Usable entries.
    pub entries: Vec<HeldEntry>,
    /// Entries that cannot be parsed.
    pub malformed: Vec<MalformedEntry>,
}

impl Batch {
    /// Number of entries of both kinds.
    pub fn len(&self) -> usize {
        self.entries.len() + self.malformed.len()
    }

    /// True if nothing was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn extend(&mut self, ids: Vec<StreamId>) {
        for id in ids {
            let fields: HashMap<String, String> = id
                .map
                .into_iter()
                .filter_map(|(k, v)| redis::from_redis_value::<String>(v).ok().map(|v| (k, v)))
                .collect();
            match StreamEntry::from_fields(&fields) {
                Ok(entry) => self.entries.push(HeldEntry {
                    entry_id: id.id,
                    entry,
                }),
                Err(problem) => self.malformed.push(MalformedEntry {
                    entry_id: id.id,
                    fields,
                    problem,
                }),
            }
        }
    }
}

impl StreamReader {
    /// A reader of `stream` in `group` as `consumer`.
    pub fn new(conn: ConnectionManager, stream: String, group: &str, consumer: &str) -> Self {
        Self {
            conn,
            stream,
            group: group.to_owned(),
            consumer: consumer.to_owned(),
        }
    }

    /// Up to `count` new entries, waiting at most `block` for the first one.
    pub async fn read_new(&self, count: usize, block: Duration) -> redis::RedisResult<Batch> {
        self.read_group(count, Some(block), ">").await
    }

    /// Entries delivered to this consumer and not yet acknowledged (left pending because
    /// another replica held their object, or their newer sibling was not applied).
    pub async fn read_own_pending(&self, count: usize) -> redis::RedisResult<Batch> {
        self.read_group(count, None, "0").await
    }

    async fn read_group(
        &self,
        count: usize,
        block: Option<Duration>,
        from: &str,
    ) -> redis::RedisResult<Batch> {
        let mut conn = self.conn.clone();
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count);
        if let Some(block) = block {
            command.arg("BLOCK").arg(block.as_millis() as u64);
        }
        let reply: Option<redis::streams::StreamReadReply> = command
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(from)
            .query_async(&mut conn)
            .await?;
        let mut batch = Batch::default();
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            batch.extend(key.ids);
        }
        Ok(batch)
    }

    /// Takes over up to `count` entries that other consumers left pending for `min_idle`.
    pub async fn reclaim(&self, min_idle: Duration, count: usize) -> redis::RedisResult<Batch> {
        let mut conn = self.conn.clone();
        let reply: redis::streams::StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(min_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        let mut batch = Batch::default();
        batch.extend(reply.claimed);
        Ok(batch)
    }
}
