//! The fleet's Redis layout and the atomic operations on it.
//!
//! Every key starts with one hash tag, `{prefix}` (default `{fleet}`), so all keys live in
//! one cluster slot and every Lua script may touch any of them. The README's "Redis
//! layout" section lists each key, its type, and who reads and writes it.

mod bulk_jobs;
mod catchup;
mod known;
mod lease;
mod ledger;
mod reader;
mod record_key;
mod salesforce;
mod scripts;
mod streams;

pub use bulk_jobs::{BulkJobStore, JobRecord};
pub use catchup::{BackfillRun, CatchupStore, Watermark};
pub use known::KnownRecords;
pub use lease::Lease;
pub use ledger::{
    Claim, Deferral, EventLedger, Failure, Finish, HeldEntry, RecordClaim, RecordOutcome,
    Settlement,
};
pub use reader::{Batch, MalformedEntry, StreamReader};
pub use record_key::RecordKey;

pub use salesforce::{coordination, RedisTokenStore, RedisUsageStore};

pub use crate::keys::{KeySpace, Priority, GROUP_BULK, GROUP_REALTIME};
pub use streams::{
    connect, ensure_consumer_groups, stream_lengths, EnqueueOutcome, EventStore, StreamEntry,
};
