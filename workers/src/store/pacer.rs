//! The fleet's pace of realtime batches: the replicas take turns, and together they start a
//! batch at most once per batch interval unless entries pile up.
//!
//! Salesforce counts calls, and a realtime batch costs one (a Composite request), so what
//! the realtime path spends is the number of batches. Left to themselves, `n` replicas each
//! read as soon as they are free and send `n` times as many, smaller batches as one replica
//! would: scaling out for availability would multiply the API bill. Here a turn key in Redis,
//! held as a [`Lease`] (`lua/hold_lease.lua`), passes the right to read the next batch: the replica holding
//! it reads every partition, and when it got entries it starts the pause, so the next turn
//! (any free replica's) comes one interval later. An event therefore waits at most one
//! interval for its batch, and the fleet sends at most `1 s / interval` realtime batches per
//! second whatever its size. When a read found more entries than a batch takes, the turn is
//! freed at once: a backlog is drained by every replica at full speed.
//!
//! The turn expires on its own, so a replica that dies holding it delays the others by at
//! most the hold time; one that stops gives it up, as a [`Lease`] is given up.

use std::time::Duration;

use redis::RedisResult;

use super::{Lease, RedisConnection};

/// What the turn key holds during the pause after a batch: nobody's turn.
const PAUSE: &str = "-";

/// One replica's side of the fleet's batch turns.
#[derive(Clone)]
pub struct BatchPacer {
    conn: RedisConnection,
    /// The turn: its key, this replica's name and the hold time.
    turn: Lease,
    interval: Duration,
}

impl BatchPacer {
    /// Turns at `key` taken as `holder`: batches start at least `interval` apart, and a turn
    /// lasts `hold` unless renewed (longer than a blocking read, so the holder keeps it while
    /// it waits for entries).
    pub fn new(
        conn: RedisConnection,
        key: String,
        holder: &str,
        interval: Duration,
        hold: Duration,
    ) -> Self {
        Self {
            turn: Lease::new(conn.clone(), key, holder, hold),
            conn,
            interval,
        }
    }

    /// Waits until this replica has the turn (or renews the one it has). While another
    /// replica waits for entries it asks again every interval; during a pause it asks when
    /// the pause ends.
    pub async fn take_turn(&self) -> RedisResult<()> {
        while let Some(wait) = self.try_take().await? {
            tokio::time::sleep(wait.min(self.interval)).await;
        }
        Ok(())
    }

    /// Takes the turn if it is free (or renews this replica's): `None` when this replica
    /// has it, or else how long the current turn or pause has left.
    pub async fn try_take(&self) -> RedisResult<Option<Duration>> {
        self.turn.try_hold().await
    }

    /// Ends this replica's turn after it read a batch: the next turn comes one interval
    /// later, or at once when `more_waiting` (the read left entries behind).
    pub async fn end_turn(&self, more_waiting: bool) -> RedisResult<()> {
        if more_waiting {
            return self.release().await;
        }
        redis::cmd("SET")
            .arg(self.turn.key())
            .arg(PAUSE)
            .arg("PX")
            .arg(millis(self.interval))
            .query_async::<()>(&mut self.conn.clone())
            .await
    }

    /// Gives the turn up if this replica holds it, so another takes it at once (on shutdown).
    pub async fn release(&self) -> RedisResult<()> {
        self.turn.release().await
    }
}

/// A duration in whole milliseconds, at least one (`PX 0` is an error).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
