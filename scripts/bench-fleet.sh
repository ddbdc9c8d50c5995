#!/usr/bin/env bash
# End-to-end benchmarks of the fleet against the simulator (not tests; they print numbers).
#   scripts/bench-fleet.sh realtime [--rate 500 --duration 20 --latency-ms 50 --replicas 2 --cluster]
#   scripts/bench-fleet.sh bulk     [--events 100000 --replicas 1]
#   scripts/bench-fleet.sh outbound --rate 50 [--duration 20 --latency-ms 50]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-deps.sh >/dev/null
cargo build --release -q -p ingress -p workers --bins
exec cargo run --release -q -p workers --example bench_e2e -- "$@"
