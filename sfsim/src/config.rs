//! The simulator's configuration: one typed struct whose `Default` is the behaviour
//! described in docs/salesforce-api.md (the § numbers below refer to it). The `sfsim`
//! binary fills it from flags and `SFSIM_*` variables; tests build it in code.

use std::net::SocketAddr;
use std::time::Duration;

use crate::faults::FaultConfig;
use crate::pubsub::PubSubConfig;
use crate::schema::Schema;

/// Default client id of the connected app when none is configured.
pub const DEFAULT_CLIENT_ID: &str = "sfsim-client-id";
/// Default client secret of the connected app when none is configured.
pub const DEFAULT_CLIENT_SECRET: &str = "sfsim-client-secret";

/// The second default user: someone at the org, not the integration.
pub const ADMIN_USERNAME: &str = "admin@sfsim.example.com";
/// The second default user's password with its security token appended.
pub const ADMIN_PASSWORD: &str = "sfsim-adminSFSIMTOKEN";

/// A user who can log in with the username-password or JWT bearer flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Login name, e.g. `integration@example.com`; also the JWT `sub`.
    pub username: String,
    /// Password **with the security token appended**, as clients send it (§1.3).
    pub password: String,
}

/// Bulk API 2.0 behaviour.
#[derive(Debug, Clone)]
pub struct BulkConfig {
    /// Time from `UploadComplete` until the job turns `InProgress`.
    pub queue_delay: Duration,
    /// Time a job stays `InProgress` before its rows are processed and it completes.
    pub processing_time: Duration,
    /// Largest raw CSV accepted per job: 100 MB (150 MB after base64, §5.2).
    pub max_upload_bytes: usize,
    /// Whether a second `PUT .../batches` to an open job appends rows (headers must match)
    /// instead of failing with 400 `INVALIDJOBSTATE`. Unverified (§5.2); default `false`,
    /// so the fleet never depends on behaviour the real org may not have.
    pub allow_multiple_uploads: bool,
    /// Daily Bulk batch allocation; a job uses one batch per 10,000 records (§5.7).
    pub daily_batch_limit: u64,
    /// Rows per transaction while processing (Salesforce uses 200-record chunks, §5.4).
    pub chunk_size: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        Self {
            queue_delay: Duration::from_millis(200),
            processing_time: Duration::from_millis(300),
            max_upload_bytes: 100 * 1024 * 1024,
            allow_multiple_uploads: false,
            daily_batch_limit: 15_000,
            chunk_size: 200,
        }
    }
}

/// Everything the simulator can be told.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port (tests).
    pub listen_addr: SocketAddr,
    /// Base URL handed out as `instance_url`; default: `http://` + the request's Host.
    pub public_url: Option<String>,
    /// Connected app consumer key.
    pub client_id: String,
    /// Connected app consumer secret.
    pub client_secret: String,
    /// Users for the password and JWT flows (the client credentials flow runs as the first).
    pub users: Vec<SimUser>,
    /// The username-password flow is blocked by default in orgs created since Summer '23
    /// (§1.3); the simulator enables it by default and lets tests switch it off.
    pub password_flow_enabled: bool,
    /// PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) that verifies JWT
    /// bearer assertions (RS256). Without one, every assertion is invalid.
    pub jwt_public_key_pem: Option<String>,
    /// Accepted JWT `aud` values (§1.4); the simulator's own base URL is always accepted.
    pub jwt_audiences: Vec<String>,
    /// Inactivity timeout of sessions (Session Settings default: 2 hours, sliding, §1.5).
    pub session_idle_timeout: Duration,
    /// Newest API version served (67 = Summer '26, the current GA per §2.1).
    pub latest_api_version: u32,
    /// Daily API request allocation, 24 h rolling. Default 115,000: the documented
    /// Enterprise example (100,000 + 1,000 × 15 licences, §8).
    pub daily_api_limit: u64,
    /// A request running longer than this is "long-running" (20 s in production, §8).
    pub long_running_threshold: Duration,
    /// How many long-running requests may be in flight (25 production/sandbox, §8).
    pub long_running_limit: usize,
    /// Default query page size (2,000; `Sforce-Query-Options: batchSize` overrides, §6.1).
    pub query_batch_size: usize,
    /// Bulk API 2.0 behaviour.
    pub bulk: BulkConfig,
    /// The org's objects and fields.
    pub schema: Schema,
    /// Faults in force at startup.
    pub faults: FaultConfig,
    /// Writes kept per record in the history (oldest dropped).
    pub history_limit: usize,
    /// Call timestamps kept for the timeline and window statistics (oldest dropped).
    pub call_log_limit: usize,
    /// Change Data Capture over the Pub/Sub API.
    pub pubsub: PubSubConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 7700)),
            public_url: None,
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            // The integration user (the client credentials flow's), and a person whose
            // changes are not the integration's (outbound tests: echo suppression).
            users: vec![
                SimUser {
                    username: "integration@sfsim.example.com".to_string(),
                    password: "sfsim-passwordSFSIMTOKEN".to_string(),
                },
                SimUser {
                    username: ADMIN_USERNAME.to_string(),
                    password: ADMIN_PASSWORD.to_string(),
                },
            ],
            password_flow_enabled: true,
            jwt_public_key_pem: None,
            jwt_audiences: vec![
                "https://login.salesforce.com".to_string(),
                "https://test.salesforce.com".to_string(),
            ],
            session_idle_timeout: Duration::from_secs(2 * 3600),
            latest_api_version: 67,
            daily_api_limit: 115_000,
            long_running_threshold: Duration::from_secs(20),
            long_running_limit: 25,
            query_batch_size: 2000,
            bulk: BulkConfig::default(),
            schema: Schema::embedded_project()
                .expect("the embedded default schema is valid (checked by a unit test)"),
            faults: FaultConfig::default(),
            history_limit: 1000,
            call_log_limit: 20_000_000,
            pubsub: PubSubConfig::default(),
        }
    }
}

impl SimConfig {
    /// The defaults, listening on free ports of 127.0.0.1 (for tests), the Pub/Sub API
    /// included.
    pub fn on_free_port() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pubsub: PubSubConfig {
                listen_addr: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                ..PubSubConfig::default()
            },
            ..Self::default()
        }
    }
}
