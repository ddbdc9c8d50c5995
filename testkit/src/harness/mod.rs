//! Starting and stopping the real parts a test needs.
//!
//! Every server gets a free port of its own so tests run in parallel and can kill and
//! restart what they started without touching servers that already run on this machine.
//! Each handle kills its process on drop, so a failing (panicking) test leaves nothing
//! running. Process output goes to a log file under `target/test-logs/` for post-mortems.

mod moto;
mod process;
mod redis;
mod redis_cluster;
mod sqs;

use std::{
    future::Future,
    net::TcpListener,
    path::PathBuf,
    time::{Duration, Instant},
};

pub use moto::MotoServer;
pub use process::ServiceProcess;
pub use redis::RedisServer;
pub use redis_cluster::{RedisCluster, NODE_TIMEOUT};
pub use sqs::{ReceivedMessage, SqsEmulator};

/// Errors of the harness. Tests usually `?` them into `anyhow`.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A process could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// What was being started.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Something did not become ready before its deadline.
    #[error("{what} not ready after {waited:?}; see {log}")]
    NotReady {
        /// What was awaited.
        what: String,
        /// How long we waited.
        waited: Duration,
        /// Where its output went.
        log: String,
    },
    /// A prerequisite is missing on this machine.
    #[error("{0}")]
    Missing(String),
    /// An SQS call made by the harness failed.
    #[error("SQS: {0}")]
    Sqs(String),
}

/// Returns a port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("the OS hands out a free port")
}

/// The workspace root (the directory with the top-level `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives inside the workspace")
        .to_path_buf()
}

/// Where harness log files go: `target/test-logs/`.
pub fn log_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("test-logs");
    // If this fails, spawning with a log file fails next with a clear error.
    std::fs::create_dir_all(&dir).ok();
    dir
}

/// Path of one of the project's binaries, built by cargo next to the test executable.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    profile_dir.join(name)
}

/// Polls `check` until it returns `Some`, or fails after `timeout`. The way tests wait for
/// something to happen, instead of sleeping for a guessed time.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if started.elapsed() >= timeout {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Waits until something accepts TCP connections on `port`.
pub(crate) async fn wait_for_port(port: u16, timeout: Duration) -> bool {
    wait_for("TCP port", timeout, || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()
            .map(|_| ())
    })
    .await
    .is_ok()
}

/// An HTTP client for tests (rustls with ring, as the production binaries use).
pub fn http_client() -> reqwest::Client {
    common::telemetry::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client with default settings builds")
}

/// Waits until `GET url` answers 2xx.
pub async fn wait_for_http(url: &str, timeout: Duration) -> Result<(), String> {
    let client = http_client();
    wait_for(url, timeout, || {
        let request = client.get(url).send();
        async move {
            match request.await {
                Ok(response) if response.status().is_success() => Some(()),
                _ => None,
            }
        }
    })
    .await
}
