//! The sliding window every rate budget of the fleet is built on: a sorted set in Redis
//! (`lua/sliding_window_limiter.lua`) holding the calls granted in the last window, asked
//! atomically by every replica, so that all of them together stay under one rate.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use crate::store::RedisConnection;
use common::time::unix_millis;
use tokio_util::sync::CancellationToken;

const LIMITER: &str = include_str!("../../../lua/sliding_window_limiter.lua");

/// One shared window: a Redis key and how long a granted call counts.
pub struct SlidingWindow {
    conn: RedisConnection,
    key: String,
    script: redis::Script,
    window: Duration,
    member: String,
    counter: AtomicU64,
}

impl SlidingWindow {
    /// The window kept at `key`; `replica` makes this process's grants distinct members.
    pub fn new(conn: RedisConnection, key: String, window: Duration, replica: &str) -> Self {
        Self {
            conn,
            key,
            script: redis::Script::new(LIMITER),
            window,
            member: replica.to_owned(),
            counter: AtomicU64::new(0),
        }
    }

    /// Asks for one slot among `limit` per window: `Ok(None)` when granted, `Ok(Some(wait))`
    /// when not, with how long until one frees.
    pub async fn try_acquire(&self, limit: u64) -> redis::RedisResult<Option<Duration>> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut conn = self.conn.clone();
        let (granted, wait_ms): (i64, i64) = self
            .script
            .key(&self.key)
            .arg(unix_millis())
            .arg(self.held_for().as_millis() as u64)
            .arg(limit)
            .arg(format!("{}:{n}", self.member))
            .invoke_async(&mut conn)
            .await?;
        Ok(if granted == 1 {
            None
        } else {
            Some(Duration::from_millis(
                u64::try_from(wait_ms).unwrap_or(1).max(1),
            ))
        })
    }

    /// How long a granted call occupies its slot: the window plus a margin (a tenth, at
    /// least 20 ms) for the time between the grant and the remote side receiving the
    /// request, so that a service counting by arrival never sees more than the limit in any
    /// window.
    fn held_for(&self) -> Duration {
        self.window + (self.window / 10).max(Duration::from_millis(20))
    }
}

/// Asks `try_acquire` until it grants a slot, sleeping the wait it answers; `None` when
/// `shutdown` is cancelled first. A Redis failure waits 200 ms and asks again: without
/// Redis nobody can prove the budget allows a call, so the gate fails closed. Answers how long
/// the caller waited.
pub async fn wait_for_slot<F, Fut>(
    mut try_acquire: F,
    shutdown: &CancellationToken,
    what: &str,
) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = redis::RedisResult<Option<Duration>>>,
{
    let started = tokio::time::Instant::now();
    loop {
        let wait = tokio::select! {
            _ = shutdown.cancelled() => return None,
            answer = try_acquire() => match answer {
                Ok(None) => return Some(started.elapsed()),
                Ok(Some(wait)) => wait,
                Err(error) => {
                    tracing::warn!(%error, budget = what, "Limiter unavailable; waiting before the call.");
                    Duration::from_millis(200)
                }
            },
        };
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
