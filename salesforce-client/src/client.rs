//! The REST client: every call authenticated with the shared token, replayed once after a
//! `401 INVALID_SESSION_ID`, its `Sforce-Limit-Info` recorded, and its failure classified.
//!
//! Written against docs/salesforce-api.md (the documented API), not against the simulator, so
//! that it works unchanged with a real org.

use std::{sync::Arc, time::Duration};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{header, Method, StatusCode};
use serde_json::{Map, Value};

use crate::{
    auth::{ClientCredentials, Session, TokenCache},
    coordination::{CallGate, Coordination, UsageStore},
    error::{ApiError, SalesforceError},
    record::{record_outcome, RecordOutcome},
    usage::ApiUsage,
};

/// Most records one sObject Collections call takes.
pub const COLLECTION_LIMIT: usize = 200;

/// How to reach and authenticate with the org.
#[derive(Debug, Clone)]
pub struct SalesforceSettings {
    /// Connected App credentials and login URL.
    pub credentials: ClientCredentials,
    /// e.g. `v62.0`.
    pub api_version: String,
    /// Timeout of one HTTP call (well below Salesforce's own 10-minute limit).
    pub request_timeout: Duration,
    /// How long a token is reused before a fresh login (Salesforce sends no expiry).
    pub token_lifetime: Duration,
}

/// A successful HTTP answer.
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// Body text.
    pub body: String,
}

/// The Salesforce REST and Bulk 2.0 client shared by all workers of a process.
#[derive(Clone)]
pub struct SalesforceClient {
    http: reqwest::Client,
    tokens: TokenCache,
    settings: Arc<SalesforceSettings>,
    usage: Arc<dyn UsageStore>,
    gate: Arc<dyn CallGate>,
}

impl SalesforceClient {
    /// Puts a rotated consumer secret in force for this client's next login (see
    /// [`TokenCache::set_client_secret`]); false with the JWT bearer flow.
    pub fn set_client_secret(&self, secret: String) -> bool {
        self.tokens.set_client_secret(secret)
    }

    /// A client whose token, usage and call gate are the given [`Coordination`]; clients
    /// built with clones of one coordination share one login.
    pub fn new(
        settings: SalesforceSettings,
        coordination: Coordination,
    ) -> Result<Self, SalesforceError> {
        // reqwest is built without a crypto provider: ring is installed process-wide. An
        // error only means one is already installed, which is what we want.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| SalesforceError::Unexpected(e.to_string()))?;
        let tokens = TokenCache::new(
            http.clone(),
            settings.credentials.clone(),
            coordination.tokens,
            settings.token_lifetime,
        );
        Ok(Self {
            http,
            tokens,
            settings: Arc::new(settings),
            usage: coordination.usage,
            gate: coordination.gate,
        })
    }

    /// The session calls are made with, for APIs that authenticate with the same token
    /// beside REST (the Pub/Sub API).
    pub async fn session(&self) -> Result<Session, SalesforceError> {
        self.tokens.session().await
    }

    /// Drops a session another API refused, so the next [`session`](Self::session) logs in.
    pub async fn invalidate_session(&self, stale: &Session) {
        self.tokens.invalidate(stale).await;
    }

    /// `/services/data/vNN.N`.
    pub(crate) fn data_path(&self) -> String {
        format!("/services/data/{}", self.settings.api_version)
    }

    /// The same base, for the Bulk API module.
    pub(super) fn data_path_for_jobs(&self) -> String {
        self.data_path()
    }

    /// Sends one authenticated call to `path` (relative to the instance URL). A
    /// `401 INVALID_SESSION_ID` drops the token, logs in again once and replays the call.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<Answer, SalesforceError> {
        let session = self.tokens.session().await?;
        match self
            .send(&session, method.clone(), path, body.clone())
            .await
        {
            Err(error) if error.is_invalid_session() => {
                tracing::info!(
                    "Salesforce session expired; logging in again and replaying the call."
                );
                self.tokens.invalidate(&session).await;
                let fresh = self.tokens.session().await?;
                self.send(&fresh, method, path, body).await
            }
            other => other,
        }
    }

    async fn send(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<Answer, SalesforceError> {
        self.gate
            .admit()
            .await
            .map_err(|_| SalesforceError::Interrupted)?;
        let mut request = self
            .http
            .request(method, format!("{}{path}", session.instance_url))
            .bearer_auth(&session.access_token)
            .header(header::ACCEPT, "application/json");
        request = match body {
            Some(Body::Json(value)) => request.json(&value),
            Some(Body::Csv(text)) => request.header(header::CONTENT_TYPE, "text/csv").body(text),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| SalesforceError::Transport(e.without_url().to_string()))?;
        self.record_usage(response.headers()).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .text()
            .await
            .map_err(|e| SalesforceError::Transport(e.without_url().to_string()))?;
        if status.is_success() || status == StatusCode::MULTIPLE_CHOICES {
            Ok(Answer { status, body })
        } else {
            Err(SalesforceError::from_response(
                status.as_u16(),
                &content_type,
                &body,
            ))
        }
    }

    async fn record_usage(&self, headers: &header::HeaderMap) {
        let Some(usage) = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(ApiUsage::parse)
        else {
            return;
        };
        if let Err(error) = self.usage.record(usage).await {
            tracing::debug!(%error, "Could not store the API usage.");
        }
    }

    /// The latest daily usage any instance sharing this client's [`UsageStore`] has seen.
    pub async fn latest_usage(&self) -> Option<ApiUsage> {
        self.usage.latest().await.ok().flatten()
    }

    /// Upserts one record by external id (`PATCH /sobjects/{Object}/{Field}/{value}`):
    /// 201 created, 200 updated, 300 several matches (an error here).
    pub async fn upsert(
        &self,
        sobject: &str,
        external_id_field: &str,
        external_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<RecordOutcome, SalesforceError> {
        let path = format!(
            "{}/sobjects/{sobject}/{external_id_field}/{}",
            self.data_path(),
            encode_component(external_id)
        );
        let mut body = fields.clone();
        body.remove(external_id_field);
        let answer = self
            .call(Method::PATCH, &path, Some(Body::Json(Value::Object(body))))
            .await?;
        if answer.status == StatusCode::MULTIPLE_CHOICES {
            return Ok(RecordOutcome {
                id: None,
                created: false,
                errors: vec![ApiError {
                    code: "MULTIPLE_CHOICES".into(),
                    message: format!("several {sobject} records have this {external_id_field}"),
                    fields: vec![external_id_field.to_owned()],
                }],
            });
        }
        let value: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        Ok(record_outcome(&value, answer.status == StatusCode::CREATED))
    }

    /// Updates one record by its Salesforce id (`PATCH /sobjects/{Object}/{Id}`, 204).
    pub async fn update(
        &self,
        sobject: &str,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), SalesforceError> {
        let path = format!(
            "{}/sobjects/{sobject}/{}",
            self.data_path(),
            encode_component(id)
        );
        self.call(
            Method::PATCH,
            &path,
            Some(Body::Json(Value::Object(fields.clone()))),
        )
        .await
        .map(|_| ())
    }

    /// Runs a SOQL query and follows `nextRecordsUrl` until `done`. Build literals with
    /// [`super::soql::quote`].
    pub async fn query(&self, soql: &str) -> Result<Vec<Value>, SalesforceError> {
        let path = format!("{}/query?q={}", self.data_path(), encode_component(soql));
        let answer = self.call(Method::GET, &path, None).await?;
        let page: Value = serde_json::from_str(&answer.body)
            .map_err(|_| SalesforceError::Unexpected("query answer is not JSON".into()))?;
        self.all_pages(page).await
    }

    /// The records of a query answer's first `page` and of every page after it
    /// (`nextRecordsUrl`, one call each).
    pub(crate) async fn all_pages(&self, mut page: Value) -> Result<Vec<Value>, SalesforceError> {
        let mut records = Vec::new();
        loop {
            if let Some(page_records) = page.get("records").and_then(Value::as_array) {
                records.extend(page_records.iter().cloned());
            }
            let done = page.get("done").and_then(Value::as_bool).unwrap_or(true);
            let next = match page.get("nextRecordsUrl").and_then(Value::as_str) {
                Some(next) if !done => next.to_owned(),
                _ => return Ok(records),
            };
            let answer = self.call(Method::GET, &next, None).await?;
            page = serde_json::from_str(&answer.body)
                .map_err(|_| SalesforceError::Unexpected("query answer is not JSON".into()))?;
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `text/csv` (Bulk uploads).
    Csv(String),
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`) is encoded, so
/// an external id with `/`, spaces, `#` or non-ASCII stays one path segment.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment or a query parameter value.
pub(crate) fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_fully_encoded() {
        assert_eq!(encode_component("cus_1"), "cus_1");
        assert_eq!(encode_component("a/b c#é"), "a%2Fb%20c%23%C3%A9");
        assert_eq!(
            encode_component("a-b_c.d~e+f&g=h?"),
            "a-b_c.d~e%2Bf%26g%3Dh%3F"
        );
        assert_eq!(
            encode_component("SELECT Id FROM X WHERE N = 'a%b'"),
            "SELECT%20Id%20FROM%20X%20WHERE%20N%20%3D%20%27a%25b%27"
        );
    }
}
