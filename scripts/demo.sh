#!/usr/bin/env bash
# See it work: builds the binaries, starts the SQS emulator and the ingress, sends a
# realistic mix of signed Stripe events, and prints what reached the queue.
#   scripts/demo.sh            leave the stack running until Ctrl-C
#   scripts/demo.sh --no-wait  stop after the summary
# Ports: ingress LISTEN_ADDR (default 127.0.0.1:8000), emulator SQS_EMULATOR_PORT (9324).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sqs-lib.sh

wait_for_ctrl_c=1
[ "${1:-}" = "--no-wait" ] && wait_for_ctrl_c=0

scripts/setup-test-deps.sh
echo "==> building release binaries"
cargo build --release -q -p ingress -p testkit --bin ingress --bin loadgen

mkdir -p .run
sqs_port=${SQS_EMULATOR_PORT:-9324}
listen=${LISTEN_ADDR:-127.0.0.1:8000}
if curl -s -o /dev/null "http://127.0.0.1:$sqs_port/"; then
  echo "==> reusing the SQS emulator already on :$sqs_port"
else
  start_sqs_emulator "$sqs_port" .run/sqs-emulator.log
  echo "==> SQS emulator on :$sqs_port (pid $SQS_EMULATOR_PID)"
fi
cleanup() { kill ${INGRESS_PID:-} ${SQS_EMULATOR_PID:-} 2>/dev/null || true; }
trap cleanup EXIT

export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port" AWS_REGION=${AWS_REGION:-us-east-1} \
  AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} \
  AWS_EC2_METADATA_DISABLED=true
export SQS_QUEUE_URL=$(create_queue "$AWS_ENDPOINT_URL_SQS" stripe-events)
export STRIPE_WEBHOOK_SECRETS=${STRIPE_WEBHOOK_SECRETS:-whsec_demo_secret_change_me}
LISTEN_ADDR=$listen LOG_FORMAT=${LOG_FORMAT:-json} target/release/ingress >.run/ingress.log 2>&1 &
INGRESS_PID=$!
wait_http "http://$listen/health/ready"
echo "==> ingress on http://$listen (pid $INGRESS_PID), queue $SQS_QUEUE_URL"

echo "==> sending signed events for 3 s at 100/s"
target/release/loadgen ingress --url "http://$listen/webhook/stripe" --rate 100 --duration 3 --purge

echo "==> what the ingress counted (GET /metrics)"
curl -s "http://$listen/metrics" | grep -E '^ingress_requests_total|^ingress_sqs_batch_size_(sum|count)'

if [ "$wait_for_ctrl_c" = 1 ]; then
  echo "==> running; POST signed events to http://$listen/webhook/stripe. Ctrl-C stops."
  wait "$INGRESS_PID"
fi
