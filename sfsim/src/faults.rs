//! Fault injection: what a test or the load generator can make the org do wrong, on
//! purpose, at startup (`SimConfig::faults`, `SFSIM_FAULTS`) or live (`PUT /__sim/faults`).
//!
//! The shapes follow docs/salesforce-api.md §2.7 and §8: 503 `SERVER_UNAVAILABLE` (also as an HTML
//! maintenance page), 500 `UNKNOWN_EXCEPTION`, `UNABLE_TO_LOCK_ROW` per record, slow and
//! failing Bulk jobs, and added latency. Expiring every session and exhausting the daily
//! allocation are admin calls of their own (`/__sim/sessions/expire`, `/__sim/limits`).

use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Every fault knob. `Default` means a healthy org.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed latency added to every API request, in milliseconds.
    pub latency_ms: u64,
    /// Extra random latency, uniform in `0..=latency_jitter_ms`.
    pub latency_jitter_ms: u64,
    /// Random errors per endpoint (see `/__sim/calls` for endpoint names; `*` = all).
    pub error_rates: Vec<ErrorRule>,
    /// Windows during which every request gets 503, relative to when the faults were set.
    pub outages: Vec<OutageWindow>,
    /// Share (0..1) of record writes failing with `UNABLE_TO_LOCK_ROW`.
    pub lock_row_rate: f64,
    /// Extra time a Bulk job spends `InProgress`, in milliseconds (slow jobs).
    pub bulk_extra_delay_ms: u64,
    /// Share (0..1) of Bulk jobs that end `Failed`, leaving their rows unprocessed.
    pub bulk_failure_rate: f64,
}

/// Random failures of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRule {
    /// Endpoint name such as `sobject.upsert`, `collections.upsert`, `bulk.create_job`,
    /// `oauth.token`, or `*` for every endpoint.
    pub endpoint: String,
    /// Probability (0..1) that a request to it fails.
    pub rate: f64,
    /// HTTP status to answer: 503 (default, `SERVER_UNAVAILABLE`), 500
    /// (`UNKNOWN_EXCEPTION`), 502/504 (HTML from the edge), 400 (`UNABLE_TO_LOCK_ROW` for the
    /// whole request) or 403 (concurrent `REQUEST_LIMIT_EXCEEDED`).
    #[serde(default = "default_status")]
    pub status: u16,
}

fn default_status() -> u16 {
    503
}

/// A period of unavailability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageWindow {
    /// Start, in milliseconds after the faults were set.
    #[serde(default)]
    pub start_after_ms: u64,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Answer with an HTML maintenance page instead of the JSON error (§2.7).
    #[serde(default)]
    pub html: bool,
}

/// The faults in force and when they were set (outage windows count from then).
#[derive(Debug)]
pub struct FaultState {
    current: RwLock<(FaultConfig, Instant)>,
}

impl FaultState {
    /// Starts with the given faults, anchored now.
    pub fn new(config: FaultConfig) -> Self {
        Self {
            current: RwLock::new((config, Instant::now())),
        }
    }

    /// Replaces all faults; outage windows count from now.
    pub fn set(&self, config: FaultConfig) {
        *self.current.write() = (config, Instant::now());
    }

    /// The faults in force.
    pub fn get(&self) -> FaultConfig {
        self.current.read().0.clone()
    }

    /// Latency to add to this request, if any.
    pub fn latency(&self) -> Option<Duration> {
        let guard = self.current.read();
        let config = &guard.0;
        if config.latency_ms == 0 && config.latency_jitter_ms == 0 {
            return None;
        }
        let jitter = if config.latency_jitter_ms > 0 {
            rand::random_range(0..=config.latency_jitter_ms)
        } else {
            0
        };
        Some(Duration::from_millis(config.latency_ms + jitter))
    }

    /// The outage response, if an outage window is open now.
    pub fn outage_response(&self) -> Option<Response> {
        let guard = self.current.read();
        let (config, anchor) = &*guard;
        let elapsed = u64::try_from(anchor.elapsed().as_millis()).unwrap_or(u64::MAX);
        config
            .outages
            .iter()
            .find(|window| {
                elapsed >= window.start_after_ms
                    && elapsed < window.start_after_ms.saturating_add(window.duration_ms)
            })
            .map(|window| {
                if window.html {
                    html_response(StatusCode::SERVICE_UNAVAILABLE, MAINTENANCE_PAGE)
                } else {
                    server_unavailable().into_response()
                }
            })
    }

    /// An injected error for this endpoint, drawn at the configured rate.
    pub fn injected_error(&self, endpoint: &str) -> Option<Response> {
        let guard = self.current.read();
        let rule = guard
            .0
            .error_rates
            .iter()
            .find(|rule| rule.endpoint == endpoint || rule.endpoint == "*")?;
        if rule.rate <= 0.0 || rand::random::<f64>() >= rule.rate {
            return None;
        }
        Some(error_for_status(rule.status))
    }

    /// Share of record writes that fail with `UNABLE_TO_LOCK_ROW`.
    pub fn lock_row_rate(&self) -> f64 {
        self.current.read().0.lock_row_rate
    }

    /// Extra processing time of Bulk jobs.
    pub fn bulk_extra_delay(&self) -> Duration {
        Duration::from_millis(self.current.read().0.bulk_extra_delay_ms)
    }

    /// Whether the next Bulk job should fail as a whole.
    pub fn bulk_job_fails(&self) -> bool {
        let rate = self.current.read().0.bulk_failure_rate;
        rate > 0.0 && rand::random::<f64>() < rate
    }
}

/// 503 `SERVER_UNAVAILABLE` / `Server too busy` (§2.7).
pub fn server_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVER_UNAVAILABLE",
        "Server too busy",
    )
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1><p>This site is down for maintenance. Please check back again soon.</p></body></html>\n";

fn html_response(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    response
}

fn error_for_status(status: u16) -> Response {
    match status {
        500 => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
        )
        .into_response(),
        502 => html_response(StatusCode::BAD_GATEWAY, "<html><body><h1>502 Bad Gateway</h1></body></html>\n"),
        504 => html_response(StatusCode::GATEWAY_TIMEOUT, "<html><body><h1>504 Gateway Timeout</h1></body></html>\n"),
        400 => ApiError::bad_request(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records",
        )
        .into_response(),
        403 => concurrent_limit_exceeded().into_response(),
        _ => server_unavailable().into_response(),
    }
}

/// 403 `REQUEST_LIMIT_EXCEEDED` for too many concurrent long-running requests (§2.6; the
/// status is believed to be 403, unverified).
pub fn concurrent_limit_exceeded() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
    )
}
