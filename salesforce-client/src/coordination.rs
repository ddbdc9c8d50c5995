//! What several client instances (tasks, processes, replicas) share: the session token,
//! the org's latest API usage, and the gate every call passes.
//!
//! The client defines these as traits so that it can be used and tested without any
//! particular store: [`InProcess`] keeps everything in memory (one process, or tools and
//! tests), while the fleet's workers implement them on Redis so that every replica logs in
//! once, throttles on the freshest usage any replica has seen, and shares one rate limit.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{auth::Session, usage::ApiUsage};

/// A boxed future, so that the traits below can be used as trait objects.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a shared store could not be read or written. The client turns it into
/// [`crate::SalesforceError::TokenStore`], which is retryable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Where the session token is shared, and the lock that lets exactly one instance log in
/// at a time (Salesforce sends no expiry, so a token is kept for a configured lifetime and
/// dropped early when a call answers `401 INVALID_SESSION_ID`).
pub trait TokenStore: Send + Sync {
    /// The shared session, if one is stored and not expired.
    fn load(&self) -> StoreFuture<'_, Result<Option<Session>, StoreError>>;
    /// Stores `session` for `lifetime`.
    fn save(&self, session: Session, lifetime: Duration)
        -> StoreFuture<'_, Result<(), StoreError>>;
    /// Removes the stored session only if it still is `stale` (another instance may already
    /// have replaced it).
    fn discard(&self, stale: Session) -> StoreFuture<'_, Result<(), StoreError>>;
    /// Takes the refresh lock for `owner` for at most `ttl`; false when another owner holds it.
    fn try_lock(&self, owner: String, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>>;
    /// Releases the refresh lock if `owner` still holds it.
    fn unlock(&self, owner: String) -> StoreFuture<'_, Result<(), StoreError>>;
}

/// Where the org's daily usage (`Sforce-Limit-Info`) is recorded, so that every instance
/// throttles on the latest figure any of them has seen.
pub trait UsageStore: Send + Sync {
    /// Records the usage one response reported.
    fn record(&self, usage: ApiUsage) -> StoreFuture<'_, Result<(), StoreError>>;
    /// The latest usage recorded by anyone.
    fn latest(&self) -> StoreFuture<'_, Result<Option<ApiUsage>, StoreError>>;
}

/// Something that must grant each Salesforce call before it is sent: a rate limiter.
/// Every HTTP request counts against the org's allocation, so every request (logins
/// excepted, which Salesforce does not count) goes through it.
pub trait CallGate: Send + Sync {
    /// Waits until one more call may be made, or answers [`Interrupted`] when the process
    /// is stopping: the call is then not sent (the client answers
    /// [`crate::SalesforceError::Interrupted`]).
    fn admit(&self) -> StoreFuture<'_, Result<(), Interrupted>>;
}

/// The gate gave up waiting because the process is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopping: the call was not sent")]
pub struct Interrupted;

/// The three shared parts a client is built with.
#[derive(Clone)]
pub struct Coordination {
    /// Where the token is shared.
    pub tokens: Arc<dyn TokenStore>,
    /// Where usage is recorded.
    pub usage: Arc<dyn UsageStore>,
    /// What admits each call.
    pub gate: Arc<dyn CallGate>,
}

impl Coordination {
    /// Everything in this process's memory and no rate limit: for one process, tools and
    /// tests. Clients built from clones of one value share one login.
    pub fn in_process() -> Self {
        let store = Arc::new(InProcess::default());
        Self {
            tokens: store.clone(),
            usage: store,
            gate: Arc::new(Ungated),
        }
    }
}

/// Lets every call through: for tools and tests that need no limiter.
pub struct Ungated;

impl CallGate for Ungated {
    fn admit(&self) -> StoreFuture<'_, Result<(), Interrupted>> {
        Box::pin(async { Ok(()) })
    }
}

/// Token, lock and usage kept in this process's memory.
#[derive(Default)]
pub struct InProcess {
    state: Mutex<InProcessState>,
}

#[derive(Default)]
struct InProcessState {
    token: Option<(Session, Instant)>,
    lock: Option<(String, Instant)>,
    usage: Option<ApiUsage>,
}

impl InProcess {
    fn with<T>(&self, f: impl FnOnce(&mut InProcessState) -> T) -> Result<T, StoreError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError("in-process store poisoned by a panic".into()))?;
        Ok(f(&mut state))
    }
}

impl TokenStore for InProcess {
    fn load(&self) -> StoreFuture<'_, Result<Option<Session>, StoreError>> {
        let result = self.with(|state| match &state.token {
            Some((session, until)) if Instant::now() < *until => Some(session.clone()),
            _ => None,
        });
        Box::pin(async move { result })
    }

    fn save(
        &self,
        session: Session,
        lifetime: Duration,
    ) -> StoreFuture<'_, Result<(), StoreError>> {
        let result = self.with(|state| state.token = Some((session, Instant::now() + lifetime)));
        Box::pin(async move { result })
    }

    fn discard(&self, stale: Session) -> StoreFuture<'_, Result<(), StoreError>> {
        let result = self.with(|state| {
            if state
                .token
                .as_ref()
                .is_some_and(|(session, _)| *session == stale)
            {
                state.token = None;
            }
        });
        Box::pin(async move { result })
    }

    fn try_lock(&self, owner: String, ttl: Duration) -> StoreFuture<'_, Result<bool, StoreError>> {
        let result = self.with(|state| match &state.lock {
            Some((_, until)) if Instant::now() < *until => false,
            _ => {
                state.lock = Some((owner, Instant::now() + ttl));
                true
            }
        });
        Box::pin(async move { result })
    }

    fn unlock(&self, owner: String) -> StoreFuture<'_, Result<(), StoreError>> {
        let result = self.with(|state| {
            if state
                .lock
                .as_ref()
                .is_some_and(|(holder, _)| *holder == owner)
            {
                state.lock = None;
            }
        });
        Box::pin(async move { result })
    }
}

impl UsageStore for InProcess {
    fn record(&self, usage: ApiUsage) -> StoreFuture<'_, Result<(), StoreError>> {
        let result = self.with(|state| state.usage = Some(usage));
        Box::pin(async move { result })
    }

    fn latest(&self) -> StoreFuture<'_, Result<Option<ApiUsage>, StoreError>> {
        let result = self.with(|state| state.usage);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: &str) -> Session {
        Session {
            access_token: token.into(),
            instance_url: "https://example.my.salesforce.com".into(),
        }
    }

    #[tokio::test]
    async fn a_stale_token_is_discarded_only_while_it_is_current() {
        let store = InProcess::default();
        store
            .save(session("a"), Duration::from_secs(60))
            .await
            .unwrap();
        store.discard(session("b")).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(session("a")));
        store.discard(session("a")).await.unwrap();
        assert_eq!(store.load().await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_lock_has_one_owner_until_released_or_expired() {
        let store = InProcess::default();
        assert!(store
            .try_lock("one".into(), Duration::from_secs(60))
            .await
            .unwrap());
        assert!(!store
            .try_lock("two".into(), Duration::from_secs(60))
            .await
            .unwrap());
        store.unlock("two".into()).await.unwrap();
        assert!(!store
            .try_lock("two".into(), Duration::from_secs(60))
            .await
            .unwrap());
        store.unlock("one".into()).await.unwrap();
        assert!(store.try_lock("two".into(), Duration::ZERO).await.unwrap());
        assert!(store
            .try_lock("three".into(), Duration::from_secs(1))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_expired_token_is_not_handed_out() {
        let store = InProcess::default();
        store.save(session("a"), Duration::ZERO).await.unwrap();
        assert_eq!(store.load().await.unwrap(), None);
    }
}
