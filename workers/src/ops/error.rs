//! The errors operator commands report. Each message says what to do next.

use std::time::Duration;

use crate::ops::format;

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Redis could not be reached or refused a command.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// No dead letter has this id.
    #[error(
        "no dead letter {0} (already replayed or purged? `workers dlq list` shows what is there)"
    )]
    NoSuchDeadLetter(String),
    /// The dead letter exists but cannot go back to a stream.
    #[error("dead letter {id} is not replayable: {reason}")]
    NotReplayable {
        /// The dead-letter entry id.
        id: String,
        /// Why not.
        reason: String,
    },
    /// No lifecycle record exists for the event.
    #[error(
        "event {event_id} is unknown: no lifecycle record. Records are kept for {} \
         (LIFECYCLE_TTL_SECS), so it may have expired, or it never reached the bridge",
        format::duration(*retention)
    )]
    UnknownEvent {
        /// The id asked about.
        event_id: String,
        /// How long lifecycle records are kept.
        retention: Duration,
    },
    /// A value on the command line is not valid.
    #[error("{0}")]
    Usage(String),
    /// A dead letter or lifecycle record holds something that cannot be read.
    #[error("unreadable record {key}: {problem}")]
    Corrupt {
        /// The key or entry read.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// JSON output could not be produced.
    #[error("JSON output: {0}")]
    Json(#[from] serde_json::Error),
}
