//! Sending events to webhook endpoints: one POST per event and endpoint, its JSON signed in
//! `Stripe-Signature` (`t=…,v1=…`, made by `common::stripe::signature::compute_signature`),
//! retried after every non-2xx answer or transport failure on [`RETRY_SCHEDULE`] times the
//! configured scale. Stripe retries for up to three days with exponential backoff in live
//! mode and publishes no intervals (https://docs.stripe.com/webhooks, "Automatic retries"), so
//! the schedule is ours. Delivery can be paused, deliveries duplicated at a rate or held
//! and released in another order ([`crate::release`]), and every attempt is recorded for
//! `/__sim/deliveries`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use common::stripe::signature::compute_signature;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::events::type_matches;
use crate::release::{Held, Job};
use crate::state::{unix_now, AppState, Store};

/// Waits between attempts: exponential-ish, the last attempt about three days after the
/// first, as Stripe's live mode (1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 16 h, 24 h, 16 h).
pub const RETRY_SCHEDULE: [Duration; 10] = [
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(7200),
    Duration::from_secs(14_400),
    Duration::from_secs(28_800),
    Duration::from_secs(57_600),
    Duration::from_secs(86_400),
    Duration::from_secs(57_600),
];

/// Where one event goes: an endpoint that subscribes to it.
#[derive(Debug, Clone)]
pub struct Target {
    /// `we_…`
    pub endpoint_id: String,
    /// The receiver.
    pub url: String,
    /// The endpoint's `whsec_…` signing secret.
    pub secret: String,
}

/// One delivery attempt, as `/__sim/deliveries` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// The event sent.
    pub event_id: String,
    /// The endpoint it was sent to.
    pub endpoint_id: String,
    /// 1 for the first attempt.
    pub attempt: usize,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it failed without an answer.
    pub error: Option<String>,
    /// Whether the receiver took it (2xx).
    pub succeeded: bool,
    /// Whether this is a second delivery of the event to the endpoint (`duplicate_rate`).
    pub duplicate: bool,
    /// When it was made (Unix seconds).
    pub at: i64,
}

/// The sending machinery: pause switch, HTTP client, attempts made.
#[derive(Debug)]
pub struct Deliveries {
    paused: watch::Sender<bool>,
    client: reqwest::Client,
    attempts: Mutex<Vec<Attempt>>,
    in_progress: AtomicUsize,
    /// `f64` bits: the share of deliveries sent twice.
    duplicate_rate: AtomicU64,
    /// Deliveries held back for a release in another order (`None`: not holding).
    held: Mutex<Option<Vec<Held>>>,
}

impl Deliveries {
    /// Unpaused, with a client that times out after `timeout` and follows no redirects
    /// (Stripe counts a 3xx as a failure).
    pub fn new(timeout: Duration) -> Self {
        common::telemetry::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .build()
            .unwrap_or_default();
        Self {
            paused: watch::Sender::new(false),
            client,
            attempts: Mutex::new(Vec::new()),
            in_progress: AtomicUsize::new(0),
            duplicate_rate: AtomicU64::new(0.0_f64.to_bits()),
            held: Mutex::new(None),
        }
    }

    /// Pauses (`true`) or resumes delivery; attempts due meanwhile wait.
    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// Whether delivery is paused.
    pub fn paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Deliveries not finished yet (waiting for an attempt or a retry).
    pub fn in_progress(&self) -> usize {
        self.in_progress.load(Ordering::SeqCst)
    }

    /// Every attempt so far, oldest first.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().clone()
    }

    /// Sends this share (0..=1) of deliveries twice, as Stripe occasionally does
    /// (https://docs.stripe.com/webhooks#handle-duplicate-events).
    pub fn set_duplicate_rate(&self, rate: f64) {
        self.duplicate_rate.store(rate.to_bits(), Ordering::SeqCst);
    }

    /// The share of deliveries sent twice.
    pub fn duplicate_rate(&self) -> f64 {
        f64::from_bits(self.duplicate_rate.load(Ordering::SeqCst))
    }

    /// Starts holding new deliveries back (their first attempt waits for a release).
    pub fn hold(&self) {
        self.held.lock().get_or_insert_with(Vec::new);
    }

    /// Stops holding and hands over what was held, in the order it was dispatched.
    pub fn take_held(&self) -> Vec<Held> {
        self.held.lock().take().unwrap_or_default()
    }

    /// Whether new deliveries are held, and how many are.
    pub fn holding(&self) -> Option<usize> {
        self.held.lock().as_ref().map(Vec::len)
    }
}

/// The enabled endpoints that subscribe to `kind` (`*` subscribes to everything).
pub fn targets(store: &Store, kind: &str) -> Vec<Target> {
    store
        .webhook_endpoints
        .newest_first()
        .into_iter()
        .filter(|endpoint| endpoint["status"] == "enabled")
        .filter(|endpoint| {
            endpoint["enabled_events"].as_array().is_some_and(|events| {
                events
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|filter| type_matches(filter, kind))
            })
        })
        .map(|endpoint| Target {
            endpoint_id: endpoint["id"].as_str().unwrap_or_default().to_string(),
            url: endpoint["url"].as_str().unwrap_or_default().to_string(),
            secret: endpoint["secret"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Starts delivering `event` to each target in the background (twice for a share of them,
/// see [`Deliveries::set_duplicate_rate`]), or holds the deliveries back while holding.
pub fn dispatch(state: &AppState, event: &Value, targets: Vec<Target>) {
    let event_id = event["id"].as_str().unwrap_or_default().to_string();
    let payload = match serde_json::to_vec(event) {
        Ok(payload) => payload,
        Err(error) => {
            tracing::error!(%error, "Cannot serialise an event for delivery.");
            return;
        }
    };
    let rate = state.deliveries.duplicate_rate();
    for target in targets {
        let twice = rate > 0.0 && rand::random::<f64>() < rate;
        for duplicate in [false, true].into_iter().take(if twice { 2 } else { 1 }) {
            let job = Job {
                event_id: event_id.clone(),
                payload: payload.clone(),
                target: target.clone(),
                duplicate,
            };
            state.deliveries.in_progress.fetch_add(1, Ordering::SeqCst);
            let mut held = state.deliveries.held.lock();
            match held.as_mut() {
                Some(held) => held.push(Held(job)),
                None => spawn(state, job, 1),
            }
        }
    }
}

/// Delivers `job` in the background from attempt `first` on, counting it finished at the end.
pub fn spawn(state: &AppState, job: Job, first: usize) {
    let state = state.clone();
    state.tasks.clone().spawn(async move {
        tokio::select! {
            () = deliver_from(&state, &job, first) => {}
            () = state.shutdown.cancelled() => {}
        }
        state.deliveries.in_progress.fetch_sub(1, Ordering::SeqCst);
    });
}

/// Counts a delivery finished without further attempts.
pub fn finished(state: &AppState) {
    state.deliveries.in_progress.fetch_sub(1, Ordering::SeqCst);
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it (2xx).
    Taken,
    /// Not taken; retry on schedule.
    Failed,
    /// The endpoint is gone or disabled: stop.
    Gone,
}

/// Attempts from `first` until the receiver takes the event, the schedule is spent or the
/// endpoint is gone or disabled.
async fn deliver_from(state: &AppState, job: &Job, first: usize) {
    for attempt in first..=RETRY_SCHEDULE.len() + 1 {
        if attempt_once(state, job, attempt).await != Outcome::Failed {
            return;
        }
        if let Some(wait) = RETRY_SCHEDULE.get(attempt - 1) {
            tokio::time::sleep(wait.mul_f64(state.config.retry_scale)).await;
        }
    }
    tracing::warn!(event_id = %job.event_id, endpoint_id = %job.target.endpoint_id, "Webhook delivery given up after the whole retry schedule.");
}

/// The wait before attempt `next` (after attempt `next - 1` failed).
pub fn wait_before(state: &AppState, next: usize) -> Duration {
    RETRY_SCHEDULE
        .get(next.saturating_sub(2))
        .map_or(Duration::ZERO, |wait| {
            wait.mul_f64(state.config.retry_scale)
        })
}

/// Attempt number `attempt` of `job` (waiting while delivery is paused), recorded.
pub async fn attempt_once(state: &AppState, job: &Job, attempt: usize) -> Outcome {
    let mut paused = state.deliveries.paused.subscribe();
    if paused.wait_for(|paused| !paused).await.is_err() {
        return Outcome::Gone;
    }
    let target = &job.target;
    // Retries stop when the endpoint is deleted or disabled by the time they are due
    // (docs/stripe-webhooks.md, "Retries"); a changed URL applies to the next attempt.
    let url = {
        let store = state.store.lock();
        match store.webhook_endpoints.get(&target.endpoint_id) {
            Some(endpoint) if endpoint["status"] == "enabled" => {
                endpoint["url"].as_str().unwrap_or(&target.url).to_string()
            }
            _ => return Outcome::Gone,
        }
    };
    let timestamp = unix_now();
    let signature = compute_signature(target.secret.as_bytes(), timestamp, &job.payload);
    let sent = state
        .deliveries
        .client
        .post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", format!("t={timestamp},v1={signature}"))
        .body(job.payload.clone())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let succeeded = status.is_some_and(|status| (200..300).contains(&status));
    state.deliveries.attempts.lock().push(Attempt {
        event_id: job.event_id.clone(),
        endpoint_id: target.endpoint_id.clone(),
        attempt,
        status,
        error,
        succeeded,
        duplicate: job.duplicate,
        at: timestamp,
    });
    if !succeeded {
        return Outcome::Failed;
    }
    if !job.duplicate {
        if let Some(event) = state.store.lock().events.get_mut(&job.event_id) {
            let pending = event["pending_webhooks"].as_u64().unwrap_or(1);
            event["pending_webhooks"] = pending.saturating_sub(1).into();
        }
    }
    Outcome::Taken
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_enabled_subscribed_endpoints_are_targets() {
        let mut store = Store::default();
        let endpoints = [
            ("we_all", json!(["*"]), "enabled"),
            ("we_customers", json!(["customer.*"]), "enabled"),
            ("we_products", json!(["product.created"]), "enabled"),
            ("we_off", json!(["*"]), "disabled"),
        ];
        for (id, events, status) in endpoints {
            store.webhook_endpoints.insert(
                id.to_string(),
                json!({"id": id, "url": "http://x", "secret": "whsec_1", "enabled_events": events, "status": status}),
            );
        }
        let mut ids: Vec<String> = targets(&store, "customer.created")
            .into_iter()
            .map(|t| t.endpoint_id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["we_all", "we_customers"]);
    }

    #[test]
    fn schedule_spans_about_three_days() {
        let total: Duration = RETRY_SCHEDULE.iter().sum();
        assert!(
            total > Duration::from_secs(2 * 86_400) && total <= Duration::from_secs(3 * 86_400),
            "{total:?}"
        );
    }
}
