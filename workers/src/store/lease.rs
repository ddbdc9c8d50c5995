//! A lease: the one replica that may do a singular job (subscribe to a change event channel,
//! list Stripe's events for the catch-up) holds a key with an expiry and renews it while it
//! works; when it dies, the key expires and another replica takes over. Taking a free lease
//! and renewing one's own is one script (`lua/hold_lease.lua`), so two replicas never both
//! believe they hold it; giving it up deletes it only for its holder
//! (`lua/compare_and_delete.lua`).

use std::time::Duration;

use crate::store::RedisConnection;
use redis::RedisResult;

const HOLD: &str = include_str!("../../../lua/hold_lease.lua");
const RELEASE: &str = include_str!("../../../lua/compare_and_delete.lua");

/// One lease key, as one holder sees it.
#[derive(Clone)]
pub struct Lease {
    conn: RedisConnection,
    key: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// The lease at `key`, held as `holder` for `ttl` at a time.
    pub fn new(conn: RedisConnection, key: String, holder: &str, ttl: Duration) -> Self {
        Self {
            conn,
            key,
            holder: holder.to_owned(),
            ttl,
        }
    }

    /// How long the lease lasts unrenewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The key, for scripts that check the holder themselves.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The holder's name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the lease if it is free, or renews it if this holder has it; false when another
    /// holder does.
    pub async fn hold(&self) -> RedisResult<bool> {
        Ok(self.try_hold().await?.is_none())
    }

    /// [`Self::hold`], saying how long the other holder's lease has left when it is not
    /// this holder's: `None` when this holder has it now.
    pub async fn try_hold(&self) -> RedisResult<Option<Duration>> {
        let ttl_ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let left_ms: u64 = redis::Script::new(HOLD)
            .key(&self.key)
            .arg(&self.holder)
            .arg(ttl_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok((left_ms > 0).then(|| Duration::from_millis(left_ms)))
    }

    /// Gives the lease up if this holder still has it, so another replica takes over at once.
    pub async fn release(&self) -> RedisResult<()> {
        let _: i64 = redis::Script::new(RELEASE)
            .key(&self.key)
            .arg(&self.holder)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
