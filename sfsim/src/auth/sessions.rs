//! Issued access tokens and their lifetime: an inactivity timeout that slides with use
//! (docs/salesforce-api.md §1.5), revocation, and the admin hook that expires every live
//! session at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use crate::clock;

/// One issued token.
#[derive(Debug, Clone)]
struct Session {
    flow: &'static str,
    username: String,
    issued_ms: i64,
    last_used: Instant,
    last_used_ms: i64,
    ended: Option<&'static str>,
}

/// What `/__sim/tokens` shows about a token.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The access token itself (this is a simulator; tests may want to replay it).
    pub access_token: String,
    /// `client_credentials`, `password` or `jwt_bearer`.
    pub flow: &'static str,
    /// The user the session acts as.
    pub username: String,
    /// When it was issued (epoch ms).
    pub issued_at_ms: i64,
    /// Last successful use (epoch ms).
    pub last_used_at_ms: i64,
    /// Still usable.
    pub active: bool,
    /// Why not: `revoked`, `expired` (idle timeout) or `expired_by_admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<&'static str>,
}

/// All sessions of the org.
#[derive(Debug)]
pub struct SessionStore {
    idle_timeout: Duration,
    org_id: String,
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore {
    /// An empty store for the org `org_id` (15 characters).
    pub fn new(idle_timeout: Duration, org_id: &str) -> Self {
        Self {
            idle_timeout,
            org_id: org_id.to_string(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Issues a new token in the classic `00D...!AQ...` form (§1.1).
    pub fn issue(&self, flow: &'static str, username: &str) -> (String, i64) {
        let secret = Alphanumeric.sample_string(&mut rand::rng(), 96);
        let token = format!("{}!AQ{secret}", &self.org_id[..15]);
        let now_ms = clock::now_ms();
        self.sessions.lock().insert(
            token.clone(),
            Session {
                flow,
                username: username.to_string(),
                issued_ms: now_ms,
                last_used: Instant::now(),
                last_used_ms: now_ms,
                ended: None,
            },
        );
        (token, now_ms)
    }

    /// Uses a token: `Some(username)` if it is live (and slides its idle timeout).
    pub fn touch(&self, token: &str) -> Option<String> {
        let mut sessions = self.sessions.lock();
        let session = sessions.get_mut(token)?;
        if session.ended.is_some() {
            return None;
        }
        if session.last_used.elapsed() >= self.idle_timeout {
            session.ended = Some("expired");
            return None;
        }
        session.last_used = Instant::now();
        session.last_used_ms = clock::now_ms();
        Some(session.username.clone())
    }

    /// Revokes a token; `false` when it is unknown or already ended.
    pub fn revoke(&self, token: &str) -> bool {
        match self.sessions.lock().get_mut(token) {
            Some(session) if session.ended.is_none() => {
                session.ended = Some("revoked");
                true
            }
            _ => false,
        }
    }

    /// Ends every live session now; returns how many there were.
    pub fn expire_all(&self) -> usize {
        let mut expired = 0;
        for session in self.sessions.lock().values_mut() {
            if session.ended.is_none() {
                session.ended = Some("expired_by_admin");
                expired += 1;
            }
        }
        expired
    }

    /// Every token issued since the last reset, oldest first.
    pub fn list(&self) -> Vec<SessionView> {
        let sessions = self.sessions.lock();
        let mut views: Vec<SessionView> = sessions
            .iter()
            .map(|(token, session)| {
                let idle = session.last_used.elapsed() >= self.idle_timeout;
                let ended = session.ended.or(idle.then_some("expired"));
                SessionView {
                    access_token: token.clone(),
                    flow: session.flow,
                    username: session.username.clone(),
                    issued_at_ms: session.issued_ms,
                    last_used_at_ms: session.last_used_ms,
                    active: ended.is_none(),
                    ended,
                }
            })
            .collect();
        views.sort_by_key(|view| view.issued_at_ms);
        views
    }

    /// Forgets every session (tokens become invalid).
    pub fn reset(&self) {
        self.sessions.lock().clear();
    }
}
