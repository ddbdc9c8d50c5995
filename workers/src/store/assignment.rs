//! Which partitions a replica reads new entries from.
//!
//! Realtime replicas read every partition, in turns ([`super::BatchPacer`]); the bulk
//! replicas share the partitions through a membership lease: each
//! replica renews its entry in `{prefix}:members:<group>` (a sorted set scored by when the
//! membership lapses) every second, drops lapsed members, and takes the partitions
//! `p` with `members[p % members.len()] == itself`, members sorted by name. Every replica
//! computes the same split from the same set, so when one joins or leaves the others
//! rebalance within a heartbeat, and when one dies its partitions pass on once its
//! membership lapses ([`MEMBERSHIP_TTL`]). Reading a partition twice for a moment is
//! harmless (the consumer group hands each entry to one consumer, and record claims order
//! the writes); leaving one unread is what the lease bounds. A replica that cannot reach
//! Redis keeps its last split; a new one starts with every partition until its first
//! heartbeat. Pending entries are reclaimed from every partition regardless (see
//! [`StreamReader`](super::StreamReader)).

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use common::time::unix_millis;
use tokio_util::sync::CancellationToken;

use super::RedisConnection;
use crate::keys::KeySpace;

/// How often a replica renews its membership and recomputes its partitions.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a membership lasts without renewal: how long a dead replica's partitions wait.
pub const MEMBERSHIP_TTL: Duration = Duration::from_secs(5);

/// The partitions this replica reads new entries from; shared by its clones.
#[derive(Debug, Clone)]
pub struct Assignment {
    partitions: Arc<RwLock<Vec<u16>>>,
}

impl Assignment {
    /// Every one of `count` partitions, never rebalanced (the outbound stream, tools).
    pub fn all(count: u16) -> Self {
        Self {
            partitions: Arc::new(RwLock::new((0..count).collect())),
        }
    }

    /// The current split.
    pub fn partitions(&self) -> Vec<u16> {
        self.partitions
            .read()
            .map(|partitions| partitions.clone())
            .unwrap_or_default()
    }

    fn set(&self, partitions: Vec<u16>) {
        if let Ok(mut current) = self.partitions.write() {
            *current = partitions;
        }
    }

    /// Starts with every partition and keeps this replica's share up to date as a member of
    /// `group` until `shutdown`, when it leaves the group so the others take over at once.
    pub fn shared(
        conn: RedisConnection,
        keys: &KeySpace,
        group: &str,
        worker_id: &str,
        shutdown: CancellationToken,
    ) -> Self {
        let assignment = Self::all(keys.partition_count());
        let members_key = keys.members(group);
        let me = worker_id.to_owned();
        let count = keys.partition_count();
        let shared = assignment.clone();
        let group = group.to_owned();
        tokio::spawn(async move {
            let mut last: Option<Vec<u16>> = None;
            loop {
                match heartbeat(&conn, &members_key, &me).await {
                    Ok(members) => {
                        let mine = split(&members, &me, count);
                        if last.as_ref() != Some(&mine) {
                            tracing::info!(%group, members = members.len(), partitions = ?mine, "Partitions assigned.");
                            last = Some(mine.clone());
                        }
                        shared.set(mine);
                    }
                    Err(error) => {
                        tracing::warn!(%error, %group, "Could not renew partition membership; keeping the current partitions.")
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(HEARTBEAT) => {}
                }
            }
            let mut conn = conn;
            let left: redis::RedisResult<()> = redis::cmd("ZREM")
                .arg(&members_key)
                .arg(&me)
                .query_async(&mut conn)
                .await;
            if let Err(error) = left {
                tracing::debug!(%error, "Could not leave the partition membership.");
            }
        });
        assignment
    }
}

/// Renews `me` and returns the live members.
async fn heartbeat(
    conn: &RedisConnection,
    members_key: &str,
    me: &str,
) -> redis::RedisResult<Vec<String>> {
    let now = unix_millis();
    let mut conn = conn.clone();
    let (members,): (Vec<String>,) = redis::pipe()
        .cmd("ZADD")
        .arg(members_key)
        .arg(now + MEMBERSHIP_TTL.as_millis() as i64)
        .arg(me)
        .ignore()
        .cmd("ZREMRANGEBYSCORE")
        .arg(members_key)
        .arg("-inf")
        .arg(now)
        .ignore()
        .cmd("ZRANGE")
        .arg(members_key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await?;
    Ok(members)
}

/// The partitions of `count` that fall to `me` among `members`: partition `p` goes to the
/// `p % n`-th member by name. A member missing from the list (its heartbeat not yet
/// visible) takes every partition rather than none.
pub fn split(members: &[String], me: &str, count: u16) -> Vec<u16> {
    let mut sorted: Vec<&str> = members.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let Some(position) = sorted.iter().position(|member| *member == me) else {
        return (0..count).collect();
    };
    (0..count)
        .filter(|p| usize::from(*p) % sorted.len() == position)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_partition_has_exactly_one_member() {
        for n in 1..=5 {
            let members: Vec<String> = (0..n).map(|i| format!("worker-{i}")).collect();
            let mut owners = vec![0; 16];
            for member in &members {
                let mine = split(&members, member, 16);
                assert!(mine.len() >= 16 / n && mine.len() <= 16 / n + 1, "{mine:?}");
                for p in mine {
                    owners[usize::from(p)] += 1;
                }
            }
            assert!(owners.iter().all(|o| *o == 1), "{n} members: {owners:?}");
        }
    }

    #[test]
    fn the_split_does_not_depend_on_the_order_seen() {
        let a = split(&names(&["b", "a", "c"]), "a", 16);
        let b = split(&names(&["c", "b", "a"]), "a", 16);
        assert_eq!(a, b);
        assert_eq!(a, vec![0, 3, 6, 9, 12, 15]);
    }

    #[test]
    fn an_unlisted_member_reads_everything() {
        assert_eq!(split(&names(&["a"]), "z", 4), vec![0, 1, 2, 3]);
    }
}
