//! The Redis side of a channel's subscription: the [`Lease`] that makes one replica the
//! subscriber, the stored replay position, and journaling changes into the outbound stream
//! together with the position after them (`lua/journal_changes.lua`).

use std::time::Duration;

use crate::store::RedisConnection;
use common::time::unix_millis;

use super::change::Change;
use crate::{keys::KeySpace, store::Lease};

const JOURNAL: &str = include_str!("../../../lua/journal_changes.lua");

/// Where a channel resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The replay id after which to resume (hex), if any was stored.
    pub replay_id: Option<String>,
    /// The newest commit time journaled, Unix ms (0: none): where a SOQL catch-up starts.
    pub commit_timestamp: i64,
}

/// The lease was lost: another replica subscribes now.
#[derive(Debug, thiserror::Error)]
#[error("the channel's lease is held by another replica")]
pub struct LeaseLost;

/// One channel's journal, as one replica.
#[derive(Clone)]
pub struct ChannelJournal {
    conn: RedisConnection,
    keys: KeySpace,
    channel: String,
    lease: Lease,
    dedupe_window: Duration,
    lifecycle_retention: Duration,
}

impl ChannelJournal {
    /// The journal of `channel`, acting as `owner` with leases of `lease`.
    pub fn new(
        conn: RedisConnection,
        keys: KeySpace,
        channel: &str,
        owner: &str,
        lease: Duration,
        dedupe_window: Duration,
        lifecycle_retention: Duration,
    ) -> Self {
        Self {
            lease: Lease::new(conn.clone(), keys.outbound_lease(channel), owner, lease),
            conn,
            keys,
            channel: channel.to_owned(),
            dedupe_window,
            lifecycle_retention,
        }
    }

    /// The channel name.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// How long a lease lasts unrenewed.
    pub fn lease_time(&self) -> Duration {
        self.lease.ttl()
    }

    /// Takes or renews the lease; false when another replica holds it.
    pub async fn hold_lease(&self) -> redis::RedisResult<bool> {
        self.lease.hold().await
    }

    /// Gives the lease up (at shutdown), so a standby takes over at once.
    pub async fn release_lease(&self) -> redis::RedisResult<()> {
        self.lease.release().await
    }

    /// The stored position.
    pub async fn position(&self) -> redis::RedisResult<Position> {
        let (replay_id, commit_timestamp): (Option<String>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.keys.outbound_replay(&self.channel))
            .arg("replay_id")
            .arg("commit_timestamp")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(Position {
            replay_id: replay_id.filter(|id| !id.is_empty()),
            commit_timestamp: commit_timestamp.unwrap_or(0),
        })
    }

    /// Forgets the stored replay id (Salesforce refused it), keeping the commit time the
    /// catch-up starts from.
    pub async fn forget_replay_id(&self) -> redis::RedisResult<()> {
        redis::cmd("HDEL")
            .arg(self.keys.outbound_replay(&self.channel))
            .arg("replay_id")
            .query_async(&mut self.conn.clone())
            .await
    }

    /// Journals `changes` and moves the position to `replay_id` (hex; `None` leaves it), in
    /// one step; the catch-up start moves to the newest commit among them, or to `covered`
    /// (Unix ms, 0: no claim) when later. Answers how many changes were new.
    pub async fn journal(
        &self,
        changes: &[Change],
        replay_id: Option<&str>,
        covered: i64,
    ) -> Result<Result<u64, LeaseLost>, redis::RedisError> {
        let now = unix_millis();
        let newest = changes
            .iter()
            .map(|change| change.commit_timestamp)
            .max()
            .unwrap_or(0)
            .max(covered);
        let script = redis::Script::new(JOURNAL);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.lease.key())
            .key(self.keys.outbound_replay(&self.channel))
            .key(self.keys.stream(crate::keys::Priority::Outbound))
            .arg(self.lease.holder())
            .arg(replay_id.unwrap_or_default())
            .arg(newest)
            .arg(self.dedupe_window.as_secs().max(1))
            .arg(self.lifecycle_retention.as_secs().max(1))
            .arg(now);
        for change in changes {
            let entry = change.to_entry(now);
            invocation
                .key(self.keys.seen(&entry.event_id))
                .key(self.keys.lifecycle(&entry.event_id));
            let fields = entry.fields();
            invocation.arg(fields.len());
            for (name, value) in fields {
                invocation.arg(name).arg(value);
            }
        }
        let added: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(u64::try_from(added).map_err(|_| LeaseLost))
    }
}
