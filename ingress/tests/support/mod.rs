//! A running ingress binary against a private SQS emulator, for the HTTP tests.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::time::Duration;

use testkit::harness::{self, ServiceProcess, SqsEmulator};
use testkit::stripe::{sign, unix_now, StripeEvent};

/// The secret the test ingress accepts unless a test configures others.
pub const SECRET: &str = "whsec_test_ingress_secret";

/// Ingress + emulator + queue.
pub struct Stack {
    pub sqs: SqsEmulator,
    pub queue_url: String,
    pub ingress: ServiceProcess,
    pub base: String,
    pub http: reqwest::Client,
}

/// What the ingress answered.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: serde_json::Value,
}

impl Stack {
    /// Starts the emulator, creates the queue (FIFO if `fifo`), starts the ingress with
    /// `extra_env` on top of the defaults and waits until it is live.
    pub async fn start(fifo: bool, extra_env: &[(&str, &str)]) -> Stack {
        let sqs = SqsEmulator::start().await.expect("SQS emulator starts");
        let queue_url = if fifo {
            sqs.create_fifo_queue("stripe-events.fifo").await
        } else {
            sqs.create_queue("stripe-events").await
        }
        .expect("queue created");
        Self::start_with_queue(sqs, queue_url, extra_env).await
    }

    /// Starts the ingress against an already prepared emulator and queue URL.
    pub async fn start_with_queue(
        sqs: SqsEmulator,
        queue_url: String,
        extra_env: &[(&str, &str)],
    ) -> Stack {
        let port = harness::free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut env: Vec<(String, String)> = sqs
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        env.push(("LISTEN_ADDR".into(), listen));
        env.push(("SQS_QUEUE_URL".into(), queue_url.clone()));
        env.push(("STRIPE_WEBHOOK_SECRETS".into(), SECRET.into()));
        env.push(("LOG_FORMAT".into(), "json".into()));
        env.push(("RUST_LOG".into(), "info".into()));
        for (key, value) in extra_env {
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ingress =
            ServiceProcess::spawn("ingress", env!("CARGO_BIN_EXE_ingress"), &[], &env_refs)
                .expect("ingress starts");
        let base = format!("http://127.0.0.1:{port}");
        harness::wait_for_http(&format!("{base}/health/live"), Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("{e}; log: {}", ingress.log_contents()));
        Stack {
            sqs,
            queue_url,
            ingress,
            base,
            http: harness::http_client(),
        }
    }

    /// POSTs `body` with the given `Stripe-Signature` header (none if `None`).
    pub async fn post(&self, body: impl Into<String>, signature: Option<&str>) -> Answer {
        send(self.webhook(&self.http, body, signature)).await
    }

    /// A webhook POST of `body` through `client` with the given `Stripe-Signature` header
    /// (none if `None`), to add headers to before [`send`] sends it.
    pub fn webhook(
        &self,
        client: &reqwest::Client,
        body: impl Into<String>,
        signature: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut request = client
            .post(format!("{}/webhook/stripe", self.base))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.into());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request
    }

    /// POSTs an event signed now with the default secret.
    pub async fn post_signed(&self, event: &StripeEvent) -> Answer {
        self.post_signed_with(event, SECRET).await
    }

    /// POSTs an event signed now with `secret`.
    pub async fn post_signed_with(&self, event: &StripeEvent, secret: &str) -> Answer {
        let body = event.body();
        let header = sign(secret, unix_now(), &body);
        self.post(body, Some(&header)).await
    }

    /// Receives and deletes everything in the queue.
    pub async fn drain(&self) -> Vec<testkit::harness::ReceivedMessage> {
        self.sqs
            .drain(&self.queue_url, Duration::from_secs(1))
            .await
            .expect("queue drains")
    }

    /// GET a path, returning status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the ingress answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }
}

/// Sends `request` and reads what the ingress answered.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the ingress answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({ "raw": text }));
    Answer {
        status,
        retry_after,
        json,
    }
}
