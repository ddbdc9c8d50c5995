//! The fleet's Redis layout and the atomic operations on it.
//!
//! Keys live under the fleet-wide hash tag `{prefix}` or a partition's `{prefix:<n>}` (see
//! [`crate::keys`]); every Lua script touches one tag, so one cluster slot. The README's
//! "Redis layout" section lists each key, its type, and who reads and writes it.

mod assignment;
mod bulk_jobs;
mod catchup;
mod connection;
mod known;
mod lease;
mod ledger;
mod pacer;
mod reader;
mod record_key;
mod salesforce;
mod scripts;
pub use scripts::{all_at_once, query_all};
mod streams;

pub use assignment::Assignment;
pub use bulk_jobs::{BulkJobStore, JobRecord};
pub use catchup::{BackfillRun, CatchupStore, Watermark};
pub use connection::{connect, RedisConnection, RedisTarget};
pub use known::KnownRecords;
pub use lease::Lease;
pub use ledger::{
    Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, RecordClaim, RecordOutcome,
    Settlement,
};
pub use pacer::BatchPacer;
pub use reader::{Batch, MalformedEntry, StreamReader};
pub use record_key::RecordKey;

pub use salesforce::{coordination, RedisTokenStore, RedisUsageStore};

pub use crate::keys::{KeySpace, Priority, GROUP_BULK, GROUP_REALTIME};
pub use streams::{
    ensure_consumer_groups, stream_lengths, EnqueueOutcome, EventStore, StreamEntry,
};
