//! End-to-end benchmarks of the fleet on this machine (not tests: they print numbers).
//!
//! ```text
//! scripts/bench-fleet.sh realtime   # signed POSTs → ingress → SQS → bridge → realtime → sfsim
//! scripts/bench-fleet.sh bulk       # 100,000 queued low-priority events → bulk → sfsim
//! scripts/bench-fleet.sh outbound --rate 50   # Contacts in sfsim → outbound → stripesim
//! ```
//!
//! Realtime: open-loop POSTs of `payment_intent.succeeded` events (each a new customer, so
//! each creates a customer stub and a transaction) at `--rate` for `--duration` seconds,
//! with the simulator adding `--latency-ms` to every API call. End-to-end latency of an
//! event is the simulator's time of the transaction's first write minus the time its POST
//! was due. Bulk: the low stream is filled first (with the bridge's own enqueue script),
//! then one `workers bulk` replica drains it; the time is from its start to the last record.
//! Both report Salesforce API calls per 1,000 events and check that nothing was lost or
//! written twice.
//!
//! Modules: `fleet` starts the processes on free ports, `realtime` and `bulk` are the two
//! benchmarks.

mod bulk;
mod fleet;
mod outbound;
mod realtime;

/// The endpoint secret the benchmark's ingress verifies and its POSTs are signed with.
const SECRET: &str = "whsec_bench_fleet";

/// Command-line options: the mode (`realtime` or `bulk`) and `--flag value` pairs.
#[derive(Debug)]
struct Args {
    /// `realtime` or `bulk`.
    mode: String,
    /// Realtime: POSTs per second.
    rate: u64,
    /// Realtime: seconds of sending.
    duration: u64,
    /// Realtime: milliseconds the simulator adds to every API call.
    latency_ms: u64,
    /// Bulk: events queued on the low stream.
    events: usize,
    /// Worker replicas (realtime or bulk).
    replicas: usize,
    /// Realtime: run on a Redis Cluster (three masters, a replica each).
    cluster: bool,
}

/// Parses the command line; a flag with an unparsable value panics with its usage.
fn args() -> Args {
    let mut args = Args {
        mode: "realtime".into(),
        rate: 500,
        duration: 20,
        latency_ms: 50,
        events: 100_000,
        replicas: 2,
        cluster: false,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < raw.len() {
        let value = raw.get(i + 1).cloned().unwrap_or_default();
        match raw[i].as_str() {
            "--rate" => args.rate = value.parse().expect("--rate N"),
            "--duration" => args.duration = value.parse().expect("--duration SECS"),
            "--latency-ms" => args.latency_ms = value.parse().expect("--latency-ms N"),
            "--events" => args.events = value.parse().expect("--events N"),
            "--replicas" => args.replicas = value.parse().expect("--replicas N"),
            "--cluster" => {
                args.cluster = true;
                i += 1;
                continue;
            }
            mode => {
                args.mode = mode.to_owned();
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    args
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    match args.mode.as_str() {
        "realtime" => realtime::realtime(&args).await,
        "bulk" => bulk::bulk(&args).await,
        "outbound" => outbound::outbound(&args).await,
        other => panic!("unknown mode {other}: realtime | bulk | outbound"),
    }
}
