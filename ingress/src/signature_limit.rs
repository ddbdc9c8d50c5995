//! A per-address limit on requests that fail signature verification, built on governor's
//! keyed GCRA [`RateLimiter`].
//!
//! A forged request costs an HMAC over up to `MAX_BODY_BYTES` and one of the `MAX_IN_FLIGHT`
//! slots; a flood of them could burn the CPU and crowd out Stripe. So every request that
//! fails verification charges one cell to its sender's address (see [`crate::source`]), and
//! once an address has used up `INVALID_SIGNATURE_BURST` cells (refilled at
//! `INVALID_SIGNATURE_PER_MINUTE`) its requests are answered 429 with `Retry-After` before
//! their body is read. The check before the request is a read that charges nothing, so valid
//! signatures never cost allowance.
//!
//! Trade-off: while an address is blocked *all* its requests are refused, valid ones too,
//! because not verifying them is the point. Stripe sends from a published set of addresses
//! with valid signatures, so it meets this limit only if its own requests fail verification
//! (a secret rolled on one side only, a clock far off) or if a trusted proxy header lets a
//! forger name Stripe's address; Stripe then retries later, as after any non-2xx answer.

use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use governor::{
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    nanos::Nanos,
    state::{
        keyed::{DashMapStateStore, ShrinkableKeyedStateStore},
        NotKeyed, StateStore,
    },
    Quota, RateLimiter,
};
use serde_json::json;
use tokio::{task::JoinHandle, time::MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::{source, telemetry, webhook::SignatureFailed, AppState};

/// Error code of the 429 answer and `outcome` label of the refusals.
pub const REFUSED: &str = "too_many_invalid_signatures";

/// How often addresses whose allowance is full again are forgotten.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(10);

/// The limiter of failed verifications per address: [`check`](Self::check) before the work,
/// [`charge`](Self::charge) after a failure.
pub struct InvalidSignatureLimiter<C: Clock = DefaultClock> {
    limiter: RateLimiter<Probe, PeekableStore, C, NoOpMiddleware<C::Instant>>,
}

impl InvalidSignatureLimiter {
    /// A limiter allowing each address `quota` failed verifications, on the real clock.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<C: Clock> InvalidSignatureLimiter<C> {
    fn with_clock(quota: Quota, clock: C) -> Self {
        let store = PeekableStore {
            states: DashMapStateStore::default(),
        };
        Self {
            limiter: RateLimiter::new(quota, store, clock),
        }
    }

    /// `Err(wait)` while `address` has no allowance left. Charges nothing and records
    /// nothing, so it is safe (and cheap) to call for every request.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&Probe::look(address))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Charges one failed verification to `address`. A charge the address can no longer pay
    /// (a race between concurrent failures) is dropped: it is blocked already.
    pub fn charge(&self, address: IpAddr) {
        // Err means "already blocked": nothing more to record.
        let _ = self.limiter.check_key(&Probe::charge(address));
    }

    /// Forgets addresses whose allowance is full again, which are indistinguishable from
    /// addresses never seen; this is what keeps the state bounded under varied addresses.
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Addresses currently tracked (charged and not yet refilled), for the gauge.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// A limiter key: the address, and whether the call charges it or only looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Probe {
    address: IpAddr,
    charge: bool,
}

impl Probe {
    fn look(address: IpAddr) -> Self {
        Self {
            address,
            charge: false,
        }
    }

    fn charge(address: IpAddr) -> Self {
        Self {
            address,
            charge: true,
        }
    }
}

/// governor's DashMap store, one state per address, with a second way in that measures
/// without writing. governor has no "peek"; through this store the same limiter (same
/// clock, same quota) answers both questions, so the two can never disagree.
struct PeekableStore {
    states: DashMapStateStore<IpAddr>,
}

impl StateStore for PeekableStore {
    type Key = Probe;

    fn measure_and_replace<T, F, E>(&self, key: &Probe, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if key.charge {
            return self.states.measure_and_replace(&key.address, f);
        }
        // An address never charged (or forgotten) is fresh, and looking must not add it.
        let Some(state) = self.states.get(&key.address) else {
            return f(None).map(|(outcome, _)| outcome);
        };
        // Hand the decision back as the error, which makes the state keep its old value.
        let looked: Result<Infallible, Result<T, E>> =
            state.measure_and_replace(&NotKeyed::NonKey, |tat| match f(tat) {
                Ok((outcome, _)) => Err(Ok(outcome)),
                Err(refusal) => Err(Err(refusal)),
            });
        match looked {
            Ok(never) => match never {},
            Err(decision) => decision,
        }
    }
}

impl ShrinkableKeyedStateStore<Probe> for PeekableStore {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.states, drop_below);
    }

    fn shrink_to_fit(&self) {
        self.states.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

/// Middleware on `POST /webhook/stripe`, outermost: refuses a blocked address with 429
/// before anything else is spent on it, and charges the address when the handler answers a
/// signature failure (marked by [`SignatureFailed`]).
///
/// Without `ConnectInfo` (a router served without connect info, as in-process tests may do)
/// there is no address to key on and the request passes unlimited; [`crate::run`] always
/// serves with it.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limiter) = state.invalid_signatures.clone() else {
        return next.run(request).await;
    };
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(request).await;
    };
    let address = source::client_address(
        peer.ip(),
        state.config.trusted_proxy_header.as_ref(),
        request.headers(),
    );
    if let Err(wait) = limiter.check(address) {
        metrics::counter!(telemetry::REQUESTS, "outcome" => REFUSED).increment(1);
        return refusal(wait);
    }
    let response = next.run(request).await;
    if response.extensions().get::<SignatureFailed>().is_some() {
        limiter.charge(address);
        record_tracked(&limiter);
        if let Err(wait) = limiter.check(address) {
            // Once per blocking episode: a blocked address is not charged again.
            tracing::warn!(
                source = %address,
                retry_after_secs = retry_after_secs(wait),
                "Too many invalid signatures from one address; refusing it with 429 until its allowance refills."
            );
        }
    }
    response
}

/// The 429 answer, in the ingress's usual error shape.
fn refusal(wait: Duration) -> Response {
    let body = Json(json!({
        "error": REFUSED,
        "message": "too many requests with invalid signatures from this address, retry later"
    }));
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    response
}

/// Whole seconds, rounded up, at least 1 (`Retry-After: 0` would invite an immediate retry).
fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn record_tracked<C: Clock>(limiter: &InvalidSignatureLimiter<C>) {
    // Precision loss only above 2^53 addresses.
    metrics::gauge!(telemetry::INVALID_SIGNATURE_SOURCES).set(limiter.tracked() as f64);
}

/// Forgets refilled addresses every [`HOUSEKEEPING_INTERVAL`] until `shutdown`, and updates
/// the tracked-addresses gauge. An address stays tracked for at most its burst's refill
/// time after its last failure, so the state holds only recent failing addresses.
pub fn spawn_housekeeping(
    limiter: Arc<InvalidSignatureLimiter>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    limiter.retain_recent();
                    record_tracked(&limiter);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use governor::clock::FakeRelativeClock;

    use super::*;

    /// Burst 3, one cell back per second.
    fn limiter() -> (
        InvalidSignatureLimiter<FakeRelativeClock>,
        FakeRelativeClock,
    ) {
        let clock = FakeRelativeClock::default();
        let quota = Quota::per_minute(NonZeroU32::new(60).unwrap())
            .allow_burst(NonZeroU32::new(3).unwrap());
        (
            InvalidSignatureLimiter::with_clock(quota, clock.clone()),
            clock,
        )
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_is_blocked_after_its_burst_until_a_cell_refills() {
        let (limiter, clock) = limiter();
        let forger = ip("203.0.113.7");
        for _ in 0..3 {
            assert_eq!(limiter.check(forger), Ok(()));
            limiter.charge(forger);
        }
        assert_eq!(limiter.check(forger), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(400));
        assert_eq!(limiter.check(forger), Err(Duration::from_millis(600)));
        clock.advance(Duration::from_millis(600));
        assert_eq!(limiter.check(forger), Ok(()));
        limiter.charge(forger);
        assert!(
            limiter.check(forger).is_err(),
            "one refilled cell, one charge"
        );
    }

    #[test]
    fn checking_charges_nothing_and_remembers_nothing() {
        let (limiter, _clock) = limiter();
        for n in 0..1000u32 {
            assert_eq!(limiter.check(IpAddr::from(n.to_be_bytes())), Ok(()));
        }
        let honest = ip("198.51.100.1");
        for _ in 0..1000 {
            assert_eq!(limiter.check(honest), Ok(()));
        }
        assert_eq!(limiter.tracked(), 0);
        limiter.charge(honest);
        limiter.charge(honest);
        assert_eq!(limiter.check(honest), Ok(()), "the burst is still whole");
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn addresses_have_separate_allowances() {
        let (limiter, _clock) = limiter();
        for _ in 0..3 {
            limiter.charge(ip("203.0.113.7"));
        }
        assert!(limiter.check(ip("203.0.113.7")).is_err());
        assert_eq!(limiter.check(ip("203.0.113.8")), Ok(()));
        assert_eq!(limiter.check(ip("2001:db8::7")), Ok(()));
    }

    #[test]
    fn refilled_addresses_are_forgotten_and_blocked_ones_kept() {
        let (limiter, clock) = limiter();
        for n in 0..100u32 {
            limiter.charge(IpAddr::from(n.to_be_bytes()));
        }
        clock.advance(Duration::from_secs(5));
        let forger = ip("203.0.113.7");
        for _ in 0..3 {
            limiter.charge(forger);
        }
        assert_eq!(limiter.tracked(), 101);
        limiter.retain_recent();
        assert_eq!(limiter.tracked(), 1);
        assert!(
            limiter.check(forger).is_err(),
            "still blocked after housekeeping"
        );
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
    }
}
