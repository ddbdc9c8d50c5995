//! Operator commands: look at the fleet's Redis state and repair it.
//!
//! Each module is one question an operator asks:
//!
//! - [`pending`]: what is waiting, and who holds it? (`workers pending`)
//! - [`dead_letters`]: which events died, and why? (`workers dlq list / show / purge`)
//! - [`replay`]: put dead events back on their stream (`workers dlq replay`).
//! - [`status`]: where is one event in its lifecycle? (`workers status`, and
//!   `GET /v1/events/{id}` through [`status_api`]).
//!
//! [`render`] turns every answer into the human-readable text the CLI prints (or JSON with
//! `--json`), and [`cli`] holds the clap arguments and runs a command end to end. The
//! library returns typed [`OpsError`]s; only the binary turns them into `anyhow` errors.

pub mod cli;
pub mod dead_letters;
mod error;
pub mod format;
pub mod pending;
pub mod render;
pub mod replay;
pub mod status;
pub mod status_api;

use std::time::Duration;

use crate::keys::KeySpace;
use crate::store::RedisConnection;

pub use error::OpsError;

/// Connection and key layout shared by every operator command. Cheap to clone.
#[derive(Clone)]
pub struct Ops {
    conn: RedisConnection,
    keys: KeySpace,
    lifecycle_retention: Duration,
}

impl Ops {
    /// Operator access to the fleet behind `conn` with the key layout `keys`.
    /// `lifecycle_retention` is `LIFECYCLE_TTL_SECS`: it is only used to explain why an
    /// event may be unknown (its record expired).
    pub fn new(conn: RedisConnection, keys: KeySpace, lifecycle_retention: Duration) -> Self {
        Self {
            conn,
            keys,
            lifecycle_retention,
        }
    }

    /// The key layout in use.
    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    /// A clone of the connection (the manager multiplexes, so clones are cheap).
    fn conn(&self) -> RedisConnection {
        self.conn.clone()
    }
}
