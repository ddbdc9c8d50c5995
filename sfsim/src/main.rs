//! `sfsim`: the Salesforce simulator as a process. Configuration comes from flags or the
//! environment (`SFSIM_*`, plus `SALESFORCE_CLIENT_ID` / `SALESFORCE_CLIENT_SECRET` so one
//! environment file serves the simulator and the workers); it runs until SIGTERM/Ctrl-C.
//! `sfsim bench` measures throughput instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sfsim::bench::{self, BenchMode, BenchOptions};
use sfsim::{FaultConfig, Schema, SimConfig, SimUser, Simulator};

/// mimalloc instead of glibc's allocator: the store allocates many small strings and
/// maps from several threads at once, where glibc malloc was the largest cost in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "sfsim",
    about = "Salesforce org simulator (OAuth, REST, Collections, Bulk 2.0, SOQL, Pub/Sub API, faults)"
)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    log: common::telemetry::LogConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure throughput against an in-process simulator and print the result.
    Bench {
        /// `single` upserts or 200-record `collections` upserts.
        #[arg(long, value_enum, default_value = "single")]
        mode: BenchMode,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SFSIM_LISTEN_ADDR", default_value = "127.0.0.1:7700")]
    listen_addr: SocketAddr,
    /// Base URL handed out as `instance_url` (default: http:// + the request's Host).
    #[arg(long, env = "SFSIM_PUBLIC_URL")]
    public_url: Option<String>,
    /// Connected app consumer key.
    #[arg(long, env = "SALESFORCE_CLIENT_ID", default_value = sfsim::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Connected app consumer secret.
    #[arg(long, env = "SALESFORCE_CLIENT_SECRET", default_value = sfsim::DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    client_secret: String,
    /// Username for the password and JWT flows (and the client-credentials run-as user).
    #[arg(long, env = "SFSIM_USERNAME")]
    username: Option<String>,
    /// Password with the security token appended.
    #[arg(long, env = "SFSIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Disable the username-password flow (as new orgs do).
    #[arg(long, env = "SFSIM_DISABLE_PASSWORD_FLOW")]
    disable_password_flow: bool,
    /// PEM file with the RSA public key that verifies JWT bearer assertions.
    #[arg(long, env = "SFSIM_JWT_PUBLIC_KEY_FILE")]
    jwt_public_key_file: Option<PathBuf>,
    /// Session inactivity timeout in seconds.
    #[arg(long, env = "SFSIM_SESSION_IDLE_SECS", default_value_t = 7200)]
    session_idle_secs: u64,
    /// Daily API request allocation.
    #[arg(long, env = "SFSIM_DAILY_API_LIMIT", default_value_t = 115_000)]
    daily_api_limit: u64,
    /// Threshold in milliseconds above which a request is long-running.
    #[arg(long, env = "SFSIM_LONG_RUNNING_MS", default_value_t = 20_000)]
    long_running_ms: u64,
    /// Concurrent long-running requests allowed.
    #[arg(long, env = "SFSIM_LONG_RUNNING_LIMIT", default_value_t = 25)]
    long_running_limit: usize,
    /// Bulk: milliseconds from UploadComplete to InProgress.
    #[arg(long, env = "SFSIM_BULK_QUEUE_MS", default_value_t = 200)]
    bulk_queue_ms: u64,
    /// Bulk: milliseconds a job stays InProgress before it is processed.
    #[arg(long, env = "SFSIM_BULK_PROCESSING_MS", default_value_t = 300)]
    bulk_processing_ms: u64,
    /// Bulk: accept several uploads per job (unverified Salesforce behaviour).
    #[arg(long, env = "SFSIM_BULK_MULTIPLE_UPLOADS")]
    bulk_multiple_uploads: bool,
    /// Schema as an SFDX project in source format: a project root (its default package
    /// directory's `main/default` is read) or a `main/default` directory; default: the
    /// repository's project `salesforce/`, embedded. Validation rules are enforced.
    #[arg(long, env = "SFSIM_SCHEMA_DIR")]
    schema_dir: Option<PathBuf>,
    /// Faults at startup, as the JSON accepted by `PUT /__sim/faults`.
    #[arg(long, env = "SFSIM_FAULTS")]
    faults: Option<String>,
    /// Pub/Sub API (gRPC over TLS) address; `off` serves none.
    #[arg(long, env = "SFSIM_PUBSUB_ADDR", default_value = "127.0.0.1:7443")]
    pubsub_addr: String,
    /// Pub/Sub TLS certificate (PEM); default: a self-signed one generated at start.
    #[arg(long, env = "SFSIM_PUBSUB_TLS_CERT", requires = "pubsub_tls_key")]
    pubsub_tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `SFSIM_PUBSUB_TLS_CERT`.
    #[arg(long, env = "SFSIM_PUBSUB_TLS_KEY", requires = "pubsub_tls_cert")]
    pubsub_tls_key: Option<PathBuf>,
    /// Names the generated Pub/Sub certificate is valid for, comma-separated.
    #[arg(
        long,
        env = "SFSIM_PUBSUB_TLS_NAMES",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1"
    )]
    pubsub_tls_names: Vec<String>,
    /// Write the Pub/Sub certificate (PEM) here at start, for clients to trust.
    #[arg(long, env = "SFSIM_PUBSUB_CERT_OUT")]
    pubsub_cert_out: Option<PathBuf>,
    /// Seconds change events can be replayed (Salesforce: 72 hours).
    #[arg(long, env = "SFSIM_PUBSUB_RETENTION_SECS", default_value_t = 72 * 3600)]
    pubsub_retention_secs: u64,
    /// Milliseconds between keep-alive responses on an idle Subscribe stream.
    #[arg(long, env = "SFSIM_PUBSUB_KEEPALIVE_MS", default_value_t = 30_000)]
    pubsub_keepalive_ms: u64,
}

impl ServeArgs {
    fn into_config(self) -> anyhow::Result<SimConfig> {
        let mut config = SimConfig {
            listen_addr: self.listen_addr,
            public_url: self.public_url,
            client_id: self.client_id,
            client_secret: self.client_secret,
            password_flow_enabled: !self.disable_password_flow,
            session_idle_timeout: Duration::from_secs(self.session_idle_secs),
            daily_api_limit: self.daily_api_limit,
            long_running_threshold: Duration::from_millis(self.long_running_ms),
            long_running_limit: self.long_running_limit,
            ..SimConfig::default()
        };
        if let (Some(username), Some(password)) = (self.username, self.password) {
            config.users = vec![SimUser { username, password }];
        }
        if let Some(path) = self.jwt_public_key_file {
            let pem = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            config.jwt_public_key_pem = Some(pem);
        }
        if let Some(dir) = self.schema_dir {
            config.schema = Schema::from_sfdx(&dir)?;
        }
        if let Some(faults) = self.faults {
            config.faults = serde_json::from_str::<FaultConfig>(&faults)
                .context("SFSIM_FAULTS is not a fault configuration")?;
        }
        config.bulk.queue_delay = Duration::from_millis(self.bulk_queue_ms);
        config.bulk.processing_time = Duration::from_millis(self.bulk_processing_ms);
        config.bulk.allow_multiple_uploads = self.bulk_multiple_uploads;
        config.pubsub.listen_addr = match self.pubsub_addr.as_str() {
            "off" => None,
            addr => Some(
                addr.parse()
                    .context("SFSIM_PUBSUB_ADDR is not an address")?,
            ),
        };
        if let (Some(cert), Some(key)) = (self.pubsub_tls_cert, self.pubsub_tls_key) {
            config.pubsub.tls = sfsim::pubsub::TlsSource::Files { cert, key };
        }
        config.pubsub.cert_out = self.pubsub_cert_out;
        config.pubsub.tls_names = self.pubsub_tls_names;
        config.pubsub.retention = Duration::from_secs(self.pubsub_retention_secs);
        config.pubsub.keepalive = Duration::from_millis(self.pubsub_keepalive_ms);
        Ok(config)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    common::telemetry::init(&cli.log);
    common::telemetry::install_crypto_provider();
    if let Some(Command::Bench {
        mode,
        seconds,
        concurrency,
    }) = cli.command
    {
        let options = BenchOptions {
            mode,
            duration: Duration::from_secs(seconds),
            concurrency,
        };
        let report = bench::run(options).await?;
        println!(
            "mode={mode:?} concurrency={concurrency} seconds={:.1} calls={} failures={} calls/s={:.0} records/s={:.0}",
            report.elapsed.as_secs_f64(),
            report.calls,
            report.failures,
            report.calls_per_second(),
            report.records_per_second()
        );
        return Ok(());
    }
    let config = cli.serve.into_config()?;
    let shutdown = common::shutdown::on_signal();
    let sim = Simulator::start_with_shutdown(config, shutdown).await?;
    tracing::info!(base_url = sim.base_url(), "sfsim ready; SIGTERM stops it.");
    sim.wait().await;
    tracing::info!("sfsim stopped.");
    Ok(())
}
