#!/usr/bin/env bash
# Benchmark of the ingress alone against the local SQS emulator (not a test).
#   scripts/bench-ingress.sh [RATE] [DURATION_SECS]      RATE 0 = as fast as possible
# Builds release binaries, starts the emulator and the ingress on free ports, runs
# `loadgen ingress` with distinct pre-signed events, and checks that every 2xx is in the queue.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sqs-lib.sh
rate=${1:-2000}
duration=${2:-10}

scripts/setup-test-deps.sh >/dev/null
cargo build --release -q -p ingress -p testkit -p sfsim --bin ingress --bin loadgen

mkdir -p target/bench
sqs_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
ingress_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
start_sqs_emulator "$sqs_port" target/bench/sqs-emulator.log
trap 'kill $SQS_EMULATOR_PID ${INGRESS_PID:-} 2>/dev/null || true' EXIT

export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export SQS_QUEUE_URL=$(create_queue "$AWS_ENDPOINT_URL_SQS" bench-events)
export STRIPE_WEBHOOK_SECRETS=whsec_bench_secret
LISTEN_ADDR="127.0.0.1:$ingress_port" RUST_LOG=${RUST_LOG:-info} \
  target/release/ingress >target/bench/ingress.log 2>&1 &
INGRESS_PID=$!
wait_http "http://127.0.0.1:$ingress_port/health/ready"

echo "==> ingress on :$ingress_port, emulator on :$sqs_port, rate=$rate/s for ${duration}s"
target/release/loadgen ingress --url "http://127.0.0.1:$ingress_port/webhook/stripe" \
  --rate "$rate" --duration "$duration" --report target/bench/ingress-$rate.json
curl -s "http://127.0.0.1:$ingress_port/metrics" | grep -E '^ingress_sqs_batch_size_(sum|count)' || true
