//! The machinery the realtime and bulk consumers share: assembling batches from the
//! stream (read through [`crate::store::StreamReader`]) ([`batching`]), the claim → coalesce →
//! map → settle steps ([`pipeline`], with the pure newest-per-object rule in
//! [`coalesce`]), writing to Salesforce through Collections ([`writer`], planned by the
//! pure [`plan`], the upserts of a batch sent together in Composite requests as the pure
//! [`calls`] groups them, in `upserts`; writes by id or query in `targeted`, deletions of records a list no longer
//! has in `deletions`), lookups set only where the parent exists ([`lookups`], shared with
//! the Bulk writer), each event's result ([`outcome`]) and what it tells monitoring ([`signals`]), and the runtime that wires them to
//! Redis, Salesforce, the limiter and the breaker from the configuration ([`runtime`]).

pub mod batching;
pub mod calls;
pub mod coalesce;
mod deletions;
pub mod lookups;
pub mod outcome;
pub mod pipeline;
pub mod plan;
pub mod retry;
pub mod runtime;
pub mod signals;
mod targeted;
mod upserts;
pub mod writer;

pub use crate::store::{Batch, StreamReader};
pub use batching::{BatchPolicy, BatchSource};
pub use outcome::{BatchResults, WriteResult};
pub use pipeline::{Pipeline, Prepared};
pub use retry::RetrySchedule;
pub use runtime::{ConsumerConfig, ConsumerRuntime};
pub use writer::RecordWriter;
