//! Reading a priority stream's partitions as one consumer of its group: new entries with
//! XREADGROUP from the partitions assigned to this replica, and entries left pending (its
//! own, or a stopped replica's, taken over with XAUTOCLAIM) from every partition, so no
//! entry is stranded in a partition nobody is assigned to.
//!
//! On one node a read names every assigned partition's stream in one blocking XREADGROUP.
//! On a cluster a command may not span slots, and a blocking read would hold up the shared
//! connection to its node, so the partitions are read without blocking, all at once, and
//! an empty sweep is followed by a short pause that grows while the streams stay empty.

use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::store::RedisConnection;
use redis::streams::StreamId;

use super::{HeldEntry, StreamEntry};

use super::Assignment;
use crate::keys::{KeySpace, Priority};

/// Each stream's part of a read of `count` entries over `streams` streams (`COUNT` applies
/// to each stream a command names), at least one.
fn share_of(count: usize, streams: usize) -> usize {
    count.div_ceil(streams.max(1)).max(1)
}

/// The longest pause between two empty sweeps of a cluster's partitions.
const MAX_SWEEP_PAUSE: Duration = Duration::from_millis(50);

/// One consumer's view of one stream (over its partitions) and group.
#[derive(Clone)]
pub struct StreamReader {
    conn: RedisConnection,
    /// The streams, one per partition (one in all for the outbound stream).
    streams: Arc<Vec<String>>,
    assignment: Assignment,
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
    /// The partition whose stream held it.
    pub partition: u16,
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
                partition: self.partition,
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
    /// A stream gave as many entries as were asked of it: more may be waiting.
    pub more_waiting: bool,
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

    /// Adds the entries of `other`.
    pub fn append(&mut self, other: Batch) {
        self.entries.extend(other.entries);
        self.malformed.extend(other.malformed);
        self.more_waiting |= other.more_waiting;
    }

    fn extend(&mut self, ids: Vec<StreamId>, partition: u16) {
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
                    partition,
                }),
                Err(problem) => self.malformed.push(MalformedEntry {
                    entry_id: id.id,
                    fields,
                    problem,
                    partition,
                }),
            }
        }
    }
}

impl StreamReader {
    /// A reader of `priority`'s stream in every partition of `keys` (the outbound stream is
    /// fleet-wide), in its group as `consumer`, reading new entries from the partitions
    /// `assignment` gives this replica.
    pub fn new(
        conn: RedisConnection,
        keys: &KeySpace,
        priority: Priority,
        consumer: &str,
        assignment: Assignment,
    ) -> Self {
        let streams = if priority == Priority::Outbound {
            vec![keys.stream(priority)]
        } else {
            keys.all_partitions()
                .map(|(_, partition)| partition.stream(priority))
                .collect()
        };
        Self {
            conn,
            streams: Arc::new(streams),
            assignment,
            group: priority.group().to_owned(),
            consumer: consumer.to_owned(),
        }
    }

    /// Up to `count` new entries from the assigned partitions, waiting at most `block` for
    /// the first one.
    pub async fn read_new(&self, count: usize, block: Duration) -> redis::RedisResult<Batch> {
        let assigned = self.assigned();
        if assigned.is_empty() {
            tokio::time::sleep(block).await;
            return Ok(Batch::default());
        }
        if !self.conn.is_cluster() {
            // COUNT applies to each stream named: share `count` among them.
            let per_partition = share_of(count, assigned.len());
            return self
                .read_group(&assigned, per_partition, Some(block), ">")
                .await;
        }
        let deadline = tokio::time::Instant::now() + block;
        let mut pause = Duration::from_millis(2);
        loop {
            let batch = self.sweep(&assigned, count, ">").await?;
            let now = tokio::time::Instant::now();
            if !batch.is_empty() || now >= deadline {
                return Ok(batch);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(MAX_SWEEP_PAUSE);
        }
    }

    /// Up to `count` new entries already waiting in the assigned partitions, without
    /// waiting for more.
    pub async fn read_waiting(&self, count: usize) -> redis::RedisResult<Batch> {
        let assigned = self.assigned();
        if assigned.is_empty() {
            return Ok(Batch::default());
        }
        if self.conn.is_cluster() {
            return self.sweep(&assigned, count, ">").await;
        }
        let per_partition = share_of(count, assigned.len());
        self.read_group(&assigned, per_partition, None, ">").await
    }

    /// The assigned partitions that have a stream.
    fn assigned(&self) -> Vec<u16> {
        self.assignment
            .partitions()
            .into_iter()
            .filter(|p| usize::from(*p) < self.streams.len())
            .collect()
    }

    /// Entries delivered to this consumer and not yet acknowledged (left pending because
    /// another replica held their object, or their newer sibling was not applied), from
    /// every partition.
    pub async fn read_own_pending(&self, count: usize) -> redis::RedisResult<Batch> {
        let every: Vec<u16> = (0..self.streams.len() as u16).collect();
        if self.conn.is_cluster() {
            self.sweep(&every, count, "0").await
        } else {
            let per_partition = share_of(count, every.len());
            self.read_group(&every, per_partition, None, "0").await
        }
    }

    /// One non-blocking read of each of `partitions`, all at once, up to `count` in all.
    async fn sweep(
        &self,
        partitions: &[u16],
        count: usize,
        from: &str,
    ) -> redis::RedisResult<Batch> {
        let per_partition = share_of(count, partitions.len());
        let reads = partitions
            .iter()
            .map(|p| self.read_group(std::slice::from_ref(p), per_partition, None, from));
        let mut batch = Batch::default();
        for read in futures_util::future::join_all(reads).await {
            batch.append(read?);
        }
        Ok(batch)
    }

    async fn read_group(
        &self,
        partitions: &[u16],
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
        command.arg("STREAMS");
        for p in partitions {
            command.arg(&self.streams[usize::from(*p)]);
        }
        for _ in partitions {
            command.arg(from);
        }
        let reply: Option<redis::streams::StreamReadReply> = command.query_async(&mut conn).await?;
        let mut batch = Batch::default();
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            let partition = self.partition_of(&key.key);
            batch.more_waiting |= key.ids.len() >= count;
            batch.extend(key.ids, partition);
        }
        Ok(batch)
    }

    fn partition_of(&self, stream: &str) -> u16 {
        self.streams
            .iter()
            .position(|s| s == stream)
            .map_or(0, |p| p as u16)
    }

    /// Takes over about `count` entries (a share of it per partition) that other consumers
    /// left pending for `min_idle`, in every partition.
    pub async fn reclaim(&self, min_idle: Duration, count: usize) -> redis::RedisResult<Batch> {
        let per_partition = share_of(count, self.streams.len());
        let claims = self.streams.iter().enumerate().map(|(p, stream)| {
            let mut conn = self.conn.clone();
            async move {
                let reply: redis::RedisResult<redis::streams::StreamAutoClaimReply> =
                    redis::cmd("XAUTOCLAIM")
                        .arg(stream)
                        .arg(&self.group)
                        .arg(&self.consumer)
                        .arg(min_idle.as_millis() as u64)
                        .arg("0-0")
                        .arg("COUNT")
                        .arg(per_partition)
                        .query_async(&mut conn)
                        .await;
                reply.map(|reply| (p as u16, reply))
            }
        });
        let mut batch = Batch::default();
        for claimed in futures_util::future::join_all(claims).await {
            let (partition, reply) = claimed?;
            batch.extend(reply.claimed, partition);
        }
        Ok(batch)
    }
}
