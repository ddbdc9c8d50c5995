#!/usr/bin/env bash
# Load test of the whole fleet: starts it (as scripts/demo.sh does) unless --running is
# given, drives `loadgen e2e` with a realistic mix, and checks the outcome in Salesforce
# (the simulator): nothing lost, nothing applied twice, every record at its newest event.
#   scripts/loadtest.sh [--running] [loadgen e2e options, e.g. --rate 200 --duration 20
#                        --duplicates 0.05 --out-of-order 0.1
#                        --mix payments=2,customers=1,subscriptions=1]
# Report: target/bench/loadtest.json; chart of latency over time by event kind, with calls per
# second and the limiter's budget: target/bench/loadtest.png and target/bench/loadtest.svg.
# See `target/release/loadgen e2e --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sqs-lib.sh

running=0
if [ "${1:-}" = "--running" ]; then running=1; shift; fi

scripts/setup-test-deps.sh >/dev/null
cargo build --release -q -p ingress -p workers -p testkit -p sfsim -p stripesim \
  --bin ingress --bin workers --bin sfsim --bin stripesim --bin loadgen
mkdir -p target/bench

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
if [ "$running" = 0 ]; then
  source scripts/fleet-lib.sh
  start_fleet
fi
listen=${LISTEN_ADDR:-127.0.0.1:8000}
sim=http://127.0.0.1:${SFSIM_PORT:-7700}
STRIPE_WEBHOOK_SECRETS=${STRIPE_WEBHOOK_SECRETS:-whsec_demo_secret_change_me} \
  target/release/loadgen e2e --url "http://$listen/webhook/stripe" --sim "$sim" \
  --report target/bench/loadtest.json --chart target/bench/loadtest.png "$@"
