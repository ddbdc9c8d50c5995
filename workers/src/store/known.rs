//! Records the fleet knows to exist in Salesforce, so that parent stubs (a payment's
//! customer, a subscription's customer) are written only when the parent may be missing.
//!
//! A record is remembered (`{prefix}:known:<sObject>:<external id>`, a day) after a write of
//! it succeeded. Most events then cost one Collections call per object type instead of two.
//! A parent deleted in Salesforce behind the fleet's back makes the child fail with
//! "Foreign key external ID ... not found"; the writer then forgets the parent and the event
//! is retried, this time with its stub.

use std::time::Duration;

use crate::keys::KeySpace;
use crate::store::RedisConnection;

/// How long a record is remembered.
const REMEMBER_FOR: Duration = Duration::from_secs(86_400);

/// The set of known records, in Redis.
#[derive(Clone)]
pub struct KnownRecords {
    conn: RedisConnection,
    keys: KeySpace,
}

impl KnownRecords {
    /// Known records under `keys`.
    pub fn new(conn: RedisConnection, keys: KeySpace) -> Self {
        Self { conn, keys }
    }

    /// For each (sObject, external id): is it known to exist? Unknown when Redis fails.
    pub async fn lookup(&self, records: &[(&str, &str)]) -> Vec<bool> {
        if records.is_empty() {
            return Vec::new();
        }
        let mut command = redis::cmd("MGET");
        for (sobject, value) in records {
            command.arg(self.keys.known_record(sobject, value));
        }
        let mut conn = self.conn.clone();
        match command.query_async::<Vec<Option<String>>>(&mut conn).await {
            Ok(values) => values.into_iter().map(|v| v.is_some()).collect(),
            Err(error) => {
                tracing::debug!(%error, "Known records unavailable; writing every parent stub.");
                vec![false; records.len()]
            }
        }
    }

    /// Remembers that these records exist.
    pub async fn remember(&self, records: &[(&str, &str)]) {
        self.run(records, |pipe, key| {
            pipe.cmd("SET")
                .arg(key)
                .arg(1)
                .arg("EX")
                .arg(REMEMBER_FOR.as_secs())
                .ignore();
        })
        .await;
    }

    /// Forgets these records (a child found one of them missing).
    pub async fn forget(&self, records: &[(&str, &str)]) {
        self.run(records, |pipe, key| {
            pipe.cmd("DEL").arg(key).ignore();
        })
        .await;
    }

    async fn run(&self, records: &[(&str, &str)], add: impl Fn(&mut redis::Pipeline, String)) {
        if records.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for (sobject, value) in records {
            add(&mut pipe, self.keys.known_record(sobject, value));
        }
        let mut conn = self.conn.clone();
        if let Err(error) = pipe.query_async::<()>(&mut conn).await {
            tracing::debug!(%error, "Could not update the known records.");
        }
    }
}
