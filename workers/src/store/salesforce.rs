//! The Salesforce client's shared state on Redis, so that every replica of every role logs
//! in once and throttles on the freshest daily usage any replica has seen:
//!
//! - `{prefix}:sf:token`: the session (JSON, expiring after the configured lifetime) and
//!   `{prefix}:sf:token-lock`, the refresh lock; both released with
//!   `lua/compare_and_delete.lua` so a replica never drops what another one stored.
//! - `{prefix}:sf:api-usage`: a hash `used`, `max`, `at` from `Sforce-Limit-Info`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::store::RedisConnection;
use common::time::unix_millis;
use salesforce_client::{
    ApiUsage, Coordination, Session, StoreError, StoreFuture, TokenStore, UsageStore,
};

use crate::{guard::SlidingWindowLimiter, keys::KeySpace, telemetry};

const COMPARE_AND_DELETE: &str = include_str!("../../../lua/compare_and_delete.lua");

/// The session token and its refresh lock, shared through Redis.
pub struct RedisTokenStore {
    conn: RedisConnection,
    token_key: String,
    lock_key: String,
    compare_and_delete: redis::Script,
}

impl RedisTokenStore {
    /// The token store under `keys`.
    pub fn new(conn: RedisConnection, keys: &KeySpace) -> Self {
        Self {
            conn,
            token_key: keys.salesforce_token(),
            lock_key: keys.salesforce_token_lock(),
            compare_and_delete: redis::Script::new(COMPARE_AND_DELETE),
        }
    }

    async fn delete_if(&self, key: &str, expected: String) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.compare_and_delete
            .key(key)
            .arg(expected)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}

impl TokenStore for RedisTokenStore {
    fn load(&self) -> StoreFuture<'_, Result<Option<Session>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let stored: Option<String> = redis::cmd("GET")
                .arg(&self.token_key)
                .query_async(&mut conn)
                .await
                .map_err(store_error)?;
            Ok(stored.and_then(|json| serde_json::from_str(&json).ok()))
        })
    }

    fn save(
        &self,
        session: Session,
        lifetime: Duration,
    ) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let serialized =
                serde_json::to_string(&session).map_err(|e| StoreError(e.to_string()))?;
            let mut conn = self.conn.clone();
            redis::cmd("SET")
                .arg(&self.token_key)
                .arg(serialized)
                .arg("EX")
                .arg(lifetime.as_secs().max(1))
                .query_async::<()>(&mut conn)
                .await
                .map_err(store_error)?;
            // A session is saved once per login: this counts the fleet's token refreshes.
            metrics::counter!(telemetry::TOKEN_REFRESHES).increment(1);
            Ok(())
        })
    }

    fn discard(&self, stale: Session) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let serialized =
                serde_json::to_string(&stale).map_err(|e| StoreError(e.to_string()))?;
            self.delete_if(&self.token_key, serialized).await
        })
    }

    fn try_lock(&self, owner: String, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let locked: Option<String> = redis::cmd("SET")
                .arg(&self.lock_key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
                .query_async(&mut conn)
                .await
                .map_err(store_error)?;
            Ok(locked.is_some())
        })
    }

    fn unlock(&self, owner: String) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.delete_if(&self.lock_key, owner).await })
    }
}

/// The org's latest daily usage, shared through Redis.
#[derive(Clone)]
pub struct RedisUsageStore {
    conn: RedisConnection,
    key: String,
}

impl RedisUsageStore {
    /// The usage hash under `keys`.
    pub fn new(conn: RedisConnection, keys: &KeySpace) -> Self {
        Self {
            conn,
            key: keys.salesforce_api_usage(),
        }
    }

    /// Stores `usage` as seen at `at_ms`.
    pub async fn store(&self, usage: ApiUsage, at_ms: i64) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(&self.key)
            .arg("used")
            .arg(usage.used)
            .arg("max")
            .arg(usage.max)
            .arg("at")
            .arg(at_ms)
            .query_async(&mut conn)
            .await
    }

    /// The latest usage any replica stored, if any.
    pub async fn read(&self) -> redis::RedisResult<Option<ApiUsage>> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, u64> = redis::cmd("HGETALL")
            .arg(&self.key)
            .query_async(&mut conn)
            .await?;
        Ok(match (fields.get("used"), fields.get("max")) {
            (Some(&used), Some(&max)) => Some(ApiUsage { used, max }),
            _ => None,
        })
    }
}

impl UsageStore for RedisUsageStore {
    fn record(&self, usage: ApiUsage) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.store(usage, unix_millis()).await.map_err(store_error) })
    }

    fn latest(&self) -> StoreFuture<'_, Result<Option<ApiUsage>, StoreError>> {
        Box::pin(async move { self.read().await.map_err(store_error) })
    }
}

/// The fleet's coordination for a Salesforce client: token and usage in Redis, every call
/// admitted by the shared sliding-window `limiter`.
pub fn coordination(
    conn: RedisConnection,
    keys: &KeySpace,
    limiter: Arc<SlidingWindowLimiter>,
) -> Coordination {
    Coordination {
        tokens: Arc::new(RedisTokenStore::new(conn.clone(), keys)),
        usage: Arc::new(RedisUsageStore::new(conn, keys)),
        gate: limiter,
    }
}

fn store_error(error: redis::RedisError) -> StoreError {
    StoreError(error.to_string())
}
