//! Both simulators and Redis for `workers outbound`: a person at the org making changes over
//! REST, the outbound binary pointed at sfsim's Pub/Sub API and at stripesim, and readers of
//! what came out on each side. [`Org::start_inbound`] adds the Stripe → Salesforce half
//! (stripesim's webhooks → ingress → SQS → bridge → realtime and bulk), for the whole loop.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::harness::{self, RedisServer, ServiceProcess};

use super::{sim::Sim, BridgeStack};

/// The inbound half against an [`Org`]'s simulators: its own Redis and SQS emulator, the
/// ingress receiving stripesim's signed webhooks, a bridge, a realtime and a bulk replica.
pub struct Inbound {
    /// Redis and the SQS emulator of the inbound half.
    pub stack: BridgeStack,
    /// ingress, bridge, realtime, bulk.
    pub processes: Vec<ServiceProcess>,
}

impl Inbound {
    /// The tail of every process's log, for a failure message.
    pub fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|process| {
                let log = process.log_contents();
                let lines: Vec<&str> = log.lines().collect();
                format!(
                    "\n--- {}:\n{}",
                    process.name(),
                    lines[lines.len().saturating_sub(15)..].join("\n")
                )
            })
            .collect()
    }
}

/// The Stripe key of the tests.
pub const KEY: &str = "sk_test_outbound";
/// How long a test waits for an effect.
pub const SETTLE: Duration = Duration::from_secs(60);

/// Redis, both simulators, and a place for the Pub/Sub certificate.
pub struct Org {
    pub redis: RedisServer,
    pub salesforce: Sim,
    pub stripe: stripesim::RunningSimulator,
    pub http: reqwest::Client,
    person: String,
    cert: tempfile_path::TempPath,
}

mod tempfile_path {
    /// A file removed when dropped.
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

impl Org {
    pub async fn start() -> Self {
        let redis = RedisServer::start().await.expect("redis starts");
        // Keep-alives every 200 ms: an idle subscription stores its position quickly.
        let mut sf_config = sfsim::SimConfig::on_free_port();
        sf_config.pubsub.keepalive = Duration::from_millis(200);
        let salesforce = Sim::start_with(sf_config).await;
        let mut config = stripesim::SimConfig::on_free_port();
        config.api_key = Some(KEY.into());
        let stripe = stripesim::Simulator::start(config)
            .await
            .expect("stripesim starts");
        let http = harness::http_client();
        let cert = std::env::temp_dir().join(format!("sfsim-pubsub-{}.pem", harness::free_port()));
        std::fs::write(
            &cert,
            salesforce.sim.pubsub_cert_pem().expect("Pub/Sub is served"),
        )
        .expect("certificate written");
        // A person at the org (not the integration user), logged in with the password flow.
        let token: Value = http
            .post(salesforce.sim.token_url())
            .form(&[
                ("grant_type", "password"),
                ("client_id", salesforce.sim.client_id()),
                ("client_secret", salesforce.sim.client_secret()),
                ("username", sfsim::config::ADMIN_USERNAME),
                ("password", sfsim::config::ADMIN_PASSWORD),
            ])
            .send()
            .await
            .expect("token endpoint")
            .json()
            .await
            .expect("token JSON");
        let person = token["access_token"].as_str().expect("a token").to_owned();
        Self {
            redis,
            salesforce,
            stripe,
            http,
            person,
            cert: tempfile_path::TempPath(cert),
        }
    }

    pub async fn outbound(&self, extra: &[(&str, &str)]) -> ServiceProcess {
        self.outbound_with_port(extra).await.0
    }

    /// [`Self::outbound`], also answering the port of its `/metrics`.
    pub async fn outbound_with_port(&self, extra: &[(&str, &str)]) -> (ServiceProcess, u16) {
        let metrics_port = harness::free_port();
        let mut env: Vec<(String, String)> = self.salesforce.env();
        env.extend([
            ("REDIS_URL".to_owned(), self.redis.url()),
            (
                "METRICS_ADDR".to_owned(),
                format!("127.0.0.1:{metrics_port}"),
            ),
            ("WORKER_ID".to_owned(), format!("outbound-{metrics_port}")),
            ("RUST_LOG".to_owned(), "info".to_owned()),
            ("STRIPE_API_KEY".to_owned(), KEY.to_owned()),
            (
                "STRIPE_API_BASE".to_owned(),
                self.stripe.base_url().to_owned(),
            ),
            (
                "PUBSUB_URL".to_owned(),
                self.salesforce.sim.pubsub_url().expect("Pub/Sub URL"),
            ),
            (
                "PUBSUB_CA_FILE".to_owned(),
                self.cert.0.display().to_string(),
            ),
            ("PUBSUB_TLS_DOMAIN".to_owned(), "localhost".to_owned()),
            ("OUTBOUND_LINGER_MS".to_owned(), "50".to_owned()),
            ("OUTBOUND_LEASE_MS".to_owned(), "2000".to_owned()),
            ("RETRY_DELAYS_SECS".to_owned(), "1,1".to_owned()),
            ("RECLAIM_IDLE_MS".to_owned(), "3000".to_owned()),
            ("CLAIM_TTL_MS".to_owned(), "2000".to_owned()),
        ]);
        for (key, value) in extra {
            env.retain(|(k, _)| k != key);
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let process = ServiceProcess::spawn(
            "outbound",
            env!("CARGO_BIN_EXE_workers"),
            &["outbound"],
            &env,
        )
        .expect("outbound starts");
        harness::wait_for_http(
            &format!("http://127.0.0.1:{metrics_port}/health/live"),
            Duration::from_secs(20),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", process.log_contents()));
        (process, metrics_port)
    }

    /// Starts the inbound half: a webhook endpoint in stripesim (Stripe's dashboard step; its
    /// secret is shown once) for a new ingress, then the bridge and both consumers.
    pub async fn start_inbound(&self) -> Inbound {
        let stack = BridgeStack::start(false).await;
        let ingress_port = harness::free_port();
        let url = format!("http://127.0.0.1:{ingress_port}/webhook/stripe");
        let endpoint = self
            .stripe_form(
                "/v1/webhook_endpoints",
                &[("url", url.as_str()), ("enabled_events[]", "*")],
            )
            .await;
        let secret = endpoint["secret"].as_str().expect("the signing secret");
        let mut env: Vec<(&str, String)> = stack.sqs.env();
        env.push(("SQS_QUEUE_URL", stack.queue_url.clone()));
        env.push(("LISTEN_ADDR", format!("127.0.0.1:{ingress_port}")));
        env.push(("STRIPE_WEBHOOK_SECRETS", secret.to_owned()));
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ingress = ServiceProcess::spawn("ingress", harness::binary("ingress"), &[], &env_refs)
            .expect("ingress starts");
        harness::wait_for_http(
            &format!("http://127.0.0.1:{ingress_port}/health/ready"),
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", ingress.log_contents()));
        let bridge = stack.start_bridge(&[]).await;
        let realtime = stack
            .start_consumer("realtime", &self.salesforce, &[])
            .await;
        let bulk = stack
            .start_consumer("bulk", &self.salesforce, &[("BULK_BATCH_AGE_MS", "300")])
            .await;
        Inbound {
            stack,
            processes: vec![ingress, bridge, realtime, bulk],
        }
    }

    /// Waits until `object` holds a record whose `field` is `value` and which satisfies
    /// `done`, and returns it; `logs` explains a timeout.
    pub async fn record_where(
        &self,
        object: &str,
        field: &str,
        value: &str,
        done: impl Fn(&Value) -> bool,
        logs: impl Fn() -> String,
    ) -> Value {
        harness::wait_for(&format!("{object} {value} as expected"), SETTLE, || async {
            self.salesforce
                .record_by(object, field, value)
                .await
                .filter(|record| done(record))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; processes: {}", logs()))
    }

    /// Waits until the subscriber holds the channel (its lease is in Redis).
    pub async fn wait_subscribed(&self, process: &ServiceProcess) {
        let client = redis::Client::open(self.redis.url()).expect("redis URL");
        harness::wait_for("the Contact channel's lease", SETTLE, || async {
            let mut conn = client.get_multiplexed_async_connection().await.ok()?;
            let holder: Option<String> = redis::cmd("GET")
                .arg("{fleet}:outbound:lease:/data/ContactChangeEvent")
                .query_async(&mut conn)
                .await
                .ok()?;
            let replay: Option<String> = redis::cmd("HGET")
                .arg("{fleet}:outbound:replay:/data/ContactChangeEvent")
                .arg("replay_id")
                .query_async(&mut conn)
                .await
                .ok()?;
            holder.and(replay)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", process.log_contents()));
    }

    /// A REST call as the person.
    pub async fn person_call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!(
            "{}/services/data/v62.0{path}",
            self.salesforce.sim.base_url()
        );
        let reply = self
            .http
            .request(method, url)
            .bearer_auth(&self.person)
            .json(&body)
            .send()
            .await
            .expect("sfsim answers");
        let status = reply.status();
        let text = reply.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn insert_contact(&self, email: &str, last: &str) -> String {
        let created = self
            .person_call(
                reqwest::Method::POST,
                "/sobjects/Contact",
                json!({"FirstName": "Ada", "LastName": last, "Email": email, "Phone": "555-0100"}),
            )
            .await;
        created["id"].as_str().expect("an id").to_owned()
    }

    pub async fn contact(&self, id: &str) -> Option<Value> {
        self.salesforce.record_by("Contact", "Id", id).await
    }

    /// Waits until the Contact carries a Stripe customer id, and returns it.
    pub async fn customer_of(&self, id: &str, processes: &[&ServiceProcess]) -> String {
        harness::wait_for(
            &format!("Contact {id} with a customer id"),
            SETTLE,
            || async {
                self.contact(id).await.and_then(|contact| {
                    contact["Stripe_Customer_ID__c"].as_str().map(str::to_owned)
                })
            },
        )
        .await
        .unwrap_or_else(|e| {
            let logs: String = processes.iter().map(|p| p.log_contents()).collect();
            panic!("{e}; logs: {logs}")
        })
    }

    /// A form `POST` to stripesim, as a Stripe user would in the dashboard.
    pub async fn stripe_form(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let reply = self
            .http
            .post(format!("{}{path}", self.stripe.base_url()))
            .bearer_auth(KEY)
            .form(form)
            .send()
            .await
            .expect("stripesim answers");
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.expect("JSON")
    }

    /// Every customer in stripesim, read through its admin view (works during an outage).
    pub async fn stripe_customers_unfaulted(&self) -> Vec<Value> {
        let faults: Value = self
            .http
            .get(format!("{}/__sim/faults", self.stripe.base_url()))
            .send()
            .await
            .expect("stripesim answers")
            .json()
            .await
            .expect("faults");
        self.http
            .delete(format!("{}/__sim/faults", self.stripe.base_url()))
            .send()
            .await
            .expect("stripesim answers");
        let customers = self.stripe_customers().await;
        self.http
            .put(format!("{}/__sim/faults", self.stripe.base_url()))
            .json(&faults)
            .send()
            .await
            .expect("stripesim answers");
        customers
    }

    /// Every customer in stripesim.
    pub async fn stripe_customers(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/customers?limit=100", self.stripe.base_url());
            if let Some(after) = &after {
                url.push_str(&format!("&starting_after={after}"));
            }
            let page: Value = self
                .http
                .get(url)
                .bearer_auth(KEY)
                .send()
                .await
                .expect("stripesim answers")
                .json()
                .await
                .expect("a list");
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data
                .last()
                .and_then(|c| c["id"].as_str())
                .map(str::to_owned);
            all.extend(data);
            if page["has_more"] != true {
                return all;
            }
        }
    }
}
