//! The catch-up's state in Redis: an unfinished `workers backfill` run (so an interrupted
//! run resumes where it stopped), the automatic catch-up's watermark, and the lease that
//! keeps one catch-up replica active however many run.

use std::{collections::HashMap, time::Duration};

use crate::store::RedisConnection;
use common::time::unix_millis;
use redis::{AsyncCommands, RedisResult};

use super::{KeySpace, Lease};

/// A backfill run as stored while it is under way: what it lists, how far it got and what
/// it counted, so that running the same backfill again resumes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillRun {
    /// The first instant listed, Unix seconds.
    pub from: i64,
    /// The event types listed, as the run describes them (`*` or a comma-separated list).
    pub types: String,
    /// The newest event handled so far: listing resumes after it.
    pub cursor: Option<String>,
    /// Events listed so far.
    pub listed: u64,
    /// Events enqueued to the high stream so far (new to the fleet).
    pub enqueued_high: u64,
    /// Events enqueued to the low stream so far.
    pub enqueued_low: u64,
    /// Events the fleet already had.
    pub seen: u64,
    /// Events that are not usable Stripe events (skipped).
    pub skipped: u64,
}

impl BackfillRun {
    fn from_hash(hash: &HashMap<String, String>) -> Option<Self> {
        let number = |name: &str| hash.get(name).and_then(|v| v.parse::<u64>().ok());
        Some(Self {
            from: hash.get("from")?.parse().ok()?,
            types: hash.get("types")?.clone(),
            cursor: hash.get("cursor").filter(|c| !c.is_empty()).cloned(),
            listed: number("listed").unwrap_or(0),
            enqueued_high: number("enqueued_high").unwrap_or(0),
            enqueued_low: number("enqueued_low").unwrap_or(0),
            seen: number("seen").unwrap_or(0),
            skipped: number("skipped").unwrap_or(0),
        })
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("from", self.from.to_string()),
            ("types", self.types.clone()),
            ("cursor", self.cursor.clone().unwrap_or_default()),
            ("listed", self.listed.to_string()),
            ("enqueued_high", self.enqueued_high.to_string()),
            ("enqueued_low", self.enqueued_low.to_string()),
            ("seen", self.seen.to_string()),
            ("skipped", self.skipped.to_string()),
            ("updated_at", unix_millis().to_string()),
        ]
    }
}

/// How far the automatic catch-up has listed: the newest event it handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// That event's `created`, Unix seconds.
    pub created: i64,
    /// Its id.
    pub event_id: String,
}

/// Reads and writes the catch-up's keys.
#[derive(Clone)]
pub struct CatchupStore {
    conn: RedisConnection,
    keys: KeySpace,
}

impl CatchupStore {
    /// A store over `conn`.
    pub fn new(conn: RedisConnection, keys: KeySpace) -> Self {
        Self { conn, keys }
    }

    /// The unfinished backfill run, if one was interrupted.
    pub async fn backfill_run(&self) -> RedisResult<Option<BackfillRun>> {
        let mut conn = self.conn.clone();
        let hash: HashMap<String, String> = conn.hgetall(self.keys.backfill_run()).await?;
        Ok(BackfillRun::from_hash(&hash))
    }

    /// Records the run's progress (after each page, so an interruption loses at most one
    /// page of work, which the dedupe makes free to redo).
    pub async fn save_backfill(&self, run: &BackfillRun) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.hset_multiple(self.keys.backfill_run(), &run.fields())
            .await
    }

    /// Forgets the run: it finished (or the operator starts afresh).
    pub async fn clear_backfill(&self) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.del(self.keys.backfill_run()).await
    }

    /// The state of an unfinished import: field → value (`<kind>:cursor`, `<kind>:done`,
    /// `<kind>:listed`, `<kind>:enqueued`).
    pub async fn import_state(&self) -> RedisResult<HashMap<String, String>> {
        let mut conn = self.conn.clone();
        conn.hgetall(self.keys.import_run()).await
    }

    /// Records an import's progress for one object kind.
    pub async fn save_import(&self, fields: &[(String, String)]) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.hset_multiple(self.keys.import_run(), fields).await
    }

    /// Forgets the import: it finished (or starts afresh).
    pub async fn clear_import(&self) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.del(self.keys.import_run()).await
    }

    /// The catch-up's watermark, if it ever ran.
    pub async fn watermark(&self) -> RedisResult<Option<Watermark>> {
        let mut conn = self.conn.clone();
        let hash: HashMap<String, String> = conn.hgetall(self.keys.catchup_watermark()).await?;
        Ok(hash
            .get("created")
            .and_then(|c| c.parse().ok())
            .map(|created| Watermark {
                created,
                event_id: hash.get("event_id").cloned().unwrap_or_default(),
            }))
    }

    /// Moves the watermark (only the lease holder writes it).
    pub async fn save_watermark(&self, watermark: &Watermark) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.hset_multiple(
            self.keys.catchup_watermark(),
            &[
                ("created", watermark.created.to_string()),
                ("event_id", watermark.event_id.clone()),
                ("at", unix_millis().to_string()),
            ],
        )
        .await
    }

    /// The catch-up's lease (`{prefix}:catchup:lease`) as `holder`, for `ttl` at a time.
    pub fn lease(&self, holder: &str, ttl: Duration) -> Lease {
        Lease::new(self.conn.clone(), self.keys.catchup_lease(), holder, ttl)
    }

    /// Takes the catch-up's lease for `holder` if no one holds it, or renews it if `holder`
    /// already does. True when `holder` holds it now.
    pub async fn hold_lease(&self, holder: &str, ttl: Duration) -> RedisResult<bool> {
        self.lease(holder, ttl).hold().await
    }

    /// Gives the lease up if `holder` still holds it, so another replica takes over at once.
    pub async fn release_lease(&self, holder: &str) -> RedisResult<()> {
        self.lease(holder, Duration::ZERO).release().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_survives_its_round_trip_through_a_hash() {
        let run = BackfillRun {
            from: 1_786_000_000,
            types: "customer.created,customer.updated".into(),
            cursor: Some("evt_1".into()),
            listed: 5,
            enqueued_high: 1,
            enqueued_low: 2,
            seen: 2,
            skipped: 0,
        };
        let hash: HashMap<String, String> = run
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(BackfillRun::from_hash(&hash), Some(run));
        assert_eq!(BackfillRun::from_hash(&HashMap::new()), None);
    }
}
