//! Shared helpers of the sfsim tests (included with `#[path]` by each test file; compiled on
//! its own it is an empty test crate). Everything goes over real HTTP.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use sfsim::{RunningSimulator, SimConfig, Simulator};
use testkit::harness::wait_for;

/// API version the tests speak (v46+, so upserts answer 200/201 with `created`).
pub const VERSION: &str = "v62.0";

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// The first `errorCode` of a REST error array.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or("")
    }

    /// The first error message of a REST error array.
    pub fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or("")
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A running simulator plus a logged-in client.
pub struct Org {
    pub sim: RunningSimulator,
    pub client: reqwest::Client,
    pub token: String,
}

/// Test defaults: a free port and fast Bulk processing.
pub fn test_config() -> SimConfig {
    let mut config = SimConfig::on_free_port();
    config.bulk.queue_delay = Duration::from_millis(10);
    config.bulk.processing_time = Duration::from_millis(10);
    config
}

impl Org {
    pub async fn start() -> Org {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: SimConfig) -> Org {
        let sim = Simulator::start(config).await.expect("simulator starts");
        let client = testkit::harness::http_client();
        let token = login(&client, &sim).await;
        Org { sim, client, token }
    }

    /// `base_url` + path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// `/services/data/v62.0` + path.
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/services/data/{VERSION}{path}"))
    }

    /// Sends with the session token; `body` as JSON.
    pub async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("request is answered")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, &self.api(path), None).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PATCH, &self.api(path), Some(body)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, &self.api(path), Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, &self.api(path), None).await
    }

    /// `/__sim/` calls (no session needed).
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("admin request is answered")).await
    }

    /// Upserts one Stripe customer by external id.
    pub async fn upsert_customer(&self, external_id: &str, fields: &Value) -> Reply {
        self.patch(
            &format!("/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c/{external_id}"),
            fields,
        )
        .await
    }
}

/// Reads a response whole; the body as JSON when it is JSON.
pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body is readable");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        body,
    }
}

/// Client-credentials login with the form body; returns the access token.
pub async fn login(client: &reqwest::Client, sim: &RunningSimulator) -> String {
    let response = client
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    let reply = read(response).await;
    assert_eq!(reply.status, 200, "login failed: {}", reply.text);
    reply.body["access_token"]
        .as_str()
        .expect("a token")
        .to_string()
}

// OAuth token endpoint helpers (oauth.rs, jwt.rs, sessions.rs).

/// Posts `form` to the token endpoint.
pub async fn token_request(org: &Org, form: &[(&str, &str)]) -> Reply {
    read(
        org.client
            .post(org.sim.token_url())
            .form(form)
            .send()
            .await
            .expect("token endpoint answers"),
    )
    .await
}

/// A 400 with the OAuth error body `{"error","error_description"}` (§1.6).
pub fn assert_oauth_error(reply: &Reply, error: &str, description: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"error": error, "error_description": description})
    );
}

// Bulk API 2.0 helpers (bulk.rs, bulk_states.rs).

/// Creates an ingest job; it must answer 200 in state `Open`. Returns its id.
pub async fn create_job(org: &Org, body: Value) -> String {
    let reply = org.post("/jobs/ingest", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["state"], "Open");
    reply.body["id"].as_str().expect("a job id").to_string()
}

/// `PUT .../batches` with `text/csv` data.
pub async fn upload(org: &Org, job: &str, csv: &str) -> Reply {
    let response = org
        .client
        .put(org.api(&format!("/jobs/ingest/{job}/batches")))
        .bearer_auth(&org.token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("upload is answered");
    read(response).await
}

/// `PATCH` the job to `UploadComplete`.
pub async fn close(org: &Org, job: &str) -> Reply {
    org.patch(
        &format!("/jobs/ingest/{job}"),
        &json!({"state": "UploadComplete"}),
    )
    .await
}

/// Polls job info until the job is in one of `states`; returns the info.
pub async fn wait_for_state(org: &Org, job: &str, states: &[&str]) -> Value {
    wait_for("job state", Duration::from_secs(10), || async {
        let info = org.get(&format!("/jobs/ingest/{job}")).await.body;
        states
            .iter()
            .any(|state| info["state"] == *state)
            .then_some(info)
    })
    .await
    .expect("the job reaches the state")
}

/// A results resource of a job (`successfulResults`, ...); it must be 200 `text/csv`.
pub async fn csv(org: &Org, job: &str, resource: &str) -> Reply {
    let reply = org.get(&format!("/jobs/ingest/{job}/{resource}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=UTF-8")
    );
    reply
}

/// The create body of a Payment_Transaction__c upsert job by payment intent id.
pub fn upsert_job() -> Value {
    json!({"object": "Payment_Transaction__c", "externalIdFieldName": "Stripe_Payment_Intent_ID__c", "contentType": "CSV", "operation": "upsert", "lineEnding": "LF", "columnDelimiter": "COMMA"})
}
