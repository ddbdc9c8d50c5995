//! The machinery the realtime and bulk consumers share: reading a stream as a consumer
//! group member ([`reader`]) and assembling batches ([`batching`]), the claim → coalesce → map → settle steps ([`pipeline`]),
//! writing to Salesforce through Collections ([`writer`]), and the runtime that wires them
//! to Redis, Salesforce, the limiter and the breaker from the configuration ([`runtime`]).

pub mod batching;
pub mod known;
pub mod pipeline;
pub mod reader;
pub mod runtime;
pub mod writer;

pub use batching::{BatchPolicy, BatchSource};
pub use pipeline::{Pipeline, Prepared, RetrySchedule};
pub use reader::{Batch, StreamReader};
pub use runtime::{ConsumerConfig, ConsumerRuntime};
pub use writer::{RecordWriter, WriteResult};
