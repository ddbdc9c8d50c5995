//! A private `redis-server` on a free port, which a test may kill and restart.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{free_port, wait_for, HarnessError, ServiceProcess};

/// A `redis-server` owned by one test. Keeps nothing on disk unless started with
/// [`RedisServer::start_persistent`].
pub struct RedisServer {
    process: ServiceProcess,
    port: u16,
    _data_dir: Option<TempDir>,
}

impl RedisServer {
    /// Starts a memory-only server.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::launch(false).await
    }

    /// Starts a server with an append-only file (fsync always), so that a kill and restart
    /// keeps every acknowledged write, as a production Redis configured for durability does.
    pub async fn start_persistent() -> Result<Self, HarnessError> {
        Self::launch(true).await
    }

    async fn launch(persistent: bool) -> Result<Self, HarnessError> {
        let port = free_port();
        let data_dir = TempDir::new(&format!("redis-{port}"))?;
        let port_arg = port.to_string();
        let dir = data_dir.path.to_string_lossy().into_owned();
        let mut args = vec![
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            &dir,
        ];
        if persistent {
            args.extend(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            args.extend(["--appendonly", "no"]);
        }
        let process = ServiceProcess::spawn("redis", "redis-server", &args, &[]).map_err(|e| {
            HarnessError::Missing(format!(
                "{e}; install it with `apt-get install redis-server` or run scripts/test.sh"
            ))
        })?;
        let server = Self {
            process,
            port,
            _data_dir: Some(data_dir),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> Result<(), HarnessError> {
        let port = self.port;
        let ready = wait_for("redis PING", Duration::from_secs(10), || async move {
            match inline_command(port, "PING").await {
                Ok(reply) if reply == "+PONG" => Some(()),
                _ => None,
            }
        })
        .await;
        if ready.is_ok() {
            Ok(())
        } else {
            Err(HarnessError::NotReady {
                what: "redis-server".into(),
                waited: Duration::from_secs(10),
                log: self.process.log_path().display().to_string(),
            })
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one inline command on a fresh connection and returns the first reply line
    /// (the value line for a bulk string). Enough for the harness and for tests that
    /// need to poke Redis without a client library.
    pub async fn command(&self, command: &str) -> std::io::Result<String> {
        inline_command(self.port, command).await
    }

    /// Kills the server (SIGKILL).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts it again on the same port and data directory, and waits until it accepts
    /// connections.
    pub async fn restart(&mut self) -> Result<(), HarnessError> {
        self.process.restart()?;
        self.wait_ready().await
    }
}

/// A directory removed on drop.
pub(super) struct TempDir {
    pub(super) path: std::path::PathBuf,
}

impl TempDir {
    pub(super) fn new(label: &str) -> Result<Self, HarnessError> {
        let path = std::env::temp_dir().join(format!("fleet-test-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| HarnessError::Spawn {
            what: format!("temporary directory {}", path.display()),
            source,
        })?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.path).ok();
    }
}

pub(super) async fn inline_command(port: u16, command: &str) -> std::io::Result<String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut stream = BufReader::new(stream);
    stream
        .get_mut()
        .write_all(format!("{command}\r\n").as_bytes())
        .await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    if line.starts_with('$') && !line.starts_with("$-1") {
        line.clear();
        stream.read_line(&mut line).await?;
    }
    Ok(line.trim_end().to_owned())
}
