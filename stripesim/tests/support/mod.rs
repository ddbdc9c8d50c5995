//! Shared helpers of the stripesim tests (included with `#[path]` by each test file).
//! Everything goes over real HTTP.
#![expect(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::Value;
use stripesim::{RunningSimulator, SimConfig, Simulator};

/// The key the tests use (any `sk_test_…` key is accepted by default).
pub const KEY: &str = "sk_test_stripesim_tests";

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// `error.type`, `error.code` of a Stripe error body.
    pub fn error(&self) -> (&str, &str) {
        let error = &self.body["error"];
        (
            error["type"].as_str().unwrap_or(""),
            error["code"].as_str().unwrap_or(""),
        )
    }

    /// The `id` of the object answered.
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_string()
    }
}

/// A running simulator and a client with the test key.
pub struct Sim {
    pub sim: RunningSimulator,
    pub client: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        Self::start_with(SimConfig::on_free_port()).await
    }

    pub async fn start_with(config: SimConfig) -> Sim {
        let sim = Simulator::start(config).await.expect("simulator starts");
        Sim {
            sim,
            client: testkit::harness::http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// Sends with the test key; `form` as the form-encoded body (POST) or query (GET).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(KEY);
        request = if method == Method::GET {
            request.query(form)
        } else {
            request.form(form)
        };
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        read(request.send().await.expect("request is answered")).await
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, path, form, None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// Creates a customer; it must succeed. Returns its id.
    pub async fn customer(&self, form: &[(&str, &str)]) -> String {
        let reply = self.post("/v1/customers", form).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.id()
    }

    /// `/__sim/` calls (no key needed); `body` as JSON.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("admin request is answered")).await
    }
}

/// Reads a response whole; the body as JSON when it is JSON.
pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body is readable");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// The ids of a list's `data`.
pub fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    pub body: Bytes,
}

#[derive(Default)]
struct Inbox {
    failures_left: usize,
    received: Vec<Received>,
}

/// A tiny webhook receiver: records every POST and answers 500 to the first
/// `failures` of them, 200 afterwards.
pub struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            failures_left: failures,
            received: Vec::new(),
        }));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver binds");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            url,
            inbox,
            _server: server,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().received.clone()
    }
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut inbox = inbox.lock();
    inbox.received.push(Received { signature, body });
    if inbox.failures_left > 0 {
        inbox.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}
