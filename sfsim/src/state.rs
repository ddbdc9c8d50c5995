//! The simulator's shared state, handed to every handler explicitly as axum state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::jwt::JwtVerifier;
use crate::auth::sessions::SessionStore;
use crate::bulk::job::BulkJobs;
use crate::config::SimConfig;
use crate::error::SimError;
use crate::faults::FaultState;
use crate::ids::{self, IdGenerator};
use crate::pubsub::avro::EventSchemas;
use crate::pubsub::bus::EventBus;
use crate::pubsub::tls::TlsIdentity;
use crate::rest::query::QueryCursors;
use crate::schema::Schema;
use crate::store::Db;
use crate::usage::{CallLog, DailyUsage, InFlight};

/// Handle to the shared state; cheap to clone.
pub type AppState = Arc<SimState>;

/// Everything the org knows.
#[derive(Debug)]
pub struct SimState {
    /// Configuration as started.
    pub config: SimConfig,
    /// The data model.
    pub schema: Schema,
    /// Id source.
    pub ids: IdGenerator,
    /// Records.
    pub db: Mutex<Db>,
    /// Change events of committed writes (appended under the `db` lock).
    pub events: EventBus,
    /// Avro schemas of the change events.
    pub event_schemas: EventSchemas,
    /// The Pub/Sub server's certificate and key (`None` when it is not served).
    pub pubsub_tls: Option<TlsIdentity>,
    /// Access tokens.
    pub sessions: SessionStore,
    /// JWT bearer verifier, if a public key is configured.
    pub jwt: Option<JwtVerifier>,
    /// Daily API allocation.
    pub daily: DailyUsage,
    /// Requests in flight (long-running limit).
    pub in_flight: InFlight,
    /// Everything answered.
    pub calls: CallLog,
    /// Faults in force.
    pub faults: FaultState,
    /// Bulk API 2.0 ingest jobs.
    pub bulk_jobs: BulkJobs,
    /// Open query cursors.
    pub cursors: QueryCursors,
    /// 15-character organization id (`00D...`).
    pub org_id: String,
    /// 18-character id of the integration user (the first configured user, whom the client
    /// credentials flow runs as).
    pub user_id: String,
    /// Every configured user's id, by lower-cased username: the `commitUser` of the changes
    /// a session of theirs makes, and their `/id` and userinfo.
    pub user_ids: std::collections::HashMap<String, String>,
    /// `http://` + the bound address: the instance URL when neither `public_url` nor a
    /// Host header says otherwise.
    pub local_url: String,
    /// Background work (Bulk processing) to wait for on shutdown.
    pub tasks: TaskTracker,
    /// Cancelled when the simulator shuts down.
    pub shutdown: CancellationToken,
    request_counter: AtomicU64,
}

impl SimState {
    /// The id of the user `username` (the integration user's for an unknown name).
    pub fn user_id_of(&self, username: &str) -> &str {
        self.user_ids
            .get(&username.to_lowercase())
            .map_or(self.user_id.as_str(), String::as_str)
    }

    /// Builds the state from the configuration.
    pub fn new(
        config: SimConfig,
        local_url: String,
        shutdown: CancellationToken,
    ) -> Result<Self, SimError> {
        let jwt = config
            .jwt_public_key_pem
            .as_deref()
            .map(JwtVerifier::from_pem)
            .transpose()
            .map_err(SimError::Config)?;
        if config.users.is_empty() {
            return Err(SimError::Config("at least one user is needed".into()));
        }
        let id_source = IdGenerator::new();
        let org_id = id_source.next(ids::ORG_PREFIX)[..15].to_string();
        let user_ids: std::collections::HashMap<String, String> = config
            .users
            .iter()
            .map(|user| {
                (
                    user.username.to_lowercase(),
                    id_source.next(ids::USER_PREFIX),
                )
            })
            .collect();
        let user_id = user_ids
            .get(&config.users[0].username.to_lowercase())
            .cloned()
            .unwrap_or_else(|| id_source.next(ids::USER_PREFIX));
        let pubsub = &config.pubsub;
        let event_schemas = EventSchemas::build(&config.schema, &pubsub.cdc_objects)
            .map_err(|error| SimError::Config(format!("change event schemas: {error}")))?;
        let pubsub_tls = match pubsub.listen_addr {
            Some(_) => {
                Some(TlsIdentity::load(&pubsub.tls, &pubsub.tls_names).map_err(SimError::Config)?)
            }
            None => None,
        };
        Ok(Self {
            events: EventBus::new(&pubsub.cdc_objects, pubsub.retention, &user_id),
            event_schemas,
            pubsub_tls,
            schema: config.schema.clone(),
            ids: id_source,
            db: Mutex::new(Db::new(config.history_limit)),
            sessions: SessionStore::new(config.session_idle_timeout, &org_id),
            jwt,
            daily: DailyUsage::new(config.daily_api_limit),
            in_flight: InFlight::default(),
            calls: CallLog::new(config.call_log_limit),
            faults: FaultState::new(config.faults.clone()),
            bulk_jobs: BulkJobs::default(),
            cursors: QueryCursors::default(),
            org_id,
            user_id,
            user_ids,
            local_url,
            tasks: TaskTracker::new(),
            shutdown,
            request_counter: AtomicU64::new(0),
            config,
        })
    }

    /// The base URL clients should use, as `instance_url` says: the configured public URL,
    /// else `http://` + the Host the client used, else the bound address.
    pub fn instance_url(&self, host: Option<&str>) -> String {
        match (&self.config.public_url, host) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(host)) => format!("http://{host}"),
            (None, None) => self.local_url.clone(),
        }
    }

    /// A new request id, unique within this run.
    pub fn next_request_id(&self) -> String {
        format!(
            "req-{:08}",
            self.request_counter.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    /// Back to an empty org: records, history, jobs, cursors, calls, usage, faults as at
    /// startup; sessions too unless `keep_sessions`.
    pub fn reset(&self, keep_sessions: bool) {
        *self.db.lock() = Db::new(self.config.history_limit);
        self.bulk_jobs.clear();
        self.cursors.clear();
        self.calls.reset();
        self.daily.set(
            crate::clock::now_ms(),
            Some(0),
            Some(self.config.daily_api_limit),
        );
        self.faults.set(self.config.faults.clone());
        if !keep_sessions {
            self.sessions.reset();
        }
    }
}
