//! The processes a benchmark runs against, each on a free port of its own: Redis, the SQS
//! emulator, the simulator (in process), and the project's binaries with the environment
//! they need. Dropping a handle kills its process.

use std::time::Duration;

use serde_json::Value;
use sfsim::{FaultConfig, RunningSimulator, SimConfig, Simulator};
use testkit::harness::{self, RedisCluster, RedisServer, ServiceProcess, SqsEmulator};

use crate::{Args, SECRET};

/// The realtime path: ingress → SQS → bridge → realtime replicas → simulator. Fields drop
/// (and kill their processes) in declaration order: workers first, Redis last.
pub struct RealtimeFleet {
    /// The realtime replicas.
    _realtime: Vec<ServiceProcess>,
    /// The bridge from SQS to the Redis streams.
    _bridge: ServiceProcess,
    /// The ingress.
    _ingress: ServiceProcess,
    /// The simulated Salesforce org.
    _sim: RunningSimulator,
    /// The SQS emulator.
    _sqs: SqsEmulator,
    /// Redis, also read afterwards for the lifecycle records.
    pub redis: BenchRedis,
    /// The simulator's base URL.
    pub sim_url: String,
    /// The ingress's base URL.
    pub base: String,
}

impl RealtimeFleet {
    /// Starts everything, the simulator adding `args.latency_ms` to every API call, with
    /// `args.replicas` realtime replicas, and waits for the ingress to be ready.
    pub async fn start(args: &Args) -> Self {
        let redis = if args.cluster {
            BenchRedis::Cluster(RedisCluster::start().await.expect("redis cluster"))
        } else {
            BenchRedis::Node(RedisServer::start().await.expect("redis"))
        };
        let sqs = SqsEmulator::start().await.expect("emulator");
        let queue = sqs.create_queue("bench-events").await.expect("queue");
        let mut config = SimConfig::on_free_port();
        config.faults = FaultConfig {
            latency_ms: args.latency_ms,
            ..FaultConfig::default()
        };
        let sim = Simulator::start(config).await.expect("sfsim");
        let sim_url = sim.base_url().to_owned();
        let mut aws: Vec<(String, String)> = sqs
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        aws.push(("SQS_QUEUE_URL".into(), queue.clone()));
        aws.push(("RUST_LOG".into(), "warn".into()));
        let ingress_port = harness::free_port();
        let mut ingress_env = aws.clone();
        ingress_env.push(("LISTEN_ADDR".into(), format!("127.0.0.1:{ingress_port}")));
        ingress_env.push(("STRIPE_WEBHOOK_SECRETS".into(), SECRET.into()));
        let _ingress = spawn("ingress", "ingress", &[], &ingress_env);
        let mut bridge_env = aws.clone();
        bridge_env.extend(worker_env(&redis.url(), &sim_url, "bridge", 0));
        // `BRIDGE_WAIT_REPLICAS=1 scripts/bench-fleet.sh realtime --cluster`: the cost of WAIT.
        if let Ok(replicas) = std::env::var("BRIDGE_WAIT_REPLICAS") {
            bridge_env.push(("BRIDGE_WAIT_REPLICAS".into(), replicas));
        }
        let _bridge = spawn("bridge", "workers", &["bridge"], &bridge_env);
        let _realtime: Vec<ServiceProcess> = (0..args.replicas)
            .map(|n| {
                spawn(
                    "realtime",
                    "workers",
                    &["realtime"],
                    &worker_env(&redis.url(), &sim_url, "realtime", n),
                )
            })
            .collect();
        let base = format!("http://127.0.0.1:{ingress_port}");
        harness::wait_for_http(&format!("{base}/health/ready"), Duration::from_secs(30))
            .await
            .expect("ingress ready");
        Self {
            _realtime,
            _bridge,
            _ingress,
            _sim: sim,
            _sqs: sqs,
            redis,
            sim_url,
            base,
        }
    }
}

/// The Redis a benchmark runs on: one server, or a cluster of three masters with a
/// replica each (`--cluster`).
pub enum BenchRedis {
    /// One `redis-server`.
    Node(RedisServer),
    /// A six-node cluster.
    Cluster(RedisCluster),
}

impl BenchRedis {
    /// The `REDIS_URL` of the fleet.
    pub fn url(&self) -> String {
        match self {
            Self::Node(server) => server.url(),
            Self::Cluster(cluster) => cluster.url(),
        }
    }

    /// Each node's own URL, for per-node counters.
    pub fn node_urls(&self) -> Vec<String> {
        match self {
            Self::Node(server) => vec![server.url()],
            Self::Cluster(cluster) => cluster.url().split(',').map(str::to_owned).collect(),
        }
    }
}

/// The environment of a worker replica `role-n` against `redis` and the simulator at
/// `sim_url` (a budget of 100 calls per window, quiet logs).
pub fn worker_env(redis_url: &str, sim_url: &str, role: &str, n: usize) -> Vec<(String, String)> {
    vec![
        ("REDIS_URL".into(), redis_url.to_owned()),
        (
            "METRICS_ADDR".into(),
            format!("127.0.0.1:{}", harness::free_port()),
        ),
        ("WORKER_ID".into(), format!("{role}-{n}")),
        ("SALESFORCE_LOGIN_URL".into(), sim_url.to_owned()),
        (
            "SALESFORCE_CLIENT_ID".into(),
            sfsim::DEFAULT_CLIENT_ID.into(),
        ),
        (
            "SALESFORCE_CLIENT_SECRET".into(),
            sfsim::DEFAULT_CLIENT_SECRET.into(),
        ),
        ("SF_CALLS_PER_WINDOW".into(), "100".into()),
        ("RUST_LOG".into(), "warn".into()),
    ]
}

/// Starts the project binary `binary` with `args` and `env`; its log is named `name`.
pub fn spawn(name: &str, binary: &str, args: &[&str], env: &[(String, String)]) -> ServiceProcess {
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ServiceProcess::spawn(name, harness::binary(binary), args, &refs).expect("process starts")
}

/// `GET url` of the simulator as JSON (panics if it does not answer: a benchmark stops).
pub async fn sim_get(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("sfsim")
        .json()
        .await
        .expect("json")
}

/// Redis's own counters (`INFO stats`): commands executed, scripts' inner calls included,
/// and requests read from clients, which is what a round trip costs the server.
pub struct RedisStats {
    /// `total_commands_processed`.
    pub commands: u64,
    /// `total_reads_processed`.
    pub reads: u64,
}

/// Reads [`RedisStats`] from the server at `url`.
pub async fn redis_stats(url: &str) -> RedisStats {
    let mut conn = workers::store::connect(url).expect("redis");
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .expect("INFO stats");
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    };
    RedisStats {
        commands: field("total_commands_processed"),
        reads: field("total_reads_processed"),
    }
}
