//! `workers pending`: what waits in each priority stream and who holds it.
//!
//! Per stream: `XLEN`, the group's lag and pending count (`XINFO GROUPS`), the oldest
//! pending entry (`XPENDING ... - + 1`) and every consumer with its pending count and idle
//! time (`XINFO CONSUMERS`). Plus the retry schedule's size and the dead-letter count.

use redis::streams::{StreamInfoConsumersReply, StreamInfoGroupsReply, StreamPendingCountReply};
use serde::Serialize;

use crate::keys::{KeySpace, Priority};

use super::{Ops, OpsError};

/// The whole answer of `workers pending`.
#[derive(Debug, Clone, Serialize)]
pub struct PendingReport {
    /// Each partition's high and low stream, then the outbound stream.
    pub streams: Vec<StreamReport>,
    /// Events waiting in the retry schedule (`ZCARD {prefix}:retry`).
    pub retry_scheduled: u64,
    /// Entries in the dead-letter stream.
    pub dead_letters: u64,
}

/// One priority stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    /// `high` or `low`.
    pub stream: String,
    /// The Redis key.
    pub key: String,
    /// Entries in the stream (workers delete processed ones, so: waiting or in progress).
    pub length: u64,
    /// Its consumer group, `None` if no bridge has created it yet.
    pub group: Option<GroupReport>,
}

/// The consumer group of a stream.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// `realtime` or `bulk`.
    pub name: String,
    /// Entries not yet delivered to any consumer (`None` if Redis cannot tell).
    pub lag: Option<u64>,
    /// Delivered but not acknowledged.
    pub pending: u64,
    /// The pending entry with the lowest id.
    pub oldest_pending: Option<OldestPending>,
    /// Every consumer the group knows.
    pub consumers: Vec<ConsumerReport>,
}

/// The oldest unacknowledged entry of a group.
#[derive(Debug, Clone, Serialize)]
pub struct OldestPending {
    /// Its stream entry id.
    pub entry_id: String,
    /// The consumer holding it.
    pub consumer: String,
    /// Milliseconds since it was last delivered.
    pub idle_ms: u64,
    /// How often it was delivered.
    pub deliveries: u64,
}

/// One consumer (one worker replica, or a stopped one not yet removed).
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerReport {
    /// The consumer name (`WORKER_ID`, or host name and pid).
    pub name: String,
    /// Entries it holds unacknowledged.
    pub pending: u64,
    /// Milliseconds since its last read.
    pub idle_ms: u64,
}

impl Ops {
    /// Gathers the report; streams or groups that do not exist yet are reported empty.
    pub async fn pending(&self) -> Result<PendingReport, OpsError> {
        let mut streams = Vec::new();
        for (_, partition) in self.keys.all_partitions() {
            for priority in Priority::ALL {
                streams.push(self.stream_report(&partition, priority).await?);
            }
        }
        streams.push(self.stream_report(&self.keys, Priority::Outbound).await?);
        let mut counts = Vec::new();
        for (_, keys) in self.keys.event_spaces() {
            let mut zcard = redis::cmd("ZCARD");
            zcard.arg(keys.retry_schedule());
            let mut xlen = redis::cmd("XLEN");
            xlen.arg(keys.dead_letters());
            counts.push(zcard);
            counts.push(xlen);
        }
        let counts: Vec<u64> = crate::store::query_all(&self.conn(), &counts).await?;
        let retry_scheduled = counts.iter().step_by(2).sum();
        let dead_letters = counts.iter().skip(1).step_by(2).sum();
        Ok(PendingReport {
            streams,
            retry_scheduled,
            dead_letters,
        })
    }

    async fn stream_report(
        &self,
        keys: &KeySpace,
        priority: Priority,
    ) -> Result<StreamReport, OpsError> {
        let key = keys.stream(priority);
        let mut conn = self.conn();
        let length: u64 = redis::cmd("XLEN").arg(&key).query_async(&mut conn).await?;
        let groups: redis::RedisResult<StreamInfoGroupsReply> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&key)
            .query_async(&mut conn)
            .await;
        let groups = match groups {
            Ok(reply) => reply.groups,
            // XINFO on a missing key is an error; a missing stream simply has no group.
            Err(error) if length == 0 && error.to_string().contains("no such key") => vec![],
            Err(error) => return Err(error.into()),
        };
        let group = match groups.into_iter().find(|g| g.name == priority.group()) {
            None => None,
            Some(info) => {
                let consumers: StreamInfoConsumersReply = redis::cmd("XINFO")
                    .arg("CONSUMERS")
                    .arg(&key)
                    .arg(priority.group())
                    .query_async(&mut conn)
                    .await?;
                let oldest: StreamPendingCountReply = redis::cmd("XPENDING")
                    .arg(&key)
                    .arg(priority.group())
                    .arg("-")
                    .arg("+")
                    .arg(1)
                    .query_async(&mut conn)
                    .await?;
                Some(GroupReport {
                    name: info.name,
                    lag: info.lag.map(|l| l as u64),
                    pending: info.pending as u64,
                    oldest_pending: oldest.ids.into_iter().next().map(|p| OldestPending {
                        entry_id: p.id,
                        consumer: p.consumer,
                        idle_ms: p.last_delivered_ms as u64,
                        deliveries: p.times_delivered as u64,
                    }),
                    consumers: consumers
                        .consumers
                        .into_iter()
                        .map(|c| ConsumerReport {
                            name: c.name,
                            pending: c.pending as u64,
                            idle_ms: c.idle as u64,
                        })
                        .collect(),
                })
            }
        };
        Ok(StreamReport {
            stream: priority.name().to_owned(),
            key,
            length,
            group,
        })
    }
}
