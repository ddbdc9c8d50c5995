//! Shared helpers of the stripe-client tests: a real stripesim on a free port, and a gate
//! that counts what it admits.
#![expect(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use stripe_client::{
    gate::GateFuture, ApiKey, FailureClass, RequestGate, StripeClient, StripeSettings,
};
use stripesim::{RunningSimulator, SimConfig, Simulator};

/// The key the tests use.
pub const KEY: &str = "sk_test_stripe_client_tests";

/// A gate that admits everything, counts each request attempt and keeps how each ended.
#[derive(Default)]
pub struct CountingGate {
    admitted: AtomicUsize,
    outcomes: Mutex<Vec<Option<FailureClass>>>,
}

impl CountingGate {
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::SeqCst)
    }

    /// What the client reported after each attempt, in order (`None`: success).
    pub fn outcomes(&self) -> Vec<Option<FailureClass>> {
        self.outcomes.lock().expect("not poisoned").clone()
    }
}

impl RequestGate for CountingGate {
    fn admit(&self) -> GateFuture<'_> {
        self.admitted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn attempted(&self, failure: Option<FailureClass>) {
        self.outcomes.lock().expect("not poisoned").push(failure);
    }
}

/// A simulator accepting only [`KEY`], a client for it, and the client's gate.
pub struct Setup {
    pub sim: RunningSimulator,
    pub client: StripeClient,
    pub gate: Arc<CountingGate>,
}

impl Setup {
    pub async fn start() -> Setup {
        Self::start_with(|_| {}).await
    }

    /// `tune` adjusts the client's settings (retries, key, ...).
    pub async fn start_with(tune: impl FnOnce(&mut StripeSettings)) -> Setup {
        let mut config = SimConfig::on_free_port();
        config.api_key = Some(KEY.to_owned());
        let sim = Simulator::start(config).await.expect("stripesim starts");
        let mut settings = StripeSettings::new(ApiKey::new(KEY).expect("a test key"))
            .with_api_base(sim.base_url());
        settings.max_retries = 0;
        tune(&mut settings);
        let gate = Arc::new(CountingGate::default());
        let client = StripeClient::new(settings, gate.clone()).expect("a client");
        Setup { sim, client, gate }
    }

    /// Makes the simulator answer the next `count` API requests with 429.
    pub async fn rate_limit_next(&self, count: u64) {
        let status = reqwest::Client::new()
            .put(format!("{}/__sim/faults", self.sim.base_url()))
            .json(&serde_json::json!({ "rate_limit_next": count }))
            .send()
            .await
            .expect("faults call")
            .status();
        assert!(status.is_success(), "setting faults answered {status}");
    }
}
