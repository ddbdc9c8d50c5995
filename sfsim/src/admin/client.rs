//! A typed client for the simulator's `/__sim/` API, for tests and tools that drive a
//! running simulator (in-process or as the `sfsim` binary) over HTTP.

use serde_json::{json, Value};

/// Why an admin call failed: the simulator did not answer, or refused the request.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No usable HTTP answer.
    #[error("sfsim did not answer: {0}")]
    Transport(#[from] reqwest::Error),
    /// An answer other than 2xx.
    #[error("sfsim refused {path}: {status} {body}")]
    Refused {
        /// The admin path.
        path: String,
        /// HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
}

/// The `/__sim/` API of the simulator at `base_url`.
#[derive(Debug, Clone)]
pub struct SimAdmin {
    http: reqwest::Client,
    base_url: String,
}

impl SimAdmin {
    /// An admin client for the simulator at `base_url` (e.g. `http://127.0.0.1:7700`).
    pub fn new(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        Self {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(AdminError::Refused {
                path: path.to_owned(),
                status: status.as_u16(),
                body: text,
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET` an admin path, its JSON answer.
    pub async fn get(&self, path: &str) -> Result<Value, AdminError> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// All records of `object`.
    pub async fn records(&self, object: &str) -> Result<Vec<Value>, AdminError> {
        let answer = self.get(&format!("/__sim/records/{object}")).await?;
        Ok(answer["records"].as_array().cloned().unwrap_or_default())
    }

    /// The write history of the record of `object` whose `field` is `value`.
    pub async fn writes(
        &self,
        object: &str,
        field: &str,
        value: &str,
    ) -> Result<Vec<Value>, AdminError> {
        let answer = self
            .get(&format!("/__sim/history/{object}/{value}?by={field}"))
            .await?;
        Ok(answer["writes"].as_array().cloned().unwrap_or_default())
    }

    /// Counted API calls so far (`{"total","by_endpoint",...}`).
    pub async fn calls(&self) -> Result<Value, AdminError> {
        self.get("/__sim/calls").await
    }

    /// The most counted API calls in any window of `window_ms`, of those made at or after
    /// `since_ms` (epoch ms; 0 for all).
    pub async fn max_calls_in_window(
        &self,
        window_ms: u64,
        since_ms: i64,
    ) -> Result<u64, AdminError> {
        let answer = self
            .get(&format!(
                "/__sim/calls/max-window?window_ms={window_ms}&since_ms={since_ms}"
            ))
            .await?;
        Ok(answer["max_calls"].as_u64().unwrap_or(0))
    }

    /// OAuth tokens issued so far.
    pub async fn tokens_issued(&self) -> Result<u64, AdminError> {
        Ok(self.get("/__sim/tokens").await?["issued"]
            .as_u64()
            .unwrap_or(0))
    }

    /// Puts a fault configuration (`FaultConfig` JSON) in force; `{}` is healthy.
    pub async fn set_faults(&self, faults: Value) -> Result<(), AdminError> {
        self.send(reqwest::Method::PUT, "/__sim/faults", Some(faults))
            .await
            .map(drop)
    }

    /// Makes every live token answer `401 INVALID_SESSION_ID` from now on.
    pub async fn expire_sessions(&self) -> Result<(), AdminError> {
        self.send(reqwest::Method::POST, "/__sim/sessions/expire", None)
            .await
            .map(drop)
    }

    /// Sets the org's daily API usage and allocation.
    pub async fn set_daily_usage(&self, used: u64, max: u64) -> Result<(), AdminError> {
        let body = json!({ "daily_api_used": used, "daily_api_max": max });
        self.send(reqwest::Method::PUT, "/__sim/limits", Some(body))
            .await
            .map(drop)
    }
}
