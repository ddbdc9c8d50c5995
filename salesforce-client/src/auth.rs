//! OAuth 2.0 client credentials flow, with the access token shared by every replica.
//!
//! Salesforce returns no `expires_in` (docs/salesforce-api.md §1.1): a session lives until it is
//! idle for the org's timeout. So the token is kept in a [`TokenStore`] shared by every
//! instance (Redis in the fleet) for a configurable time and dropped early when a call
//! answers `401 INVALID_SESSION_ID`. Exactly one instance fetches a new token at a time: it
//! holds the store's short refresh lock; the others wait for the token to appear. Within one process a
//! mutex does the same for concurrent tasks. Tokens and secrets never reach logs or errors.

use std::{fmt, sync::Arc, time::Duration};

use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::{
    coordination::TokenStore,
    error::{FailureClass, SalesforceError},
};

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
        signer: Arc<crate::jwt::AssertionSigner>,
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

/// Hands out sessions, fetching a new one only when none is cached anywhere.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Replaceable: a rotated client secret applies at the next login.
    credentials: std::sync::RwLock<ClientCredentials>,
    store: Arc<dyn TokenStore>,
    lifetime: Duration,
    local: RwLock<Option<Session>>,
    refreshing: Mutex<()>,
    owner: String,
}

impl TokenCache {
    /// A cache that shares tokens through `store` and keeps them for `lifetime` unless
    /// Salesforce rejects them earlier.
    pub fn new(
        http: reqwest::Client,
        credentials: ClientCredentials,
        store: Arc<dyn TokenStore>,
        lifetime: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                credentials: std::sync::RwLock::new(credentials),
                store,
                lifetime,
                local: RwLock::new(None),
                refreshing: Mutex::new(()),
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

    /// Drops `stale` (which Salesforce just refused) here and in the shared store, unless
    /// another instance already replaced it.
    pub async fn invalidate(&self, stale: &Session) {
        {
            let mut local = self.inner.local.write().await;
            if local.as_ref() == Some(stale) {
                *local = None;
            }
        }
        if let Err(error) = self.inner.store.discard(stale.clone()).await {
            tracing::warn!(%error, "Could not drop the shared Salesforce token; it expires by itself.");
        }
    }

    async fn shared_or_login(&self) -> Result<Session, SalesforceError> {
        let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
        let store = &self.inner.store;
        loop {
            if let Some(session) = store.load().await? {
                return Ok(session);
            }
            if store.try_lock(self.inner.owner.clone(), LOCK_TTL).await? {
                // Another instance may have stored a token between our read and our lock.
                let result = match store.load().await {
                    Ok(Some(session)) => Ok(session),
                    _ => self.login_and_share().await,
                };
                if let Err(error) = store.unlock(self.inner.owner.clone()).await {
                    tracing::debug!(%error, "Could not release the token lock; it expires by itself.");
                }
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

    /// Puts a rotated consumer secret in force for the next login (the session in use stays
    /// valid until Salesforce refuses it or it ages out). Returns false, changing nothing,
    /// when this cache logs in with the JWT bearer flow, which has no secret.
    pub fn set_client_secret(&self, secret: String) -> bool {
        let mut credentials = match self.inner.credentials.write() {
            Ok(credentials) => credentials,
            Err(poisoned) => poisoned.into_inner(),
        };
        match &mut credentials.grant {
            Grant::ClientSecret(current) => {
                *current = secret;
                true
            }
            Grant::JwtBearer { .. } => false,
        }
    }

    async fn login_and_share(&self) -> Result<Session, SalesforceError> {
        let credentials = match self.inner.credentials.read() {
            Ok(credentials) => credentials.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let session = login(&self.inner.http, &credentials).await?;
        self.inner
            .store
            .save(session.clone(), self.inner.lifetime)
            .await?;
        tracing::info!(instance_url = %session.instance_url, "Logged in to Salesforce; token shared with the fleet.");
        Ok(session)
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
            let expires_at = jiff::Timestamp::now().as_second() + 170;
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

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()))
}
