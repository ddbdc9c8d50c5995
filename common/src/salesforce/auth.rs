//! OAuth 2.0 client credentials flow, with the access token shared by every replica.
//!
//! Salesforce returns no `expires_in` (docs/salesforce-api.md §1.1): a session lives until it is
//! idle for the org's timeout. So the token is kept in Redis (`{prefix}:sf:token`) for a
//! configurable time and dropped early when a call answers `401 INVALID_SESSION_ID`.
//! Exactly one replica fetches a new token at a time: it holds the short lock
//! `{prefix}:sf:token-lock`; the others wait for the token to appear. Within one process a
//! mutex does the same for concurrent tasks. Tokens and secrets never reach logs or errors.

use std::{fmt, sync::Arc, time::Duration};

use redis::aio::ConnectionManager;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::error::{FailureClass, SalesforceError};

/// The compare-and-delete script (`lua/compare_and_delete.lua`).
const COMPARE_AND_DELETE: &str = include_str!("../../../lua/compare_and_delete.lua");
/// How long one replica may hold the refresh lock.
const LOCK_TTL: Duration = Duration::from_secs(10);
/// How long a caller waits for another replica's refresh before giving up (retryable).
const REFRESH_WAIT: Duration = Duration::from_secs(15);

/// How the fleet logs in: a Connected App's consumer key, where, and with which grant.
#[derive(Clone)]
pub struct ClientCredentials {
    /// Token endpoint base: the org's My Domain URL (or the simulator).
    pub login_url: String,
    /// Consumer key.
    pub client_id: String,
    /// The grant and its secret material.
    pub grant: Grant,
}

/// The OAuth grant used to get a session.
#[derive(Clone)]
pub enum Grant {
    /// Client credentials flow with the consumer secret (the default).
    ClientSecret(String),
    /// JWT bearer flow: an RS256 assertion for `username`, signed with the app's key.
    JwtBearer {
        /// The integration user.
        username: String,
        /// The assertion's `aud`: `https://login.salesforce.com`, `https://test.salesforce.com`
        /// or the My Domain URL.
        audience: String,
        /// The parsed private key.
        signer: std::sync::Arc<super::jwt::AssertionSigner>,
    },
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grant = match self.grant {
            Grant::ClientSecret(_) => "client_credentials",
            Grant::JwtBearer { .. } => "jwt_bearer",
        };
        f.debug_struct("ClientCredentials")
            .field("login_url", &self.login_url)
            .field("client_id", &"<redacted>")
            .field("grant", &grant)
            .finish()
    }
}

/// A usable session: the bearer token and the instance to send calls to.
#[derive(Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Session {
    /// Bearer token.
    pub access_token: String,
    /// `https://MyDomain.my.salesforce.com`: the base of every REST call.
    pub instance_url: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &"<redacted>")
            .field("instance_url", &self.instance_url)
            .finish()
    }
}

/// Where the shared token lives in Redis.
#[derive(Debug, Clone)]
pub struct TokenKeys {
    /// The token (JSON of [`Session`]).
    pub token: String,
    /// The refresh lock.
    pub lock: String,
}

/// Hands out sessions, fetching a new one only when none is cached anywhere.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    credentials: ClientCredentials,
    redis: ConnectionManager,
    keys: TokenKeys,
    lifetime: Duration,
    local: RwLock<Option<Session>>,
    refreshing: Mutex<()>,
    compare_and_delete: redis::Script,
    owner: String,
}

impl TokenCache {
    /// A cache that keeps tokens for `lifetime` unless Salesforce rejects them earlier.
    pub fn new(
        http: reqwest::Client,
        credentials: ClientCredentials,
        redis: ConnectionManager,
        keys: TokenKeys,
        lifetime: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                credentials,
                redis,
                keys,
                lifetime,
                local: RwLock::new(None),
                refreshing: Mutex::new(()),
                compare_and_delete: redis::Script::new(COMPARE_AND_DELETE),
                owner: format!("{}-{}", std::process::id(), rand_suffix()),
            }),
        }
    }

    /// A session: this process's copy, else the shared one, else a fresh login.
    pub async fn session(&self) -> Result<Session, SalesforceError> {
        if let Some(session) = self.inner.local.read().await.clone() {
            return Ok(session);
        }
        let _refreshing = self.inner.refreshing.lock().await;
        if let Some(session) = self.inner.local.read().await.clone() {
            return Ok(session);
        }
        let session = self.shared_or_login().await?;
        *self.inner.local.write().await = Some(session.clone());
        Ok(session)
    }

    /// Drops `stale` (which Salesforce just refused) here and in Redis, unless another
    /// replica already replaced it.
    pub async fn invalidate(&self, stale: &Session) {
        {
            let mut local = self.inner.local.write().await;
            if local.as_ref() == Some(stale) {
                *local = None;
            }
        }
        let Ok(serialized) = serde_json::to_string(stale) else {
            return;
        };
        let mut conn = self.inner.redis.clone();
        let result: redis::RedisResult<i64> = self
            .inner
            .compare_and_delete
            .key(&self.inner.keys.token)
            .arg(serialized)
            .invoke_async(&mut conn)
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "Could not drop the shared Salesforce token; it expires by itself.");
        }
    }

    async fn shared_or_login(&self) -> Result<Session, SalesforceError> {
        let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
        let mut conn = self.inner.redis.clone();
        loop {
            if let Some(session) = self.read_shared(&mut conn).await? {
                return Ok(session);
            }
            let locked: Option<String> = redis::cmd("SET")
                .arg(&self.inner.keys.lock)
                .arg(&self.inner.owner)
                .arg("NX")
                .arg("PX")
                .arg(LOCK_TTL.as_millis() as u64)
                .query_async(&mut conn)
                .await
                .map_err(token_store)?;
            if locked.is_some() {
                // Another replica may have stored a token between our read and our lock.
                let result = match self.read_shared(&mut conn).await {
                    Ok(Some(session)) => Ok(session),
                    _ => self.login_and_share(&mut conn).await,
                };
                self.release_lock(&mut conn).await;
                return result;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SalesforceError::TokenStore(
                    "another replica holds the token refresh lock for too long".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn read_shared(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<Option<Session>, SalesforceError> {
        let stored: Option<String> = redis::cmd("GET")
            .arg(&self.inner.keys.token)
            .query_async(conn)
            .await
            .map_err(token_store)?;
        Ok(stored.and_then(|json| serde_json::from_str(&json).ok()))
    }

    async fn login_and_share(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<Session, SalesforceError> {
        let session = login(&self.inner.http, &self.inner.credentials).await?;
        let serialized = serde_json::to_string(&session)
            .map_err(|e| SalesforceError::Unexpected(e.to_string()))?;
        redis::cmd("SET")
            .arg(&self.inner.keys.token)
            .arg(serialized)
            .arg("EX")
            .arg(self.inner.lifetime.as_secs().max(1))
            .query_async::<()>(conn)
            .await
            .map_err(token_store)?;
        tracing::info!(instance_url = %session.instance_url, "Logged in to Salesforce; token shared with the fleet.");
        Ok(session)
    }

    async fn release_lock(&self, conn: &mut ConnectionManager) {
        let result: redis::RedisResult<i64> = self
            .inner
            .compare_and_delete
            .key(&self.inner.keys.lock)
            .arg(&self.inner.owner)
            .invoke_async(conn)
            .await;
        if let Err(error) = result {
            tracing::debug!(%error, "Could not release the token lock; it expires by itself.");
        }
    }
}

/// The token endpoint's answer (docs/salesforce-api.md §1.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
}

/// The token endpoint's error (`{"error","error_description"}`, §1.6).
#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// One login with the configured grant.
async fn login(
    http: &reqwest::Client,
    credentials: &ClientCredentials,
) -> Result<Session, SalesforceError> {
    let url = format!(
        "{}/services/oauth2/token",
        credentials.login_url.trim_end_matches('/')
    );
    let form: Vec<(&str, String)> = match &credentials.grant {
        Grant::ClientSecret(secret) => vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", credentials.client_id.clone()),
            ("client_secret", secret.clone()),
        ],
        Grant::JwtBearer {
            username,
            audience,
            signer,
        } => {
            // Salesforce accepts at most three minutes of validity.
            let expires_at = crate::time::unix_seconds() + 170;
            let assertion = signer
                .assertion(&credentials.client_id, username, audience, expires_at)
                .map_err(|e| SalesforceError::Unexpected(e.to_string()))?;
            vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                ),
                ("assertion", assertion),
            ]
        }
    };
    let response = http
        .post(url)
        .form(&form)
        .send()
        .await
        .map_err(|e| SalesforceError::Transport(e.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| SalesforceError::Transport(e.without_url().to_string()))?;
    if status.is_success() {
        let token: TokenResponse = serde_json::from_str(&body).map_err(|_| {
            SalesforceError::Unexpected("token response without access_token/instance_url".into())
        })?;
        return Ok(Session {
            access_token: token.access_token,
            instance_url: token.instance_url.trim_end_matches('/').to_owned(),
        });
    }
    let error: TokenError = serde_json::from_str(&body).unwrap_or(TokenError {
        error: format!("http_{}", status.as_u16()),
        error_description: String::new(),
    });
    let class = if status.is_server_error() {
        FailureClass::Retryable
    } else {
        FailureClass::Auth
    };
    Err(SalesforceError::Login {
        error: error.error,
        description: error.error_description,
        class,
    })
}

fn token_store(error: redis::RedisError) -> SalesforceError {
    SalesforceError::TokenStore(error.to_string())
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()))
}
