//! The HTTP core every resource call goes through: authentication, the pinned version,
//! form encoding, the gate, retries, and turning answers into objects or classified errors.

use std::{sync::Arc, time::Duration};

use backon::BackoffBuilder;
use reqwest::{header::HeaderMap, Method};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    config::ApiKey,
    error::{classify, ApiError, StripeError},
    gate::RequestGate,
    idempotency::IdempotencyKey,
    StripeSettings,
};

/// Longest `Retry-After` the client honours; beyond it the failure goes back to the caller,
/// whose own retry schedule is better placed to wait that long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A Stripe API client. Cheap to clone; clones share the connection pool and the gate.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    settings: Arc<StripeSettings>,
    /// The key in force: the settings' at first, replaced by [`StripeClient::set_api_key`].
    key: Arc<std::sync::RwLock<ApiKey>>,
    gate: Arc<dyn RequestGate>,
}

/// One request before it is sent: what the retry loop repeats.
struct Request<'a> {
    method: Method,
    path: &'a str,
    /// Form-encoded parameters: the body of a POST, the query of a GET.
    params: String,
    key: Option<&'a IdempotencyKey>,
}

impl StripeClient {
    /// A client with `settings` whose every request attempt passes `gate`.
    pub fn new(settings: StripeSettings, gate: Arc<dyn RequestGate>) -> Result<Self, StripeError> {
        // reqwest is built without a crypto provider: ring is installed process-wide. An
        // error only means one is already installed, which is what we want.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StripeError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            key: Arc::new(std::sync::RwLock::new(settings.api_key.clone())),
            settings: Arc::new(settings),
            gate,
        })
    }

    /// Puts a rotated key in force for every later request of this client and its clones
    /// (a request in flight keeps the key it was sent with).
    pub fn set_api_key(&self, key: ApiKey) {
        *self
            .key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &StripeSettings {
        &self.settings
    }

    /// `GET path` with `params` as the query.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &impl Serialize,
    ) -> Result<T, StripeError> {
        let params = encode(params)?;
        self.send(Request {
            method: Method::GET,
            path,
            params,
            key: None,
        })
        .await
    }

    /// One page of a list endpoint (`/v1/customers`, `/v1/subscriptions`, ...) with every
    /// object as Stripe sent it: for a caller that maps objects exactly as the webhooks
    /// carry them (the fleet's reconciliation feeds them to its mapping), not the typed
    /// fields. `params` holds the filters and the [`crate::Page`] cursor.
    pub async fn list_objects(
        &self,
        path: &str,
        params: &impl Serialize,
    ) -> Result<crate::List<serde_json::Value>, StripeError> {
        self.get(path, params).await
    }

    /// `GET path` without parameters.
    pub(crate) async fn get_one<T: DeserializeOwned>(&self, path: &str) -> Result<T, StripeError> {
        self.send(Request {
            method: Method::GET,
            path,
            params: String::new(),
            key: None,
        })
        .await
    }

    /// `POST path` with `params` as the form body, under an idempotency key: every
    /// mutating call has one, so that it can be retried.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &impl Serialize,
        key: &IdempotencyKey,
    ) -> Result<T, StripeError> {
        let params = encode(params)?;
        self.send(Request {
            method: Method::POST,
            path,
            params,
            key: Some(key),
        })
        .await
    }

    /// `DELETE path`. Stripe ignores idempotency keys on DELETE; deleting twice answers 404
    /// the second time, which callers treat as done.
    pub(crate) async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, StripeError> {
        self.send(Request {
            method: Method::DELETE,
            path,
            params: String::new(),
            key: None,
        })
        .await
    }

    /// Sends `request`, retrying transient failures up to `max_retries` times with
    /// exponential backoff (0.5 s to 8 s, jittered) or the `Retry-After` Stripe asked for.
    /// A POST is retried only because it carries its idempotency key.
    async fn send<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, StripeError> {
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(8))
            .with_jitter()
            .with_max_times(self.settings.max_retries as usize)
            .build();
        loop {
            let error = match self.attempt(&request).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let retry_after = match &error {
                StripeError::Api { retry_after, .. } => *retry_after,
                _ => None,
            };
            let may_retry = error.class().is_transient()
                && !matches!(error, StripeError::Interrupted)
                && retry_after.is_none_or(|wait| wait <= MAX_RETRY_AFTER);
            match delays.next() {
                Some(delay) if may_retry => {
                    let delay = retry_after.map_or(delay, |wait| wait.max(delay));
                    tracing::debug!(path = request.path, class = %error.class(), ?delay, "Retrying a Stripe request.");
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// One attempt: through the gate, over the wire, and read; the gate hears the outcome.
    async fn attempt<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T, StripeError> {
        self.gate
            .admit()
            .await
            .map_err(|_| StripeError::Interrupted)?;
        let result = self.exchange(request).await;
        self.gate
            .attempted(result.as_ref().err().map(StripeError::class));
        result
    }

    /// One admitted request over the wire, and its answer read.
    async fn exchange<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T, StripeError> {
        let mut url = format!("{}{}", self.settings.api_base, request.path);
        if request.method != Method::POST && !request.params.is_empty() {
            url.push('?');
            url.push_str(&request.params);
        }
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .bearer_auth(
                self.key
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .expose(),
            )
            .header("Stripe-Version", &self.settings.api_version);
        if let Some(key) = request.key {
            builder = builder.header("Idempotency-Key", key.as_str());
        }
        if request.method == Method::POST {
            builder = builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(request.params.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| StripeError::Transport(without_url(e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let request_id = header(&headers, "request-id");
        let body = response
            .bytes()
            .await
            .map_err(|e| StripeError::Transport(without_url(e)))?;
        tracing::debug!(method = %request.method, path = request.path, status, request_id = request_id.as_deref().unwrap_or(""), "Stripe answered.");
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| StripeError::Decode {
                detail: e.to_string(),
                request_id,
            });
        }
        Err(api_error(status, &headers, &body, request_id))
    }
}

/// The error a non-2xx answer stands for.
fn api_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    request_id: Option<String>,
) -> StripeError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: ApiError,
    }
    let should_retry = header(headers, "stripe-should-retry").and_then(|v| match v.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    });
    let retry_after = header(headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let error = serde_json::from_slice::<Envelope>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    StripeError::Api {
        status,
        class: classify(status, should_retry),
        error: Box::new(error),
        request_id,
        retry_after,
    }
}

/// A header's value as text.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// reqwest's error text without the URL, which can carry query parameters (an e-mail filter).
fn without_url(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    format!("{kind}: {}", error.without_url())
}

/// Form-encodes parameters with Stripe's bracket notation (`metadata[k]=v`, `a[0][b]=c`).
fn encode(params: &impl Serialize) -> Result<String, StripeError> {
    serde_qs::to_string(params).map_err(|e| StripeError::Decode {
        detail: format!("parameters could not be encoded: {e}"),
        request_id: None,
    })
}
